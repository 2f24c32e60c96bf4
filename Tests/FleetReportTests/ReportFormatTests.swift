import FleetReport
import Foundation
import MonitorCore
import XCTest

final class ReportFormatTests: XCTestCase {
    /// Two jobs with hand-checkable numbers; the second's name needs quoting and escaping.
    private func report() -> FleetReport {
        let day = spec("db-backup", "0 3 * * *", zone: "UTC")
        var runs = punctualRuns(day, from: dstWeek.from, to: dstWeek.to, duration: 90_000)
        runs[0].outcome = .failure
        let odd = spec("a,\"b\"|c", "0 4 * * *", zone: "UTC")
        return FleetReport([
            JobHistory(spec: day, runs: runs, changes: []),
            JobHistory(spec: odd, runs: Array(punctualRuns(odd, from: dstWeek.from, to: dstWeek.to).dropFirst()), changes: [
                StateChange(from: .up, to: .missed, at: ms("2026-03-23T04:10:00Z"), reason: "no start"),
                StateChange(from: .missed, to: .up, at: ms("2026-03-24T04:00:03Z"), reason: "success"),
            ]),
        ], from: dstWeek.from, to: dstWeek.to, now: dstWeek.to, timeZone: "UTC")
    }

    func testJSONHasSpecShapeFieldByField() throws {
        let json = report().rendered(as: .json)
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        XCTAssertEqual(object["from"] as? String, "2026-03-23T00:00:00+00:00")
        XCTAssertEqual(object["to"] as? String, "2026-03-30T00:00:00+00:00")
        let summary = object["summary"] as! [String: Any]
        XCTAssertEqual(summary["jobs"] as? Int, 2)
        XCTAssertEqual(summary["expected"] as? Int, 14)
        XCTAssertEqual(summary["runs"] as? Int, 13)
        XCTAssertEqual(summary["missed"] as? Int, 1)
        XCTAssertEqual(summary["failed"] as? Int, 1)
        XCTAssertEqual(summary["in_maintenance"] as? Int, 0)
        let jobs = object["jobs"] as! [[String: Any]]
        XCTAssertEqual(jobs.map { $0["job"] as? String }, ["a,\"b\"|c", "db-backup"])
        let first = jobs[0]
        XCTAssertEqual(Set(first.keys), ["job", "expected", "runs", "succeeded", "failed", "missed", "late", "overdue",
                                         "success_rate", "duration_ms", "downtime_s", "in_maintenance"])
        XCTAssertEqual(first["expected"] as? Int, 7)
        XCTAssertEqual(first["runs"] as? Int, 6)
        XCTAssertEqual(first["succeeded"] as? Int, 6)
        XCTAssertEqual(first["failed"] as? Int, 0)
        XCTAssertEqual(first["missed"] as? Int, 1)
        XCTAssertEqual(first["late"] as? Int, 0)
        XCTAssertEqual(first["overdue"] as? Int, 0)
        XCTAssertEqual(first["success_rate"] as? Double, 0.8571)
        XCTAssertEqual(first["duration_ms"] as? [String: Int], ["p50": 2000, "p95": 2000, "max": 2000])
        XCTAssertEqual(first["downtime_s"] as? Int, 86_403 - 600)
        let second = jobs[1]
        XCTAssertEqual(second["failed"] as? Int, 1)
        XCTAssertEqual(second["success_rate"] as? Double, 0.8571)
        // jobctl reads the API's JSON back and renders it in the other formats.
        XCTAssertEqual(try JSONDecoder().decode(FleetReport.self, from: Data(json.utf8)), report())
    }

    func testNoFinishedRunsWritesNullDurations() throws {
        let r = FleetReport([JobHistory(spec: spec("idle", nil), runs: [], changes: [])],
                            from: dstWeek.from, to: dstWeek.to, now: dstWeek.to, timeZone: "UTC")
        XCTAssertTrue(r.rendered(as: .json).contains("\"duration_ms\" : {\n        \"max\" : null,\n        \"p50\" : null,\n        \"p95\" : null"))
        XCTAssertEqual(r.jobs[0].successRate, 1)
        XCTAssertEqual(r.summary.text, "1 job, no missed or failed runs")
    }

    func testTextTableIsAligned() {
        let lines = report().rendered(as: .text).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines[0], "Jobwatch report 2026-03-23 00:00 – 2026-03-30 00:00 UTC")
        XCTAssertEqual(lines[1], "2 jobs, 1 missed 1 run, 1 failed 1 run")
        XCTAssertEqual(lines[2], "")
        XCTAssertEqual(lines[3], "JOB        EXPECTED  RUNS  OK  FAILED  MISSED  LATE  OVERDUE  SUCCESS    P50    P95    MAX  DOWNTIME  MAINTENANCE")
        XCTAssertEqual(lines[4], "a,\"b\"|c           7     6   6       0       1     0        0    85.7%   2.0s   2.0s   2.0s    23h50m            -")
        XCTAssertEqual(lines[5], "db-backup         7     7   6       1       0     0        0    85.7%  1m30s  1m30s  1m30s         -            -")
    }

    func testMarkdownEscapesAndAlignsNumbers() {
        let lines = report().rendered(as: .markdown).split(separator: "\n")
        XCTAssertEqual(lines[0], "## Jobwatch report 2026-03-23 00:00 – 2026-03-30 00:00 UTC")
        XCTAssertEqual(lines[1], "2 jobs, 1 missed 1 run, 1 failed 1 run")
        XCTAssertEqual(lines[2], "| Job | Expected | Runs | Ok | Failed | Missed | Late | Overdue | Success | P50 | P95 | Max | Downtime | Maintenance |")
        XCTAssertEqual(lines[3], "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        XCTAssertEqual(lines[4], "| `a,\"b\"\\|c` | 7 | 6 | 6 | 0 | 1 | 0 | 0 | 85.7% | 2.0s | 2.0s | 2.0s | 23h50m | - |")
        XCTAssertEqual(lines[5], "| `db-backup` | 7 | 7 | 6 | 1 | 0 | 0 | 0 | 85.7% | 1m30s | 1m30s | 1m30s | - | - |")
    }

    func testCSVQuotesPerRFC4180() {
        let csv = report().rendered(as: .csv)
        XCTAssertEqual(csv, """
        job,expected,runs,succeeded,failed,missed,late,overdue,success_rate,p50_ms,p95_ms,max_ms,downtime_s,in_maintenance\r
        "a,""b""|c",7,6,6,0,1,0,0,0.8571,2000,2000,2000,85803,0\r
        db-backup,7,7,6,1,0,0,0,0.8571,90000,90000,90000,0,0\r

        """)
    }
}
