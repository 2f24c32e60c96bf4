import Foundation
import JobwatchCore
import JobwatchTestSupport
import RedisLease
import XCTest

/// The real `jobrun` and `jobctl` binaries reporting to a real Redis and a loopback monitor.
final class JobrunReportingTests: XCTestCase {
    func testARunAppendsStartAndFinishToTheStream() throws {
        let h = try ReportingHarness()
        try "schedule: \"* * * * *\"\ngrace: 60s\n".write(toFile: h.jobsDir + "/streamed.yaml", atomically: true, encoding: .utf8)
        let r = try h.jobrun(["--host", "web1", "streamed", "--", "/bin/sh", "-c", "echo out; sleep 0.1; echo err >&2; exit 3"])
        XCTAssertEqual(r.status, 3, r.stderrText)
        XCTAssertEqual(r.stderrText, "err\n", "reporting adds nothing to the job's own output")
        let events = try h.events()
        XCTAssertEqual(events.map { $0["type"] }, ["start", "finish"])
        let start = events[0], finish = events[1]
        XCTAssertEqual(start["job"], "streamed")
        XCTAssertEqual(start["host"], "web1")
        XCTAssertEqual(finish["run_id"], start["run_id"])
        XCTAssertEqual(start["fence"], try h.redis.cli("GET", "test:fence:streamed"), "the token the lease handed out")
        XCTAssertEqual(start["command"], "/bin/sh -c echo out; sleep 0.1; echo err >&2; exit 3")
        XCTAssertGreaterThan(Int(start["pid"] ?? "") ?? 0, 0)
        XCTAssertTrue(start["scheduled_for"]?.hasSuffix(":00.000Z") == true, start["scheduled_for"] ?? "nil")
        XCTAssertNotNil(start["started_at"].flatMap { $0.count == 24 ? $0 : nil }, "RFC 3339 with ms")
        XCTAssertEqual(finish["exit_code"], "3")
        XCTAssertEqual(finish["signal"], "")
        XCTAssertEqual(finish["outcome"], "failure")
        XCTAssertEqual(finish["output_tail"], "out\nerr\n")
        XCTAssertNotNil(Int(finish["duration_ms"] ?? ""))
        XCTAssertTrue(h.spooled.isEmpty)

        let quiet = try h.jobrun(["--no-monitor", "streamed2", "--", "/bin/true"])
        XCTAssertEqual(quiet.status, 0)
        XCTAssertEqual(try h.events().count, 2, "--no-monitor reports nothing")
    }

    /// A command that cannot be started still reaches the monitor: a failed run, exit 127,
    /// the reason as its output. And the secrets jobrun was given never reach the job.
    func testACommandThatCannotStartReportsAFailureAndSecretsStayWithJobrun() throws {
        let h = try ReportingHarness()
        let missing = try h.jobrun(["ghost", "--", "/nonexistent/command"])
        XCTAssertEqual(missing.status, 127, missing.stderrText)
        let events = try h.events()
        XCTAssertEqual(events.map { $0["type"] }, ["start", "finish"])
        XCTAssertEqual(events[1]["exit_code"], "127")
        XCTAssertEqual(events[1]["outcome"], "failure")
        XCTAssertTrue(events[1]["output_tail"]?.contains("/nonexistent/command") == true, events[1]["output_tail"] ?? "")

        let env = try h.jobrun(["env-dump", "--", "/usr/bin/env"])   // the harness gives jobrun JOBWATCH_TOKEN
        XCTAssertEqual(env.status, 0, env.stderrText)
        XCTAssertFalse(env.stdoutText.contains("JOBWATCH_TOKEN"), env.stdoutText)
        XCTAssertTrue(env.stdoutText.contains("JOBWATCH_RUN_ID="), "the run's own variables are still there")
    }

    func testARunThatFindsTheLockHeldReportsASkipSilently() throws {
        let h = try ReportingHarness()
        try h.redis.cli("SET", "test:lock:busy", "web9:123:someone", "PX", "60000")
        let r = try h.jobrun(["--host", "web2", "busy", "--", "/bin/echo", "never"])
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.stdout.isEmpty && r.stderr.isEmpty, r.stderrText)
        let events = try h.events()
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(events[0]["type"], "skip")
        XCTAssertEqual(events[0]["reason"], "lock_held")
        XCTAssertEqual(events[0]["holder"], "web9:123:someone")
        XCTAssertEqual(events[0]["host"], "web2")
    }

    func testReportsOfRunsDuringARedisOutageAreSpooledThenDeliveredInOrder() throws {
        let h = try ReportingHarness()
        h.redis.stop()
        let down = ["JOBWATCH_ON_REDIS_DOWN": "run"]
        for i in 0..<10 {
            let r = try h.jobrun(["outage", "--", "/bin/echo", "run \(i)"], environment: down)
            XCTAssertEqual(r.status, 0, r.stderrText)
        }
        XCTAssertEqual(h.spooled.count, 20)
        for name in h.spooled {
            let mode = try FileManager.default.attributesOfItem(atPath: h.spoolDir + "/" + name)[.posixPermissions] as? Int
            XCTAssertEqual(mode, 0o600, name)
        }
        try h.replaceRedis()
        let next = try h.jobrun(["outage", "--", "/bin/echo", "back"])
        XCTAssertEqual(next.status, 0, next.stderrText)
        XCTAssertTrue(h.spooled.isEmpty, "\(h.spooled)")
        let events = try h.events()
        XCTAssertEqual(events.count, 22)
        XCTAssertEqual(events.map { $0["type"] ?? "" }, Array(repeating: ["start", "finish"], count: 11).flatMap { $0 })
        for i in 0..<10 {
            XCTAssertEqual(events[2 * i]["run_id"], events[2 * i + 1]["run_id"])
            XCTAssertEqual(events[2 * i + 1]["output_tail"], "run \(i)\n", "in the order the runs happened")
        }
        XCTAssertEqual(events[21]["output_tail"], "back\n")
        let ts = events.map { $0["ts"] ?? "" }
        XCTAssertEqual(ts, ts.sorted())
    }

    func testHTTPReportsRefusedByTheMonitorAreSpooledAndFlushedInOrder() throws {
        let h = try ReportingHarness()
        let monitor = try MonitorReceiver()
        h.monitorURL = monitor.url
        try monitor.answer(500)
        let http = ["JOBWATCH_REPORT": "http", "JOBWATCH_HOST": "spoolhost"]
        for i in 0..<3 {
            let r = try h.jobrun(["viahttp", "--", "/bin/echo", "run \(i)"], environment: http)
            XCTAssertEqual(r.status, 0, r.stderrText)
        }
        XCTAssertEqual(h.spooled.count, 6)
        XCTAssertEqual(try h.events().count, 0, "report: http never touches the stream")
        // Each run after the first found the spool in use and told Redis its depth.
        let redis = RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: h.redis.port))
        func depth() throws -> String? { try redis.command(["HGET", "test:mon:spool", "spoolhost"]).string }
        XCTAssertEqual(try depth(), "6")

        let stillDown = try h.jobctl(["flush"], environment: http)
        XCTAssertNotEqual(stillDown.status, 0)
        XCTAssertEqual(h.spooled.count, 6)
        XCTAssertEqual(try depth(), "6")

        try monitor.answer(200)
        let flushed = try h.jobctl(["flush"], environment: http)
        XCTAssertEqual(flushed.status, 0, flushed.stderrText)
        XCTAssertTrue(flushed.stdoutText.contains("delivered 6, 0 remain"), flushed.stdoutText)
        XCTAssertNil(try depth(), "an empty spool has no entry")
        let bodies = monitor.bodies(status: 200)
        XCTAssertEqual(bodies.count, 6)
        for (i, body) in bodies.enumerated() {
            let kind = i % 2 == 0 ? "start" : "finish"
            XCTAssertEqual(body["_path"] as? String, "/api/v1/jobs/viahttp/runs/\(body["run_id"] as? String ?? "")/\(kind)")
            XCTAssertEqual(body["_authorization"] as? String, "Bearer s3cret-token")
            if kind == "finish" { XCTAssertEqual(body["output_tail"] as? String, "run \(i / 2)\n") }
        }
    }

    func testACorruptSpoolFileIsMovedAsideAndTheRestDelivered() throws {
        let h = try ReportingHarness()
        h.redis.stop()
        XCTAssertEqual(try h.jobrun(["corrupt", "--", "/bin/true"], environment: ["JOBWATCH_ON_REDIS_DOWN": "run"]).status, 0)
        XCTAssertEqual(h.spooled.count, 2)
        try Data("\u{0}\u{1}garbage".utf8).write(to: URL(fileURLWithPath: h.spoolDir + "/" + h.spooled[0]))
        try h.replaceRedis()
        let r = try h.jobctl(["flush"])
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertTrue(r.stderrText.contains("moved to"), r.stderrText)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: h.spoolDir + "/bad").count, 1)
        XCTAssertEqual(try h.events().map { $0["type"] }, ["finish"])
    }

    func testConcurrentFlushersDeliverEachEventOnce() throws {
        let h = try ReportingHarness()
        let monitor = try MonitorReceiver()
        h.monitorURL = monitor.url
        try monitor.answer(503)
        let http = ["JOBWATCH_REPORT": "http", "JOBWATCH_ON_REDIS_DOWN": "run"]
        for i in 0..<10 {
            XCTAssertEqual(try h.jobrun(["--no-lock", "many\(i)", "--", "/bin/true"], environment: http).status, 0)
        }
        XCTAssertEqual(h.spooled.count, 20)
        try monitor.answer(200)
        let flushers = try (0..<4).map { _ in try h.startJobctl(["flush"], environment: http) }
        let results = flushers.map { $0.wait() }
        XCTAssertEqual(results.map(\.status), [0, 0, 0, 0], results.map(\.stderrText).joined())
        let delivered = monitor.bodies(status: 200).map { "\($0["run_id"] ?? "")/\($0["_path"] ?? "")" }
        XCTAssertEqual(delivered.count, 20)
        XCTAssertEqual(Set(delivered).count, 20, "an event was delivered twice")
        XCTAssertTrue(h.spooled.isEmpty)
    }

    func testPingPostsToTheMonitorWithTheToken() throws {
        let h = try ReportingHarness()
        let monitor = try MonitorReceiver()
        h.monitorURL = monitor.url
        XCTAssertEqual(try h.jobctl(["ping", "backup"]).status, 0)
        XCTAssertEqual(try h.jobctl(["ping", "backup", "--fail"]).status, 0)
        XCTAssertEqual(try h.jobctl(["ping", "backup", "--exit-code", "3"]).status, 0)
        XCTAssertEqual(monitor.requests.map(\.path), ["/ping/backup", "/ping/backup/fail", "/ping/backup/3"])
        XCTAssertEqual(Set(monitor.requests.map { $0.authorization ?? "" }), ["Bearer s3cret-token"])
        try monitor.answer(500)
        let refused = try h.jobctl(["ping", "backup"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderrText.contains("500"), refused.stderrText)
        XCTAssertNotEqual(try h.jobctl(["ping", "../etc"]).status, 0)
    }
}
