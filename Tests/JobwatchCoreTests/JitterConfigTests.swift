import CronSchedule
import JobwatchCore
import XCTest

/// The `jitter` key (SPEC §6): whole seconds, strictly below the schedule's shortest gap,
/// only with a schedule; problems at `path:line:column` of the value.
final class JitterConfigTests: XCTestCase {
    private let path = "/etc/jobwatch/jobs.d/backup.yaml"

    private func parse(_ text: String) throws -> JobDefinition {
        try JobDefinition.parse(text: text, path: path, defaultTimezone: "UTC")
    }

    private func problems(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            _ = try parse(text)
            XCTFail("expected problems", file: file, line: line)
            return []
        } catch let e as ConfigErrors {
            return e.errors.map(\.description)
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
            return []
        }
    }

    func testJitterIsReadWithTheJobName() throws {
        let job = try parse("schedule: \"*/5 * * * *\"\njitter: 4m59s\n")
        XCTAssertEqual(job.jitter, Jitter(job: "backup", seconds: 299))
        XCTAssertNil(try parse("schedule: \"@daily\"\n").jitter)
        XCTAssertNil(try parse("schedule: \"@daily\"\njitter: 0s\n").jitter, "0s means no jitter")
    }

    func testJitterAtLeastTheShortestGapIsAnError() {
        XCTAssertEqual(problems("schedule: \"*/5 * * * *\"\njitter: 5m\n"),
                       ["\(path):2:9: jitter: 5m must be shorter than the shortest time between two occurrences of \"*/5 * * * *\" (5m in UTC, daylight-saving changes included)"])
        XCTAssertEqual(problems("schedule: every 15m\njitter:   1h\n"),
                       ["\(path):2:11: jitter: 1h must be shorter than the shortest time between two occurrences of \"every 15m\" (15m)"])
        // Daily at 02:30 in Dublin: 23 hours apart when the clocks go forward.
        XCTAssertEqual(problems("schedule: \"30 2 * * *\"\ntimezone: Europe/Dublin\njitter: 23h\n"),
                       ["\(path):3:9: jitter: 23h must be shorter than the shortest time between two occurrences of \"30 2 * * *\" (23h in Europe/Dublin, daylight-saving changes included)"])
        XCTAssertNoThrow(try parse("schedule: \"30 2 * * *\"\ntimezone: Europe/Dublin\njitter: 22h59m59s\n"))
    }

    func testJitterNeedsAScheduleAndWholeSeconds() {
        XCTAssertEqual(problems("command: /bin/true\njitter: 5m\n"),
                       ["\(path):2:9: jitter: needs a schedule (a job without one has no occurrences to spread)"])
        XCTAssertEqual(problems("schedule: \"@daily\"\njitter: 1500ms\n"),
                       ["\(path):2:9: jitter: 1500ms is not a whole number of seconds"])
        XCTAssertEqual(problems("schedule: \"@daily\"\njitter: soon\n"),
                       ["\(path):2:9: jitter: invalid duration \"soon\" (use e.g. 90s, 10m, 2h, 1d, 1h30m)"])
    }

    func testABrokenScheduleIsReportedOnceOnItsOwnKey() {
        let found = problems("schedule: \"61 * * * *\"\njitter: 1m\n")
        XCTAssertEqual(found.count, 1)
        XCTAssert(found.first?.hasPrefix("\(path):1:11: schedule:") == true, "\(found)")
    }
}
