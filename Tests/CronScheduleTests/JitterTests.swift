import CronSchedule
import XCTest

/// SPEC §6 jitter: the offset is a documented hash of job and occurrence, so every host, the
/// monitor and any other tool agree on it. The pinned values were also computed with the
/// Python version in docs/CONFIGURATION.md: a change here breaks agreement with deployed hosts.
final class JitterTests: XCTestCase {
    private func t(_ text: String) -> Int64 { parseRFC3339(text)! }

    func testPinnedHashesAndOffsets() {
        // A span beyond every hash value exposes the whole 64-bit hash.
        XCTAssertEqual(Jitter(job: "backup", seconds: .max).offset(of: 1_767_225_600), 0x1067_c0b3_59e2_0b96)
        XCTAssertEqual(Jitter(job: "nightly-report", seconds: .max).offset(of: 0), 0x2386_fbda_b856_8598)
        let fiveMinutes = Jitter(job: "backup", seconds: 300)
        XCTAssertEqual((0..<5).map { fiveMinutes.offset(of: 1_767_225_600 + $0 * 300) }, [246, 67, 85, 221, 60])
        let twoHours = Jitter(job: "backup", seconds: 7200)
        XCTAssertEqual(twoHours.offset(of: t("2026-03-29T01:30:00Z")), 4346)
        XCTAssertEqual(twoHours.start(of: t("2026-03-30T01:30:00Z")), t("2026-03-30T03:07:20Z"))
    }

    func testOffsetsStayInsideTheSpan() {
        for span: Int64 in [1, 2, 7, 60, 300, 86_400] {
            let jitter = Jitter(job: "cache-warm", seconds: span)
            for k: Int64 in 0..<2_000 {
                XCTAssert((0..<span).contains(jitter.offset(of: 1_767_225_600 + k * 60)))
            }
        }
        XCTAssertEqual(Jitter(job: "x", seconds: 1).offset(of: 12_345), 0)
    }

    /// Consecutive occurrences differ only in their last digits: the finaliser must still
    /// spread them over the whole span. Deterministic input, so this never flakes.
    func testOffsetsAreRoughlyUniform() {
        for (job, span) in [("cache-warm", Int64(60)), ("db-backup", 7), ("a", 1000)] {
            let jitter = Jitter(job: job, seconds: span)
            let buckets = 10
            var counts = [Int](repeating: 0, count: buckets)
            let samples = 100_000
            for k in 0..<Int64(samples) {
                counts[Int(jitter.offset(of: 1_767_225_600 + k * 300) * Int64(buckets) / span)] += 1
            }
            // Bucket sizes differ by at most one value when the span is not a multiple of 10.
            for (index, count) in counts.enumerated() {
                let values = Double((Int64(index + 1) * span + 9) / 10 - (Int64(index) * span + 9) / 10)
                let expected = Double(samples) * values / Double(span)
                XCTAssertEqual(Double(count), expected, accuracy: expected * 0.05, "\(job) span \(span) bucket \(index): \(counts)")
            }
        }
    }

    func testStartsAfterAnInstantFollowTheOffsets() throws {
        let schedule = try Schedule("*/5 * * * *", timeZone: "UTC")
        let jitter = Jitter(job: "backup", seconds: 240)
        let occurrence = t("2026-01-01T00:00:00Z")
        let start = occurrence + jitter.offset(of: occurrence)
        XCTAssertGreaterThan(start, occurrence, "the pinned offset is not zero")
        // Just before the jittered start, that occurrence is still the next one to start.
        XCTAssertEqual(schedule.firstOccurrence(startingAfter: start - 1, jitter: jitter), occurrence)
        XCTAssertEqual(schedule.firstOccurrence(startingAfter: start, jitter: jitter), occurrence + 300)
        XCTAssertEqual(schedule.firstOccurrence(startingAfter: start, jitter: nil), schedule.next(after: start))
    }

    func testAStartBelongsToItsOccurrenceUntilItsJitteredStartPlusGrace() throws {
        let schedule = try Schedule("*/5 * * * *", timeZone: "UTC")
        let jitter = Jitter(job: "backup", seconds: 240)
        let occurrence = t("2026-01-01T00:00:00Z")
        let deadline = (occurrence + jitter.offset(of: occurrence)) * 1000 + 30_000
        XCTAssertEqual(schedule.occurrence(startingAtMs: occurrence * 1000, graceMs: 30_000, jitter: jitter), occurrence * 1000)
        XCTAssertEqual(schedule.occurrence(startingAtMs: deadline, graceMs: 30_000, jitter: jitter), occurrence * 1000)
        XCTAssertNil(schedule.occurrence(startingAtMs: deadline + 1, graceMs: 30_000, jitter: jitter))
        XCTAssertNil(schedule.occurrence(startingAtMs: occurrence * 1000 + 30_001, graceMs: 30_000))
    }
}

final class ShortestGapTests: XCTestCase {
    private func gap(_ expression: String, _ zone: String = "UTC") throws -> Int64 {
        try Schedule(expression, timeZone: zone).shortestGap
    }

    func testEveryIsItsPeriod() throws {
        XCTAssertEqual(try gap("every 15m", "Europe/Dublin"), 900)
        XCTAssertEqual(try gap("every 7s"), 7)
    }

    func testCronPatterns() throws {
        XCTAssertEqual(try gap("*/5 * * * *"), 300)
        XCTAssertEqual(try gap("0,50 * * * *"), 600)
        XCTAssertEqual(try gap("@hourly"), 3600)
        XCTAssertEqual(try gap("30 2 * * *"), 86_400)
        XCTAssertEqual(try gap("0 9 * * 1-5"), 86_400)
        XCTAssertEqual(try gap("0 22,2 * * *"), 4 * 3600)
        XCTAssertEqual(try gap("@weekly"), 7 * 86_400)
        XCTAssertEqual(try gap("0 0 1 1 *"), 365 * 86_400)
        // A 13th that is a Thursday, then Friday the 14th (either day field may match).
        XCTAssertEqual(try gap("0 0 13 * 5"), 86_400)
        XCTAssertEqual(try gap("0 0 29 2 *"), 1461 * 86_400)
        XCTAssertEqual(try gap("0 12 31 * *"), 31 * 86_400)
    }

    func testDaylightSavingChangesShortenGaps() throws {
        // 02:30 IST on the day clocks go forward is 23 hours after the day before's 02:30 GMT.
        XCTAssertEqual(try gap("30 2 * * *", "Europe/Dublin"), 23 * 3600)
        // 01:30 falls in the skipped hour: it runs at the gap's end, 02:00 IST.
        XCTAssertEqual(try gap("30 1 * * *", "Europe/Dublin"), 23 * 3600 + 1800)
        // Wall-clock job on fall-back: 02:59 CEST, then 02:00 CET one minute later.
        XCTAssertEqual(try gap("0,59 */2 * * *", "Europe/Berlin"), 60)
        XCTAssertEqual(try gap("0,59 */2 * * *"), 59 * 60)
    }
}
