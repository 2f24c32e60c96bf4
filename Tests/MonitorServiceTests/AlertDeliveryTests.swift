import CronSchedule
import Foundation
import JobwatchTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// End to end: real jobmond, redis-server, jobrun, and the strict loopback receivers.
final class AlertDeliveryTests: XCTestCase {
    private func triggers(_ h: MonitorHarness) -> [AlertReceivers.Request] {
        h.receivers.pagerDuty().filter { $0.object["event_action"] as? String == "trigger" }
    }

    private func resolves(_ h: MonitorHarness) -> [AlertReceivers.Request] {
        h.receivers.pagerDuty().filter { $0.object["event_action"] as? String == "resolve" }
    }

    private func assertAllValid(_ h: MonitorHarness, file: StaticString = #filePath, line: UInt = #line) {
        for r in h.receivers.requests where !r.problems.isEmpty {
            XCTFail("\(r.path) rejected: \(r.problems)", file: file, line: line)
        }
    }

    func testMissedRunPagesWithinASecondThenResolves() throws {
        let h = try MonitorHarness(jobs: ["heartbeat": "schedule: \"every 10s\"\ngrace: 5s\nrealert_every: 0s\n"])
        try h.start()
        XCTAssertTrue(waitUntil(timeout: 25) { !self.triggers(h).isEmpty }, "no PagerDuty trigger for a missed run")
        let trigger = try XCTUnwrap(triggers(h).first)
        XCTAssertEqual(trigger.object["dedup_key"] as? String, "jobwatch/heartbeat")
        XCTAssertEqual(trigger.object["routing_key"] as? String, MonitorHarness.routingKey)
        let payload = try XCTUnwrap(trigger.object["payload"] as? [String: Any])
        XCTAssertEqual(payload["severity"] as? String, "critical")
        let summary = try XCTUnwrap(payload["summary"] as? String)
        XCTAssertTrue(summary.hasPrefix("heartbeat missed its ") && summary.hasSuffix(" UTC run (grace 5s)"), summary)
        let occurrence = try XCTUnwrap((payload["custom_details"] as? [String: Any])?["occurrence"] as? String)
        let deadline = Double(try XCTUnwrap(parseRFC3339(occurrence)) + 5)
        XCTAssertGreaterThanOrEqual(trigger.time, deadline)
        XCTAssertLessThan(trigger.time - deadline, 1.0, "alerted \(trigger.time - deadline) s after scheduled + grace")
        XCTAssertTrue(waitUntil(timeout: 5) { !h.receivers.requests("/slack").isEmpty })
        let slack = try XCTUnwrap(h.receivers.requests("/slack").first)
        XCTAssertLessThan(slack.time - deadline, 1.0)
        XCTAssertTrue((slack.object["text"] as? String ?? "").contains("heartbeat missed"))
        XCTAssertEqual(h.state("heartbeat"), "missed")

        XCTAssertEqual(try h.jobrun("heartbeat", "echo fine").status, 0)
        XCTAssertTrue(waitUntil(timeout: 5) { !self.resolves(h).isEmpty }, "no resolve after a successful run")
        XCTAssertEqual(resolves(h).first?.object["dedup_key"] as? String, "jobwatch/heartbeat")
        XCTAssertTrue(waitUntil(timeout: 5) { h.receivers.requests("/slack").count == 2 })
        let recovery = h.receivers.requests("/slack")[1].object["text"] as? String ?? ""
        XCTAssertTrue(recovery.contains("heartbeat recovered"), recovery)
        XCTAssertEqual(triggers(h).count, 1, "exactly one trigger per incident")
        assertAllValid(h)
    }

    func testOverdueRunAlertsWhileStillRunning() throws {
        let h = try MonitorHarness(jobs: ["long": "max_runtime: 2s\n"], defaultAlerts: ["pd", "hook"])
        try h.start()
        let run = try Command.start([Command.binary("jobrun"), "--host", "web1", "--no-gelf", "--quiet", "long", "--",
                                     "/bin/sh", "-c", "sleep 6"], environment: h.environment)
        XCTAssertTrue(waitUntil(timeout: 5) { !self.triggers(h).isEmpty }, "no overdue alert")
        XCTAssertTrue(run.process.isRunning, "the alert must come while the run is still going")
        let summary = (triggers(h)[0].object["payload"] as? [String: Any])?["summary"] as? String ?? ""
        XCTAssertTrue(summary.contains("long has been running"), summary)
        XCTAssertTrue(waitUntil(timeout: 5) { h.receivers.requests("/hook").contains { $0.object["state"] as? String == "overdue" } })
        XCTAssertEqual(h.state("long"), "overdue")
        _ = run.wait(timeout: 20)
        XCTAssertTrue(waitUntil(timeout: 5) { !self.resolves(h).isEmpty })
        assertAllValid(h)
    }

    func testFailureAlertsOnlyAfterAlertAfterFailures() throws {
        let h = try MonitorHarness(jobs: ["flaky": "alert_after_failures: 3\n"])
        try h.start()
        for attempt in 1...2 {
            XCTAssertEqual(try h.jobrun("flaky", "echo boom; exit 4").status, 4)
            XCTAssertTrue(waitUntil(timeout: 5) { (h.job("flaky")?["consecutive_failures"] as? Int) == attempt })
        }
        usleep(500_000)
        XCTAssertEqual(triggers(h).count, 0, "two failures of three must not page")
        XCTAssertEqual(try h.jobrun("flaky", "echo boom; exit 4").status, 4)
        XCTAssertTrue(waitUntil(timeout: 5) { self.triggers(h).count == 1 })
        let payload = triggers(h)[0].object["payload"] as? [String: Any] ?? [:]
        XCTAssertEqual(payload["severity"] as? String, "error")
        XCTAssertEqual((payload["custom_details"] as? [String: Any])?["exit_code"] as? Int, 4)
        XCTAssertTrue(((payload["custom_details"] as? [String: Any])?["output_tail"] as? String ?? "").contains("boom"))
        assertAllValid(h)
    }

    func testReceiverFailingThreeTimesGetsTheAlertExactlyOnce() throws {
        let h = try MonitorHarness(jobs: ["flaky": "{}\n"], defaultAlerts: ["pd"])
        try h.receivers.script(["/pd": [500, 500, 500]])
        try h.start()
        XCTAssertEqual(try h.jobrun("flaky", "exit 1").status, 1)
        XCTAssertTrue(waitUntil(timeout: 10) { self.triggers(h).count == 1 })
        usleep(1_000_000)
        let all = h.receivers.requests("/pd")
        XCTAssertEqual(all.map(\.status), [500, 500, 500, 202])
        XCTAssertEqual(triggers(h).count, 1)
        // Backoff: 100 ms, 200 ms, 400 ms between attempts (retry_initial 100ms).
        XCTAssertGreaterThanOrEqual(all[3].time - all[0].time, 0.6)
        assertAllValid(h)
    }

    func testRateLimitHonoursRetryAfter() throws {
        let h = try MonitorHarness(jobs: ["flaky": "{}\n"], defaultAlerts: ["slack"])
        try h.receivers.script(["/slack": ["429:2"]])
        try h.start()
        XCTAssertEqual(try h.jobrun("flaky", "exit 1").status, 1)
        XCTAssertTrue(waitUntil(timeout: 10) { h.receivers.requests("/slack").count == 2 })
        let all = h.receivers.requests("/slack")
        XCTAssertEqual(all.map(\.status), [429, 200])
        XCTAssertGreaterThanOrEqual(all[1].time - all[0].time, 1.9, "Retry-After: 2 was not honoured")
    }

    func testPermanentRefusalIsNotRetriedAndShowsInStatus() throws {
        let h = try MonitorHarness(jobs: ["flaky": "{}\n"], defaultAlerts: ["hook"])
        try h.receivers.script(["/hook": [410]])
        try h.start()
        XCTAssertEqual(try h.jobrun("flaky", "exit 1").status, 1)
        XCTAssertTrue(waitUntil(timeout: 10) { !h.receivers.requests("/hook").isEmpty })
        XCTAssertTrue(waitUntil(timeout: 5) { h.job("flaky")?["delivery"] is [String: Any] })
        usleep(1_000_000)
        XCTAssertEqual(h.receivers.requests("/hook").count, 1, "a 410 must not be retried")
        let problem = try XCTUnwrap(h.job("flaky")?["delivery"] as? [String: Any])
        XCTAssertEqual(problem["channel"] as? String, "hook")
        XCTAssertEqual(problem["status"] as? Int, 410)
        let status = try h.jobctl(["status"])
        XCTAssertEqual(status.status, 0, status.stderrText)
        XCTAssertTrue(status.stdoutText.contains("Alert delivery problems:\n  flaky → hook: HTTP 410"), status.stdoutText)
        // The next delivery that succeeds on that channel clears it.
        XCTAssertEqual(try h.jobrun("flaky", "true").status, 0)
        XCTAssertTrue(waitUntil(timeout: 5) { h.job("flaky")?["delivery"] is NSNull })
        // /metrics counts each alert a channel answered for good, by kind and result.
        let metrics = try h.request("GET", "/metrics", token: nil).text.split(separator: "\n")
        for line in [#"jobwatch_alerts_total{channel="hook",kind="failed",result="refused"} 1"#,
                     #"jobwatch_alerts_total{channel="hook",kind="failed",result="sent"} 1"#,
                     #"jobwatch_alert_delivery_failures_total{channel="hook"} 1"#, "jobwatch_alert_outbox_depth 0.0"] {
            XCTAssertTrue(metrics.contains { $0 == line }, "missing \(line) in\n\(metrics.joined(separator: "\n"))")
        }
    }

    func testSIGKILLMidIncidentLosesAndDuplicatesNothing() throws {
        let h = try MonitorHarness(jobs: ["flaky": "{}\n"], defaultAlerts: ["pd", "slack"])
        // PagerDuty is down when the alert is raised: it waits in the outbox.
        try h.receivers.script(["/pd": Array(repeating: 503, count: 1000)])
        try h.start()
        XCTAssertEqual(try h.jobrun("flaky", "exit 1").status, 1)
        XCTAssertTrue(waitUntil(timeout: 5) { h.receivers.requests("/slack").count == 1 })
        XCTAssertTrue(waitUntil(timeout: 5) { h.receivers.requests("/pd").count >= 2 })
        h.stop(signal: SIGKILL)
        try h.receivers.script([:])
        // While jobmond is down the job recovers; the report waits in the stream.
        XCTAssertEqual(try h.jobrun("flaky", "true").status, 0)
        try h.start()
        XCTAssertTrue(waitUntil(timeout: 10) { self.resolves(h).count == 1 })
        XCTAssertTrue(waitUntil(timeout: 5) { h.receivers.requests("/slack").count == 2 })
        usleep(1_500_000)
        XCTAssertEqual(triggers(h).count, 1, "the pending trigger is delivered once after the restart")
        XCTAssertEqual(resolves(h).count, 1)
        XCTAssertLessThan(triggers(h)[0].time, resolves(h)[0].time, "a resolve never overtakes its trigger")
        XCTAssertEqual(h.receivers.requests("/slack").count, 2)
        assertAllValid(h)
    }

    func testReportsMadeWhileJobmondIsDownAreAllApplied() throws {
        let h = try MonitorHarness(jobs: ["batch": "{}\n"], defaultAlerts: [])
        try h.start()
        h.stop()
        for i in 1...50 {
            XCTAssertEqual(try h.jobrun("batch", "exit 0", host: "web\(i % 3 + 1)").status, 0)
        }
        XCTAssertEqual(try h.redis.cli("XLEN", "jw:events").trimmingCharacters(in: .whitespaces).isEmpty, false)
        let lastHost = "web\(50 % 3 + 1)"
        try h.start()
        XCTAssertTrue(waitUntil(timeout: 10) {
            ((try? h.json("/api/v1/jobs/batch/runs?limit=100"))?["runs"] as? [[String: Any]])?.count == 50
        }, "all 50 runs (100 reports) must be applied")
        let status = try h.jobctl(["status", "batch", "--json"])
        let job = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.stdout)) as? [String: Any])
        let runs = try h.json("/api/v1/jobs/batch/runs?limit=1")["runs"] as? [[String: Any]] ?? []
        let lastRun = try XCTUnwrap(job["last_run"] as? [String: Any])
        XCTAssertEqual(lastRun["run_id"] as? String, runs.first?["run_id"] as? String)
        XCTAssertEqual(lastRun["host"] as? String, lastHost)
        XCTAssertEqual(lastRun["outcome"] as? String, "success")
        XCTAssertEqual(try h.redis.cli("XPENDING", "jw:events", "jobmond").split(separator: "\n").first, "0")
    }
}
