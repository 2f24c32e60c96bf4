import CronSchedule
import Foundation
import HTTPClient
import JobwatchTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// SPEC §3.2 `GET /api/v1/report`, `GET /`, `GET /metrics` and `jobctl report`, end to end:
/// a real jobmond and redis-server, runs reported through the HTTP API.
final class FleetVisibilityTests: XCTestCase {
    private func iso(_ ms: Int64) -> String { rfc3339(ms / 1000, timeZone: "UTC") }

    private func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    private func report(_ h: MonitorHarness, _ job: String, _ run: String, start: Int64, ms: Int64, exit: Int) throws {
        let outcome = exit == 0 ? "success" : "failure"
        let started = #"{"host":"web1","started_at":"\#(iso(start))"}"#
        let finished = #"{"host":"web1","finished_at":"\#(iso(start + ms))","exit_code":\#(exit),"duration_ms":\#(ms),"outcome":"\#(outcome)"}"#
        for (kind, body) in [("start", started), ("finish", finished)] {
            let r = try h.request("POST", "/api/v1/jobs/\(job)/runs/\(run)/\(kind)", token: "report-token", body: Array(body.utf8))
            XCTAssertEqual(r.status, 202, r.text)
        }
    }

    func testReportStatusPageAndMetricsAfterRealRuns() throws {
        let h = try MonitorHarness(jobs: ["nightly": "{}\n", "tick": "schedule: \"every 2s\"\ngrace: 1s\n"], defaultAlerts: [])
        try h.start()
        // The period starts after the leader loaded tick: occurrences before it are never expected.
        XCTAssertTrue(waitUntil(timeout: 10) { h.state("tick") != nil })
        // Whole seconds: the report's JSON writes its period to the second.
        let from = (nowMs() / 1000 + 1) * 1000
        Thread.sleep(forTimeInterval: Double(from - nowMs()) / 1000 + 0.05)
        try report(h, "nightly", "r1", start: from + 100, ms: 3000, exit: 0)
        try report(h, "nightly", "r2", start: from + 200, ms: 1000, exit: 0)
        try report(h, "nightly", "r3", start: from + 1300, ms: 2000, exit: 3)
        XCTAssertTrue(waitUntil(timeout: 10) { h.state("nightly") == "failed" }, "nightly: \(h.state("nightly") ?? "?")")
        Thread.sleep(forTimeInterval: 6)
        // Ended two seconds ago: every deadline in the period (grace 1s) has passed, so the
        // API and jobctl, asked at different moments, must agree exactly.
        let to = (nowMs() / 1000 - 2) * 1000
        let r = try h.request("GET", "/api/v1/report?from=\(iso(from))&to=\(iso(to))")
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertTrue(r.headers["content-type"]?.hasPrefix("application/json") ?? false)
        let api = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        XCTAssertEqual(api["from"] as? String, iso(from))
        XCTAssertEqual(api["to"] as? String, iso(to))
        let jobs = try XCTUnwrap(api["jobs"] as? [[String: Any]])
        XCTAssertEqual(jobs.map { $0["job"] as? String }, ["tick", "nightly"], "missed first")

        let nightly = jobs[1]
        let fields: [String: Int] = ["expected": 0, "runs": 3, "succeeded": 2, "failed": 1, "missed": 0, "late": 0, "overdue": 0]
        for (key, value) in fields { XCTAssertEqual(nightly[key] as? Int, value, "nightly.\(key)") }
        XCTAssertEqual(nightly["success_rate"] as? Double, 0.6667)
        let durations = try XCTUnwrap(nightly["duration_ms"] as? [String: Any])
        XCTAssertEqual(durations["p50"] as? Int, 2000)
        XCTAssertEqual(durations["p95"] as? Int, 3000)
        XCTAssertEqual(durations["max"] as? Int, 3000)
        // Failed from r3's finish (by the report's or the leader's clock, at most 3.3 s in) to `to`.
        let downtime = try XCTUnwrap(nightly["downtime_s"] as? Int)
        XCTAssertTrue((to - from - 3300) / 1000 - 1...(to - from) / 1000 ~= Int64(downtime), "nightly downtime \(downtime)")

        let tick = jobs[0]
        let occurrences = Int((to - 1) / 2000 - (from - 1) / 2000)
        XCTAssertEqual(tick["expected"] as? Int, occurrences)
        XCTAssertEqual(tick["missed"] as? Int, occurrences)
        XCTAssertEqual(tick["runs"] as? Int, 0)
        XCTAssertEqual(tick["success_rate"] as? Double, 0)
        XCTAssertTrue((tick["downtime_s"] as? Int ?? 0) > 0)
        let durationsTick = try XCTUnwrap(tick["duration_ms"] as? [String: Any])
        XCTAssertTrue(durationsTick["p50"] is NSNull, "null, not absent, without finished runs")

        let summary = try XCTUnwrap(api["summary"] as? [String: Any])
        XCTAssertEqual(summary["jobs"] as? Int, 2)
        XCTAssertEqual(summary["expected"] as? Int, occurrences)
        XCTAssertEqual(summary["runs"] as? Int, 3)
        XCTAssertEqual(summary["missed"] as? Int, occurrences)
        XCTAssertEqual(summary["failed"] as? Int, 1)
        let text = try XCTUnwrap(summary["text"] as? String)
        XCTAssertTrue(text.hasPrefix("2 jobs, 1 missed \(occurrences) runs, 1 failed 1 run, 1 failing since "), text)

        // jobctl renders the same report: JSON identical, text and CSV from it.
        let period = ["--from", iso(from), "--to", iso(to)]
        let json = try h.jobctl(["report"] + period + ["--format", "json"])
        XCTAssertEqual(json.status, 0, json.stderrText)
        let cli = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout)) as? NSDictionary)
        XCTAssertEqual(cli, api as NSDictionary)

        let table = try h.jobctl(["report"] + period)
        XCTAssertEqual(table.status, 0, table.stderrText)
        let lines = table.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("Jobwatch report "), lines[0])
        XCTAssertEqual(lines[1], text)
        XCTAssertEqual(lines[3].split(separator: " ").map(String.init),
                       ["JOB", "EXPECTED", "RUNS", "OK", "FAILED", "MISSED", "LATE", "OVERDUE", "SUCCESS", "P50", "P95", "MAX", "DOWNTIME",
                        "MAINTENANCE"])
        XCTAssertEqual(lines[4].split(separator: " ").prefix(9).map(String.init),
                       ["tick", "\(occurrences)", "0", "0", "0", "\(occurrences)", "0", "0", "0.0%"])
        XCTAssertEqual(lines[5].split(separator: " ").prefix(9).map(String.init),
                       ["nightly", "0", "3", "2", "1", "0", "0", "0", "66.7%"])
        XCTAssertEqual(lines[4].count, lines[5].count, "columns aligned")

        let csv = try h.jobctl(["report"] + period + ["--format", "csv"])
        XCTAssertEqual(csv.status, 0, csv.stderrText)
        XCTAssertEqual(csv.stdoutText.components(separatedBy: "\r\n"), [
            "job,expected,runs,succeeded,failed,missed,late,overdue,success_rate,p50_ms,p95_ms,max_ms,downtime_s,in_maintenance",
            "tick,\(occurrences),0,0,0,\(occurrences),0,0,0.0,,,,\(tick["downtime_s"] as? Int ?? -1),0",
            "nightly,0,3,2,1,0,0,0,0.6667,2000,3000,3000,\(downtime),0",
            "",
        ])
        let since = try h.jobctl(["report", "--since", "1h", "--format", "markdown"])
        XCTAssertEqual(since.status, 0, since.stderrText)
        XCTAssertTrue(since.stdoutText.contains("| `nightly` | 0 | 3 | 2 | 1 |"), since.stdoutText)

        // Bad input is refused with the reason.
        for (query, status) in [("from=yesterday", 400), ("from=\(iso(to))&to=\(iso(from))", 400),
                                ("from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", 400)] {
            XCTAssertEqual(try h.request("GET", "/api/v1/report?" + query).status, status, query)
        }
        XCTAssertEqual(try h.request("GET", "/api/v1/report", token: nil).status, 401)
        XCTAssertEqual(try h.request("GET", "/api/v1/report", token: "report-token").status, 403)
        XCTAssertEqual(try h.request("GET", "/api/v1/report", token: "read-token").status, 200)

        try checkStatusPage(h)
        try checkMetrics(h)
    }

    /// Counters come from the runs the leader applied, not from each job's last run at scrape
    /// time: 50 runs between two scrapes are 50.
    func testMetricsCountEveryRunFinishedBetweenTwoScrapes() throws {
        let h = try MonitorHarness(jobs: ["burst": "{}\n"], defaultAlerts: [])
        try h.start()
        func finishedRuns() throws -> Int {
            let r = try h.request("GET", "/api/v1/jobs/burst/runs?limit=100")
            let runs = (try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])?["runs"] as? [[String: Any]] ?? []
            return runs.filter { !($0["finished_at"] is NSNull) && $0["finished_at"] != nil }.count
        }
        func sample(_ metrics: String, _ series: String) -> String? {
            metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.map { String($0.dropFirst(series.count + 1)) }
        }
        let start = nowMs()
        try report(h, "burst", "first", start: start, ms: 10, exit: 0)
        XCTAssertTrue(waitUntil(timeout: 10) { (try? finishedRuns()) == 1 })
        let before = try h.request("GET", "/metrics", token: nil).text
        XCTAssertEqual(sample(before, #"jobwatch_job_runs_total{job="burst",result="success"}"#), "1", before)
        for i in 0..<50 { try report(h, "burst", "run\(i)", start: start + 100 + Int64(i), ms: 20, exit: i % 10 == 9 ? 1 : 0) }
        XCTAssertTrue(waitUntil(timeout: 20) { (try? finishedRuns()) == 51 }, "every run applied")
        let after = try h.request("GET", "/metrics", token: nil).text
        XCTAssertEqual(sample(after, #"jobwatch_job_runs_total{job="burst",result="success"}"#), "46", after)
        XCTAssertEqual(sample(after, #"jobwatch_job_runs_total{job="burst",result="failure"}"#), "5", after)
        XCTAssertEqual(sample(after, #"jobwatch_job_failed_runs_total{job="burst"}"#), "5", after)
        XCTAssertEqual(sample(after, #"jobwatch_job_run_duration_seconds_count{job="burst"}"#), "51", after)

        // Spool depths are what the hosts said (RunReporter writes them); an emptied one reads 0.
        _ = try h.redis.cli("HSET", "jw:mon:spool", "web7", "12", "web8", "not-a-number")
        let spooled = try h.request("GET", "/metrics", token: nil).text
        XCTAssertEqual(sample(spooled, #"jobwatch_spool_depth{host="web7"}"#), "12.0", spooled)
        XCTAssertNil(sample(spooled, #"jobwatch_spool_depth{host="web8"}"#), "a value that is no count is skipped")
        _ = try h.redis.cli("HDEL", "jw:mon:spool", "web7")
        XCTAssertEqual(sample(try h.request("GET", "/metrics", token: nil).text, #"jobwatch_spool_depth{host="web7"}"#), "0.0")
    }

    /// A success under min_runtime is a failure to the monitor, and to its failure counter.
    func testATooShortRunCountsAsAFailedRun() throws {
        let h = try MonitorHarness(jobs: ["quick": "min_runtime: 1s\n"], defaultAlerts: [])
        try h.start()
        try report(h, "quick", "r1", start: nowMs(), ms: 20, exit: 0)
        var metrics = ""
        XCTAssertTrue(waitUntil(timeout: 10) {
            metrics = (try? h.request("GET", "/metrics", token: nil).text) ?? ""
            return metrics.contains(#"jobwatch_job_failed_runs_total{job="quick"} 1"#)
        }, metrics)
        XCTAssertTrue(metrics.contains(#"jobwatch_job_runs_total{job="quick",result="success"} 1"#), metrics)
    }

    private func checkStatusPage(_ h: MonitorHarness) throws {
        XCTAssertEqual(try h.request("GET", "/", token: nil).status, 401, "needs read unless public_status_page")
        let page = try h.request("GET", "/", token: "read-token")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.headers["content-type"]?.hasPrefix("text/html") ?? false)
        XCTAssertLessThan(page.body.count, 200 * 1024)
        for job in ["nightly", "tick"] { XCTAssertTrue(page.text.contains("id=\"job-\(job)\""), job) }
        XCTAssertFalse(page.text.lowercased().contains("<script"))
        XCTAssertEqual(page.headers["content-security-policy"],
                       "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        XCTAssertEqual(page.headers["x-content-type-options"], "nosniff")
    }

    private func checkMetrics(_ h: MonitorHarness) throws {
        let first = try h.request("GET", "/metrics", token: nil)
        XCTAssertEqual(first.status, 200)
        XCTAssertTrue(first.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") ?? false)
        // A second scrape applies only the differences; its text must be valid too.
        let metrics = try h.request("GET", "/metrics", token: nil).text
        for line in [
            #"jobwatch_job_state{job="nightly",state="failed"} 1.0"#, #"jobwatch_job_state{job="nightly",state="up"} 0.0"#,
            #"jobwatch_job_state{job="tick",state="missed"} 1.0"#, #"jobwatch_job_failed_runs_total{job="nightly"} 1"#,
            #"jobwatch_job_run_duration_seconds_count{job="nightly"} 3"#,
            #"jobwatch_job_runs_total{job="nightly",result="success"} 2"#, #"jobwatch_job_runs_total{job="nightly",result="failure"} 1"#,
            #"jobwatch_alert_outbox_depth 0.0"#, "jobwatch_monitor_leader 1.0", "jobwatch_events_backlog 0.0",
        ] {
            XCTAssertTrue(metrics.split(separator: "\n").contains { $0 == line }, "missing \(line) in\n\(metrics)")
        }
        XCTAssertTrue(metrics.contains(#"jobwatch_job_missed_runs_total{job="tick"}"#))
        XCTAssertTrue(metrics.contains(#"jobwatch_job_last_success_timestamp_seconds{job="nightly"}"#))
        let promtool = try XCTUnwrap(which("promtool"), "promtool missing: apt-get install prometheus")
        let check = try Command.run([promtool, "check", "metrics"], stdin: Array(metrics.utf8))
        XCTAssertEqual(check.status, 0, check.stdoutText + check.stderrText + "\n" + metrics)
    }

    /// Two replicas at every scheduled instant, the leader stopped half-way: each period's
    /// report reaches Slack exactly once.
    func testWeeklyReportIsDeliveredOncePerPeriodAcrossReplicasAndFailover() throws {
        let h = try MonitorHarness(jobs: ["nightly": "{}\n"], defaultAlerts: [])
        let config = try String(contentsOfFile: h.configPath, encoding: .utf8)
        try h.write(config + "  report: { schedule: \"every 5s\", timezone: UTC, channels: [slack] }\n", to: "jobwatch.yaml")
        try h.start()
        let second = try Command.start([Command.binary("jobmond"), "--config", h.configPath, "--listen", "127.0.0.1:\(try freePort())"],
                                       environment: h.environment)
        defer { second.signal(SIGKILL); _ = second.wait(timeout: 10) }
        try report(h, "nightly", "r1", start: nowMs() - 500, ms: 400, exit: 1)

        func reports() -> [AlertReceivers.Request] {
            h.receivers.requests("/slack").filter { ($0.object["text"] as? String)?.hasPrefix("Jobwatch weekly report") ?? false }
        }
        XCTAssertTrue(waitUntil(timeout: 20) { reports().count >= 2 }, "reports: \(reports().count)")
        h.stop()   // SIGTERM: the lease is released and the second replica leads at once.
        let before = reports().count
        XCTAssertTrue(waitUntil(timeout: 20) { reports().count >= before + 2 }, "after failover: \(reports().count)")
        // Delivered (read first) never exceeds the periods marked as sent (read second), and
        // the two meet once the latest period's message is through.
        var counts: [(Int, Int)] = []
        let caughtUp = waitUntil(timeout: 12) {
            let delivered = reports().count
            let markers = (try? h.redis.cli("KEYS", "jw:mon:report:*"))?.split(separator: "\n").count ?? -1
            counts.append((delivered, markers))
            return delivered == markers
        }
        XCTAssertTrue(caughtUp, "delivered/markers: \(counts)")
        XCTAssertTrue(counts.allSatisfy { $0.0 <= $0.1 }, "a period was delivered twice: \(counts)")
        second.signal(SIGTERM)
        _ = second.wait(timeout: 15)

        let sent = reports()
        for r in sent {
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.problems, [], "Block Kit")
        }
        let headers = sent.compactMap { (($0.object["blocks"] as? [[String: Any]])?.first?["text"] as? [String: Any])?["text"] as? String }
        XCTAssertEqual(headers.count, sent.count)
        XCTAssertTrue(sent.contains { ($0.object["text"] as? String)?.contains("1 failed 1 run") ?? false })
    }
}
