import CronSchedule
import FleetReport
import MonitorCore
import XCTest

/// The report judges each occurrence against its jittered start, as the monitor does.
final class JitterReportTests: XCTestCase {
    private let day = (from: ms("2026-03-28T00:00:00Z"), to: ms("2026-03-29T00:00:00Z"))

    private func jittered() throws -> JobSpec {
        JobSpec(name: "cache-warm", schedule: try Schedule("0 * * * *", timeZone: "Europe/Dublin"), timezone: "Europe/Dublin",
                grace: 10 * minute, jitter: Jitter(job: "cache-warm", seconds: 1800))
    }

    private func report(_ spec: JobSpec, startingAfterExpected delay: (Int64) -> Int64) -> JobReport {
        let runs = spec.schedule!.occurrences(from: day.from / 1000, through: (day.to - 1) / 1000).map { o in
            let occurrence = o * 1000
            return runRecord("r\(o)", at: spec.expectedStart(of: occurrence) + delay(occurrence), for: 1_000, scheduledFor: occurrence)
        }
        return JobReport(JobHistory(spec: spec, runs: runs, changes: []), from: day.from, to: day.to, now: day.to + hour)
    }

    func testStartsAtTheirOffsetAreOnTime() throws {
        let spec = try jittered()
        let job = report(spec) { _ in 5_000 }
        XCTAssertEqual(job.expected, 24)
        XCTAssertEqual(job.succeeded, 24)
        XCTAssertEqual([job.missed, job.late], [0, 0])
        // Most offsets are beyond the one-minute on-time slack from the scheduled time.
        XCTAssertGreaterThan((0..<24).filter { spec.expectedStart(of: day.from + Int64($0) * hour) - (day.from + Int64($0) * hour) > minute }.count, 12)
    }

    func testLateAndMissedCountFromTheJitteredStart() throws {
        let spec = try jittered()
        XCTAssertEqual(report(spec) { _ in 2 * minute }.late, 24)
        XCTAssertEqual(report(spec) { _ in 10 * minute }.missed, 0, "a start exactly at the deadline is inside grace")
        XCTAssertEqual(report(spec) { _ in 10 * minute + 1 }.missed, 24)
    }
}
