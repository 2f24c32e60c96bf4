import CronSchedule
import Foundation
import JobwatchTestSupport
import XCTest

/// SPEC §6: `jobctl next --job JOB` and a real `jobmond` agree on every jittered start. The
/// monitor is driven the way hosts drive it: each run reports a start at the instant `jobctl`
/// printed, with no `scheduled_for`, so the monitor itself must attribute the start to its
/// occurrence (the jitter-aware window) and then announce, as `next_expected`, the next
/// occurrence's scheduled time plus its offset. A daily job in Dublin over 1,000 days crosses
/// both kinds of DST change five times, including a 01:30 that the spring-forward skips.
final class JitterAgreementTests: XCTestCase {
    private let count = 1_000

    func testJobctlNextAndJobmondAgreeOnAThousandJitteredStarts() throws {
        let job = "spread"
        let h = try MonitorHarness(jobs: [job: "schedule: \"30 1 * * *\"\ntimezone: Europe/Dublin\njitter: 12h\ngrace: 10m\n"])
        try h.start()

        func nextExpected() -> Int64? {
            (h.job(job)?["next_expected"] as? String).flatMap(parseRFC3339Milliseconds)
        }
        var expected: Int64?
        XCTAssertTrue(waitUntil(timeout: 20) { expected = nextExpected(); return expected != nil }, "jobmond never expected \(job)")
        let first = try XCTUnwrap(expected)

        // Strictly after one second before the monitor's first expected start.
        let from = rfc3339(first / 1000 - 1, timeZone: "UTC")
        let next = try h.jobctl(["next", "--job", job, "--jobs-dir", h.root + "/jobs.d", "--config", h.configPath,
                                 "--from", from, "--count", String(count + 1)])
        XCTAssertEqual(next.status, 0, next.stderrText)
        let printed = next.stdoutText.split(separator: "\n").map(String.init)
        XCTAssertEqual(printed.count, count + 1)
        let starts = try printed.map { try XCTUnwrap(parseRFC3339Milliseconds($0), $0) }
        XCTAssertEqual(starts.first, first, "jobctl's first start is jobmond's next_expected")
        XCTAssertGreaterThan(printed.filter { !$0.contains("T01:30:00") && !$0.contains("T02:00:00") }.count, count * 9 / 10,
                             "the starts are jittered, not the scheduled times")
        XCTAssertTrue(printed.contains { $0.hasSuffix("+00:00") } && printed.contains { $0.hasSuffix("+01:00") },
                      "printed in the job's zone, across DST changes")

        for k in 0..<count {
            let run = "r\(k)"
            let start = try h.request("POST", "/api/v1/jobs/\(job)/runs/\(run)/start", token: "report-token",
                                      body: Array(#"{"host": "web1", "started_at": "\#(printed[k])"}"#.utf8))
            XCTAssertEqual(start.status, 202, start.text)
            let finish = try h.request("POST", "/api/v1/jobs/\(job)/runs/\(run)/finish", token: "report-token",
                                       body: Array(#"{"host": "web1", "finished_at": "\#(printed[k])", "exit_code": 0, "duration_ms": 0}"#.utf8))
            XCTAssertEqual(finish.status, 202, finish.text)
            guard waitUntil(timeout: 10, { expected = nextExpected(); return expected == starts[k + 1] }) else {
                XCTFail("after the start at \(printed[k]), jobmond expects \(expected.map { rfc3339($0 / 1000, timeZone: "Europe/Dublin") } ?? "nothing"); jobctl printed \(printed[k + 1])")
                return
            }
        }
        // The start carried no scheduled_for: the monitor found the occurrence from the jitter.
        let runs = try h.json("/api/v1/jobs/\(job)/runs?limit=1")["runs"] as? [[String: Any]]
        let scheduled = try Schedule("30 1 * * *", timeZone: "Europe/Dublin").previous(atOrBefore: starts[count - 1] / 1000)
        XCTAssertEqual((runs?.first?["scheduled_for"] as? String).flatMap(parseRFC3339Milliseconds), scheduled.map { $0 * 1000 })
    }
}
