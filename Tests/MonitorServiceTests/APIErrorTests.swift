import Foundation
import HTTPClient
import JobwatchTestSupport
import XCTest

/// The API's refusals and intake, against a real jobmond (SPEC §3.2).
final class APIErrorTests: NightlyMonitorTestCase {
    func testTokensAndScopes() throws {
        let path = "/api/v1/jobs/nightly/runs/r1/start"
        let body = Array(#"{"host":"web1"}"#.utf8)
        var r = try h.request("POST", path, token: nil, body: body)
        XCTAssertEqual(r.status, 401)
        XCTAssertTrue(error(of: r).contains("missing bearer token"), error(of: r))
        r = try h.request("POST", path, token: "wrong-token", body: body)
        XCTAssertEqual(r.status, 401)
        XCTAssertEqual(error(of: r), "invalid token")
        r = try h.request("POST", path, token: "read-token", body: body)
        XCTAssertEqual(r.status, 403)
        XCTAssertTrue(error(of: r).contains("lacks the report scope"))
        XCTAssertEqual(try h.request("POST", path, token: "report-token", body: body).status, 202)
        XCTAssertEqual(try h.request("GET", "/api/v1/jobs", token: "report-token").status, 403)
        XCTAssertEqual(try h.request("GET", "/api/v1/jobs", token: "read-token").status, 200)
        XCTAssertEqual(try h.request("POST", "/api/v1/jobs/nightly/pause", token: "read-token", body: []).status, 403)
        XCTAssertEqual(try h.request("GET", "/healthz", token: nil).status, 200)
        // /ping takes the token in the query string too, and only there.
        XCTAssertEqual(try h.request("GET", "/ping/nightly?token=report-token", token: nil).status, 202)
        XCTAssertEqual(try h.request("GET", "/ping/nightly?token=nope", token: nil).status, 401)
        XCTAssertEqual(try h.request("GET", "/api/v1/jobs?token=ops-token", token: nil).status, 401)
        XCTAssertEqual(h.receivers.requests.count, 0)
    }

    func testMalformedBodiesAreRejectedWithTheReason() throws {
        let path = "/api/v1/jobs/nightly/runs/r1/finish"
        var r = try h.request("POST", path, token: "report-token", body: Array(#"{"host": "web1", "exit_code": "#.utf8))
        XCTAssertEqual(r.status, 400)
        XCTAssertTrue(error(of: r).hasPrefix("malformed JSON: "), error(of: r))
        XCTAssertGreaterThan(error(of: r).count, "malformed JSON: ".count + 5)
        let cases: [(String, String)] = [
            (#"[1, 2]"#, "body must be a JSON object"),
            (#"{"host": 7}"#, "host"),
            (#"{"host": "web1", "exit_code": "0"}"#, "exit_code: expected an integer"),
            (#"{"host": "web1", "exit_code": 1.5}"#, "exit_code: expected an integer"),
            (#"{"host": "web1", "exit_code": true}"#, "exit_code: expected an integer"),
            (#"{"host": "web1", "exit_code": 18446744073709551615}"#, "exit_code: expected an integer"),
            (#"{"host": "web1", "signal": 9223372036854775808}"#, "signal: expected an integer"),
            (#"{"host": "web1", "finished_at": "9999-12-31T23:59:59-01:00"}"#, "finished_at: expected an RFC 3339 time"),
            (#"{"host": "web1", "duration_ms": -4}"#, "duration_ms"),
            (#"{"host": "web1", "outcome": "great"}"#, "outcome: must be one of"),
            (#"{"host": "web1", "finished_at": "yesterday"}"#, "finished_at: expected an RFC 3339 time"),
            (#"{"host": "web1", "run_id": "other"}"#, "does not match"),
            (#"{"exit_code": 0}"#, "host: required"),
        ]
        for (body, expected) in cases {
            r = try h.request("POST", path, token: "report-token", body: Array(body.utf8))
            XCTAssertEqual(r.status, 400, body)
            XCTAssertTrue(error(of: r).contains(expected), "\(body): \(error(of: r))")
        }
        let stream = try h.redis.cli("XLEN", "jw:events")
        XCTAssertEqual(stream, "0", "nothing refused may reach the stream")
    }

    func testBodiesOverOneMebibyteGet413() throws {
        let big = [UInt8](repeating: UInt8(ascii: " "), count: 2 << 20)
        let r = try h.request("POST", "/api/v1/jobs/nightly/runs/r1/start", token: "report-token", body: big)
        XCTAssertEqual(r.status, 413)
        XCTAssertTrue(error(of: r).contains("larger than 1048576 bytes"), error(of: r))
        // Just under the limit is fine (whitespace around a valid object).
        var fits = [UInt8](repeating: UInt8(ascii: " "), count: (1 << 20) - 100)
        fits += Array(#"{"host":"web1"}"#.utf8)
        XCTAssertEqual(try h.request("POST", "/api/v1/jobs/nightly/runs/r2/start", token: "report-token", body: fits).status, 202)
    }

    func testOddJobNamesAndRunIDs() throws {
        for name in ["..%2F..%2Fetc%2Fpasswd", "%2E%2E", ".hidden", "-dash", "a%20b", "caf%C3%A9", String(repeating: "x", count: 129), "a%2Fb"] {
            for (method, path, token) in [("GET", "/ping/\(name)?token=report-token", nil as String?),
                                          ("POST", "/api/v1/jobs/\(name)/runs/r1/start", "report-token"),
                                          ("GET", "/api/v1/jobs/\(name)", "ops-token"),
                                          ("PUT", "/api/v1/jobs/\(name)", "ops-token")] {
                let r = try h.request(method, path, token: token, body: method == "GET" ? nil : Array("{}".utf8))
                XCTAssertEqual(r.status, 400, "\(method) \(path)")
                XCTAssertTrue(error(of: r).contains("invalid job name"), error(of: r))
            }
        }
        let r = try h.request("POST", "/api/v1/jobs/nightly/runs/a.b/start", token: "report-token", body: Array("{}".utf8))
        XCTAssertEqual(r.status, 400)
        XCTAssertTrue(error(of: r).contains("invalid run id"))
        XCTAssertEqual(try h.request("GET", "/ping/nightly/banana?token=report-token", token: nil).status, 400)
        XCTAssertEqual(try h.request("GET", "/ping/nightly/256?token=report-token", token: nil).status, 400)
    }

    func testUnknownRoutesAndJobs() throws {
        var r = try h.request("GET", "/api/v1/nothing")
        XCTAssertEqual(r.status, 404)
        XCTAssertEqual(error(of: r), "not found")
        r = try h.request("GET", "/api/v1/jobs/ghost")
        XCTAssertEqual(r.status, 404)
        XCTAssertEqual(error(of: r), "unknown job \"ghost\"")
        XCTAssertEqual(try h.request("GET", "/api/v1/jobs/ghost/runs").status, 404)
        XCTAssertEqual(try h.request("POST", "/api/v1/jobs/ghost/pause", body: []).status, 404)
        XCTAssertEqual(try h.request("POST", "/api/v1/jobs/ghost/resume", body: []).status, 404)
    }

    func testPingAutoRegistersAndPairsStartWithFinish() throws {
        XCTAssertEqual(try h.request("POST", "/ping/backup-db/start?host=db1", token: "report-token", body: []).status, 202)
        usleep(150_000)
        XCTAssertEqual(try h.request("POST", "/ping/backup-db?host=db1", token: "report-token", body: Array("all good\n".utf8)).status, 202)
        XCTAssertTrue(waitUntil(timeout: 5) { (self.h.job("backup-db")?["last_run"] as? [String: Any])?["outcome"] as? String == "success" })
        let job = try XCTUnwrap(h.job("backup-db"))
        XCTAssertEqual(job["state"] as? String, "up")
        XCTAssertTrue(job["schedule"] is NSNull, "auto-registered jobs have no schedule, so are never missed")
        let runs = try h.json("/api/v1/jobs/backup-db/runs")["runs"] as? [[String: Any]] ?? []
        XCTAssertEqual(runs.count, 1, "the start and the finish are one run")
        XCTAssertEqual(runs.first?["host"] as? String, "db1")
        XCTAssertGreaterThanOrEqual((runs.first?["duration_ms"] as? Int) ?? 0, 100)
        XCTAssertEqual(try h.request("GET", "/ping/backup-db/3?token=report-token", token: nil).status, 202)
        XCTAssertTrue(waitUntil(timeout: 5) { self.h.state("backup-db") == "failed" })
    }

    func testReportsDefinitionsAndPause() throws {
        let start = #"{"host":"web1","pid":42,"started_at":"2026-03-29T01:30:00.250Z","scheduled_for":null,"fence":7,"command":"true"}"#
        XCTAssertEqual(try h.request("POST", "/api/v1/jobs/nightly/runs/run-1/start", token: "report-token", body: Array(start.utf8)).status, 202)
        let finish = #"{"host":"web1","finished_at":"2026-03-29T01:30:02.500Z","exit_code":0,"signal":null,"duration_ms":2250,"outcome":"success","output_tail":"done\n"}"#
        XCTAssertEqual(try h.request("POST", "/api/v1/jobs/nightly/runs/run-1/finish", token: "report-token", body: Array(finish.utf8)).status, 202)
        XCTAssertEqual(try h.request("POST", "/api/v1/jobs/nightly/skip", token: "report-token", body: Array(#"{"host":"web2","reason":"lock_held","holder":"web1:42:run-1"}"#.utf8)).status, 202)
        XCTAssertTrue(waitUntil(timeout: 5) { (self.h.job("nightly")?["last_run"] as? [String: Any])?["run_id"] as? String == "run-1" })
        let run = try XCTUnwrap(h.job("nightly")?["last_run"] as? [String: Any])
        XCTAssertEqual(run["started_at"] as? String, "2026-03-29T01:30:00.250Z")
        XCTAssertEqual(run["duration_ms"] as? Int, 2250)
        XCTAssertEqual(run["fence"] as? Int, 7)

        var r = try h.request("PUT", "/api/v1/jobs/registered", body: Array("schedule: \"every 1h\"\ngrace: 1m\nalerts: [nope]\n".utf8))
        XCTAssertEqual(r.status, 400)
        r = try h.request("PUT", "/api/v1/jobs/registered", body: Array("schedule: \"every 1h\"\ngrace: soon\n".utf8))
        XCTAssertEqual(r.status, 400)
        XCTAssertTrue(error(of: r).contains("registered.yaml:2:"), error(of: r))
        XCTAssertEqual(try h.request("PUT", "/api/v1/jobs/registered", token: "read-token", body: Array("schedule: \"every 1h\"\n".utf8)).status, 403)
        XCTAssertEqual(try h.request("PUT", "/api/v1/jobs/registered", body: Array("schedule: \"every 1h\"\ngrace: 1m\n".utf8)).status, 202)
        XCTAssertTrue(waitUntil(timeout: 5) { self.h.job("registered")?["schedule"] as? String == "every 1h" })

        r = try h.request("POST", "/api/v1/jobs/nightly/pause", body: Array(#"{"until":"2001-01-01T00:00:00Z"}"#.utf8))
        XCTAssertEqual(r.status, 400)
        r = try h.request("POST", "/api/v1/jobs/nightly/pause", body: Array(#"{"until":"2099-01-01T00:00:00Z"}"#.utf8))
        XCTAssertEqual(r.status, 202)
        XCTAssertTrue(waitUntil(timeout: 5) { self.h.state("nightly") == "paused" })
        XCTAssertEqual(h.job("nightly")?["paused_until"] as? String, "2099-01-01T00:00:00.000Z")
        XCTAssertEqual(try h.request("POST", "/api/v1/jobs/nightly/resume", body: []).status, 202)
        XCTAssertTrue(waitUntil(timeout: 5) { self.h.state("nightly") != "paused" })
    }
}
