import CronSchedule
import Foundation
import JobwatchCore
import JobwatchTestSupport
import XCTest

/// SPEC §6 `jitter` on the host: a real `jobrun`, started by "cron" at the scheduled instant,
/// waits its occurrence's offset before claiming it, and reports the occurrence it ran for.
final class JitteredStartTests: XCTestCase {
    private let jitter = Jitter(job: "spread", seconds: 8)

    /// The next occurrence of `every 10s`, at least a second ahead, whose offset is at least
    /// `minimumOffset`: the wait is then clearly apart from the scheduled time.
    private func upcomingOccurrence(minimumOffset: Int64) throws -> Int64 {
        let now = Int64(Date().timeIntervalSince1970)
        return try XCTUnwrap((1...30).map { (now / 10 + Int64($0)) * 10 }.first { $0 > now + 1 && jitter.offset(of: $0) >= minimumOffset })
    }

    private func writeJob(_ h: ReportingHarness) throws {
        try "schedule: every 10s\njitter: 8s\ngrace: 3s\ncommand: \"true\"\n"
            .write(toFile: h.jobsDir + "/spread.yaml", atomically: true, encoding: .utf8)
    }

    /// Blocks until the wall clock reaches `ms` (epoch milliseconds), as cron would fire.
    private func waitForInstant(_ ms: Int64) {
        while case let left = ms - Int64(Date().timeIntervalSince1970 * 1000), left > 0 {
            usleep(useconds_t(min(left, 500) * 1000))
        }
    }

    private func startReport(_ h: ReportingHarness, file: StaticString = #filePath, line: UInt = #line) throws -> (scheduledFor: String, startedAt: Int64) {
        let start = try XCTUnwrap(try h.events().first { $0["type"] == "start" }, "no start report", file: file, line: line)
        let startedAt = try XCTUnwrap(parseRFC3339Milliseconds(start["started_at"] ?? ""), "\(start)", file: file, line: line)
        return (start["scheduled_for"] ?? "", startedAt)
    }

    func testJobrunStartedAtTheScheduledInstantWaitsItsOffset() throws {
        let h = try ReportingHarness()
        try writeJob(h)
        let occurrence = try upcomingOccurrence(minimumOffset: 2)
        let offset = jitter.offset(of: occurrence)

        waitForInstant(occurrence * 1000)
        let run = try h.jobrun(["--verbose", "spread"])
        XCTAssertEqual(run.status, 0, run.stderrText)
        XCTAssertTrue(run.stderrText.contains("(jitter 8s): waiting"), run.stderrText)

        let report = try startReport(h)
        XCTAssertEqual(parseRFC3339(report.scheduledFor), occurrence, "the run is for the occurrence cron fired for")
        XCTAssertGreaterThanOrEqual(report.startedAt - occurrence * 1000, offset * 1000, "started before its offset")
        XCTAssertEqual(try h.redis.cli("KEYS", "test:occ:*"), "test:occ:spread:\(occurrence)")
    }

    /// Cron fired late (a busy host): the run still belongs to its occurrence, and only the
    /// rest of the offset is waited.
    func testJobrunStartedLateWaitsOnlyTheRestOfTheOffset() throws {
        let h = try ReportingHarness()
        try writeJob(h)
        let occurrence = try upcomingOccurrence(minimumOffset: 3)
        let offset = jitter.offset(of: occurrence)

        waitForInstant((occurrence + 2) * 1000)
        let run = try h.jobrun(["--verbose", "spread"])
        XCTAssertEqual(run.status, 0, run.stderrText)

        let report = try startReport(h)
        XCTAssertEqual(parseRFC3339(report.scheduledFor), occurrence)
        XCTAssertGreaterThanOrEqual(report.startedAt - occurrence * 1000, offset * 1000)
        // The wait announced is what was left: under the whole offset.
        let announced = try XCTUnwrap(run.stderrText.components(separatedBy: "): waiting ").last?.split(separator: "\n").first)
        XCTAssertLessThan(try XCTUnwrap(Timespan(parsing: String(announced))).milliseconds, offset * 1000, run.stderrText)
    }
}
