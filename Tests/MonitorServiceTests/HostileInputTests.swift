import Foundation
import HTTPClient
import JobwatchTestSupport
import XCTest

/// Requests schemathesis (OpenAPITests) found handled wrongly, against a real jobmond: each was
/// taken, and stored changed, or answered with something docs/openapi.yaml does not allow.
final class HostileInputTests: NightlyMonitorTestCase {
    private func post(_ path: String, _ body: String, token: String = "report-token") throws -> HTTPSession.Response {
        try h.request("POST", path, token: token, body: Array(body.utf8))
    }

    /// Hummingbird answered 404, as for an unknown path.
    func testAKnownPathAskedWithAnotherMethodAnswers405WithAllow() throws {
        for (method, path, allow) in [("DELETE", "/api/v1/jobs/nightly", "GET, HEAD, PUT"), ("TRACE", "/healthz", "GET, HEAD"),
                                      ("GET", "/api/v1/jobs/nightly/pause", "POST"), ("QUERY", "/metrics", "GET, HEAD"),
                                      ("PATCH", "/ping/nightly/3", "GET, HEAD, POST")] {
            let r = try h.request(method, path, token: nil)
            XCTAssertEqual(r.status, 405, "\(method) \(path)")
            XCTAssertEqual(r.headers["allow"], allow, "\(method) \(path)")
            XCTAssertEqual(r.text, #"{"error":"method not allowed"}"#)
        }
        XCTAssertEqual(try h.request("DELETE", "/api/v1/nothing", token: nil).status, 404)
        let head = try Command.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-I", "http://127.0.0.1:\(h.port)/healthz"])
        XCTAssertEqual(head.stdoutText, "200", "HEAD is served wherever GET is: \(head.stderrText)")
    }

    /// 2^63 arrived wrapped to -2^63 and was stored so; 1.0 is an integer to JSON Schema.
    func testIntegersAreTakenExactlyOrRefused() throws {
        for number in ["9223372036854775808", "18446744073709551615", "9007199254740992", "-9007199254740992", "1.5", "true"] {
            let r = try post("/api/v1/jobs/nightly/runs/r1/start", #"{"host": "web1", "pid": \#(number)}"#)
            XCTAssertEqual(r.status, 400, number)
            XCTAssertEqual(error(of: r), "pid: expected an integer from -9007199254740991 to 9007199254740991", number)
        }
        for (number, run) in [("9007199254740991", "max"), ("229650642.0", "point-zero"), ("-179.0", "negative"), ("1e3", "exponent")] {
            XCTAssertEqual(try post("/api/v1/jobs/nightly/runs/\(run)/finish", #"{"host": "web1", "exit_code": \#(number)}"#).status, 202, number)
        }
        XCTAssertTrue(waitUntil(timeout: 5) { ((try? self.h.json("/api/v1/jobs/nightly/runs"))?["runs"] as? [Any])?.count == 4 })
        let codes = (try h.json("/api/v1/jobs/nightly/runs")["runs"] as? [[String: Any]] ?? []).compactMap { $0["exit_code"] as? Int }
        XCTAssertEqual(Set(codes), [9_007_199_254_740_991, 229_650_642, -179, 1000])
    }

    /// `until` in year 10000 in UTC could not be written back, and the pause silently had no end.
    func testTimesOutsideYears0000To9999InUTCAreRefused() throws {
        var r = try post("/api/v1/jobs/nightly/pause", #"{"until": "9999-12-31T23:59:59-23:59"}"#, token: "ops-token")
        XCTAssertEqual(r.status, 400)
        XCTAssertTrue(error(of: r).hasPrefix("until: expected an RFC 3339 time"), error(of: r))
        for time in ["0000-01-01T00:00:00+01:00", "4439-10-30T00:59:60.781311-23:25"] {
            r = try post("/api/v1/jobs/nightly/runs/r1/start", #"{"host": "web1", "started_at": "\#(time)"}"#)
            XCTAssertEqual(r.status, 400, time)
        }
        r = try post("/api/v1/jobs/nightly/pause", #"{"until": "9999-12-31T23:59:59+01:00"}"#, token: "ops-token")
        XCTAssertEqual(r.text, #"{"job":"nightly","paused_until":"9999-12-31T22:59:59.000Z","status":"pause accepted"}"#)
    }

    /// The default `from`, 7 days before a `to` in year 0000, was written "00-1-12-26T00:00:00+00:00".
    func testAReportThatWouldStartBeforeYear0000IsRefused() throws {
        var r = try h.request("GET", "/api/v1/report?to=0000-01-02T00:00:00Z")
        XCTAssertEqual(r.status, 400)
        XCTAssertEqual(error(of: r), "from: needed when to is within 7 days of year 0000")
        r = try h.request("GET", "/api/v1/report?from=0000-01-01T00:00:00Z&to=0000-01-02T00:00:00Z")
        XCTAssertEqual(r.status, 200)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        XCTAssertEqual(report["from"] as? String, "0000-01-01T00:00:00+00:00")
    }

    /// A finish without a start starts `duration_ms` before it ends: 2^53 ms back was year -283400.
    func testAFinishWithAnAgesLongDurationStartsInYear0000() throws {
        let finish = #"{"host": "web1", "finished_at": "2026-03-29T01:30:00Z", "duration_ms": 9007199254740991}"#
        XCTAssertEqual(try post("/api/v1/jobs/nightly/runs/ages/finish", finish).status, 202)
        XCTAssertTrue(waitUntil(timeout: 5) { (self.h.job("nightly")?["last_run"] as? [String: Any])?["run_id"] as? String == "ages" })
        let run = try XCTUnwrap(h.job("nightly")?["last_run"] as? [String: Any])
        XCTAssertEqual(run["started_at"] as? String, "0000-01-01T00:00:00.000Z")
        XCTAssertEqual(run["finished_at"] as? String, "2026-03-29T01:30:00.000Z")
    }
}
