import Foundation
import XCTest
import CronSchedule

final class ScheduleTests: XCTestCase {
    private func t(_ text: String) -> Int64 { parseRFC3339(text)! }

    /// The next `count` occurrences after `start`, formatted in the schedule's zone.
    private func next(_ expression: String, _ zone: String, after start: String, count: Int = 2) throws -> [String] {
        let schedule = try Schedule(expression, timeZone: zone)
        var cursor = t(start)
        return (0..<count).compactMap { _ in
            schedule.next(after: cursor).map { cursor = $0; return rfc3339($0, timeZone: zone) }
        }
    }

    func testNextIsStrictlyAfter() throws {
        XCTAssertEqual(try next("30 2 * * *", "UTC", after: "2026-01-01T02:30:00Z", count: 1), ["2026-01-02T02:30:00+00:00"])
        XCTAssertEqual(try next("30 2 * * *", "UTC", after: "2026-01-01T02:29:59Z", count: 1), ["2026-01-01T02:30:00+00:00"])
    }

    func testWeekdaysInADSTZone() throws {
        XCTAssertEqual(try next("0 9 * * 1-5", "Europe/Riga", after: "2026-03-27T12:00:00+02:00"),
                       ["2026-03-30T09:00:00+03:00", "2026-03-31T09:00:00+03:00"])
    }

    func testVixieDayRule() throws {
        // Neither field starts with *: the 1st, the 15th and every Friday.
        XCTAssertEqual(try next("30 4 1,15 * 5", "UTC", after: "2026-05-01T05:00:00Z", count: 4),
                       ["2026-05-08T04:30:00+00:00", "2026-05-15T04:30:00+00:00",
                        "2026-05-22T04:30:00+00:00", "2026-05-29T04:30:00+00:00"])
        // */2 counts as a star, so both must match: odd days that are Fridays.
        XCTAssertEqual(try next("0 0 */2 * fri", "UTC", after: "2026-05-01T00:00:00Z", count: 3),
                       ["2026-05-15T00:00:00+00:00", "2026-05-29T00:00:00+00:00", "2026-06-05T00:00:00+00:00"])
        XCTAssertEqual(try next("0 0 13 * */1", "UTC", after: "2026-05-01T00:00:00Z", count: 1), ["2026-05-13T00:00:00+00:00"])
        let and = try XCTUnwrap(Schedule("0 0 1 * */3", timeZone: "UTC").fields)
        XCTAssertTrue(and.daysMustMatchBoth)
        XCTAssertFalse(try XCTUnwrap(Schedule("0 0 1 * 3", timeZone: "UTC").fields).daysMustMatchBoth)
    }

    func testLeapDay() throws {
        XCTAssertEqual(try next("0 0 29 2 *", "Europe/Dublin", after: "2025-01-01T00:00:00Z"),
                       ["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"])
    }

    func testEveryFifteenMinutesIsAlignedToTheEpochInUTC() throws {
        XCTAssertEqual(try next("every 15m", "America/Sao_Paulo", after: "2026-06-01T10:07:00Z", count: 4),
                       ["2026-06-01T07:15:00-03:00", "2026-06-01T07:30:00-03:00",
                        "2026-06-01T07:45:00-03:00", "2026-06-01T08:00:00-03:00"])
        let every = try Schedule("every 15m", timeZone: "Asia/Kolkata")
        XCTAssertEqual(every.previous(atOrBefore: t("2026-06-01T10:15:00Z")), t("2026-06-01T10:15:00Z"))
        XCTAssertEqual(every.previous(atOrBefore: t("2026-06-01T10:14:59Z")), t("2026-06-01T10:00:00Z"))
        // A period crossing a DST change keeps its length.
        let hourly = try Schedule("every 1h", timeZone: "Europe/Dublin")
        XCTAssertEqual(hourly.occurrences(from: t("2026-03-29T00:00:00Z"), through: t("2026-03-29T02:00:00Z")),
                       [t("2026-03-29T00:00:00Z"), t("2026-03-29T01:00:00Z"), t("2026-03-29T02:00:00Z")])
    }

    // MARK: DST, Debian cron style

    func testFixedTimeInASpringForwardGapRunsAtTheEndOfTheGap() throws {
        XCTAssertEqual(try next("30 1 * * *", "Europe/Dublin", after: "2026-03-28T12:00:00Z"),
                       ["2026-03-29T02:00:00+01:00", "2026-03-30T01:30:00+01:00"])
        XCTAssertEqual(try next("30 2 * * *", "America/New_York", after: "2026-03-07T12:00:00-05:00"),
                       ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"])
        XCTAssertEqual(try next("15 2 * * *", "Australia/Lord_Howe", after: "2025-10-04T12:00:00+10:30"),
                       ["2025-10-05T02:30:00+11:00", "2025-10-06T02:15:00+11:00"])
        XCTAssertEqual(try next("0 3 * * *", "Pacific/Chatham", after: "2025-09-27T12:00:00+12:45"),
                       ["2025-09-28T03:45:00+13:45", "2025-09-29T03:00:00+13:45"])
        // Several skipped times collapse into one run.
        XCTAssertEqual(try next("0,30 2 * * *", "America/New_York", after: "2026-03-08T00:00:00-05:00", count: 3),
                       ["2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00", "2026-03-09T02:30:00-04:00"])
    }

    func testFixedTimeInARepeatedHourRunsOnceAtTheFirstInstant() throws {
        XCTAssertEqual(try next("30 1 * * *", "Europe/Dublin", after: "2026-10-24T12:00:00+01:00"),
                       ["2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00+00:00"])
    }

    func testWallClockJobsRunInBothCopiesOfARepeatedHour() throws {
        XCTAssertEqual(try next("0 * * * *", "Europe/Dublin", after: "2026-10-24T23:30:00+01:00", count: 4),
                       ["2026-10-25T00:00:00+01:00", "2026-10-25T01:00:00+01:00",
                        "2026-10-25T01:00:00+00:00", "2026-10-25T02:00:00+00:00"])
    }

    func testWallClockJobsSkipTimesThatDoNotExist() throws {
        XCTAssertEqual(try next("*/30 0 * * *", "America/Sao_Paulo", after: "2018-11-03T12:00:00-03:00"),
                       ["2018-11-05T00:00:00-02:00", "2018-11-05T00:30:00-02:00"])
    }

    func testZoneRulesBeyondTheCompiledTable() throws {
        // tzdata lists New York's transitions to 2037; the POSIX rule carries on.
        XCTAssertEqual(try next("0 12 4 7 *", "America/New_York", after: "2300-01-01T00:00:00Z", count: 1),
                       ["2300-07-04T12:00:00-04:00"])
    }

    // MARK: Where cronsim is wrong (docs/cron-notes.md)

    func testFixedTimeJobStartedInTheSecondCopyDoesNotAnswerInThePast() throws {
        // cronsim answers 2026-11-01T01:45:00-04:00, 45 minutes before the start.
        XCTAssertEqual(try next("45 1 * * *", "America/New_York", after: "2026-11-01T01:30:00-05:00", count: 1),
                       ["2026-11-02T01:45:00-05:00"])
    }

    func testWallClockAfterAHalfHourShift() throws {
        // cronsim steps hours in real time and lands on 03:30, missing 03:00-03:29.
        XCTAssertEqual(try next("* 3 * * *", "Australia/Lord_Howe", after: "2005-10-29T17:44:39+10:30"),
                       ["2005-10-30T03:00:00+11:00", "2005-10-30T03:01:00+11:00"])
        // cronsim skips the whole day: 03:45-03:59 exist after the 02:45 -> 03:45 jump.
        XCTAssertEqual(try next("* 1,12,3 * * 7", "Pacific/Chatham", after: "2007-09-30T02:34:07+12:45", count: 1),
                       ["2007-09-30T03:45:00+13:45"])
    }

    func testWallClockAfterAFallBackInChathamMovesForward() throws {
        // cronsim jumps back from 03:44+13:45 to 03:04+13:45 and loops.
        XCTAssertEqual(try next("4-56 */3 * * *", "Pacific/Chatham", after: "2027-04-04T03:42:00+13:45", count: 4),
                       ["2027-04-04T03:43:00+13:45", "2027-04-04T03:44:00+13:45",
                        "2027-04-04T03:04:00+12:45", "2027-04-04T03:05:00+12:45"])
    }

    func testWallClockJobDoesNotRunAtASkippedMidnight() throws {
        // cronsim answers 2008-10-19T01:00-02:00 (its "00:00-03:00"), which matches no field.
        XCTAssertEqual(try next("*/20 */3 * * 1,4,5,SUN", "America/Sao_Paulo", after: "2008-10-18T22:02:46-03:00", count: 1),
                       ["2008-10-19T03:00:00-02:00"])
    }

    func testOneValueRangeWithStep() throws {
        // cronsim: 02:16, 02:18, 02:20 ...
        XCTAssertEqual(try next("16-16/2 2 * * *", "UTC", after: "2030-03-11T18:38:37Z"),
                       ["2030-03-12T02:16:00+00:00", "2030-03-13T02:16:00+00:00"])
    }

    // MARK: previous(atOrBefore:)

    func testPreviousAtOrBefore() throws {
        let nightly = try Schedule("30 2 * * *", timeZone: "Europe/Dublin")
        XCTAssertEqual(nightly.previous(atOrBefore: t("2026-06-10T02:30:00+01:00")), t("2026-06-10T02:30:00+01:00"))
        XCTAssertEqual(nightly.previous(atOrBefore: t("2026-06-10T02:29:59+01:00")), t("2026-06-09T02:30:00+01:00"))
        let gap = try Schedule("30 1 * * *", timeZone: "Europe/Dublin")
        XCTAssertEqual(gap.previous(atOrBefore: t("2026-03-29T12:00:00+01:00")), t("2026-03-29T02:00:00+01:00"))
        XCTAssertEqual(gap.previous(atOrBefore: t("2026-10-25T01:40:00+00:00")), t("2026-10-25T01:30:00+01:00"))
        let instant = try XCTUnwrap(nightly.previous(atOrBefore: 1_781_055_000))
        XCTAssertEqual(nightly.next(after: instant - 1), instant)
    }

    func testPreviousIsConsistentWithNext() throws {
        var generator = SystemRandomNumberGenerator()
        let expressions = ["*/5 * * * *", "30 2 * * *", "0 9 * * 1-5", "0,30 1-3 * * *", "* 2 * * *",
                           "15 */2 1,15 * mon", "0 0 29 2 *", "4-56 */3 * * *", "45 1,2,3 * * 0"]
        let zones = ["Europe/Dublin", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham",
                     "America/Sao_Paulo", "UTC"]
        for expression in expressions {
            for zone in zones {
                let schedule = try Schedule(expression, timeZone: zone)
                for _ in 0..<150 {
                    let t = Int64.random(in: 946_684_800...2_000_000_000, using: &generator)
                    guard let p = schedule.previous(atOrBefore: t) else { XCTFail("\(expression) \(zone) \(t)"); continue }
                    XCTAssertLessThanOrEqual(p, t)
                    XCTAssertEqual(schedule.next(after: p - 1), p, "\(expression) in \(zone) at \(t)")
                    XCTAssertGreaterThan(try XCTUnwrap(schedule.next(after: p)), t, "\(expression) in \(zone) at \(t)")
                }
            }
        }
    }

    func testOccurrencesOverAWeek() throws {
        let schedule = try Schedule("*/5 * * * *", timeZone: "Europe/Dublin")
        let week = schedule.occurrences(from: t("2026-03-23T00:00:00Z"), through: t("2026-03-29T23:59:59Z"))
        XCTAssertEqual(week.count, 7 * 288)
        XCTAssertEqual(week.first, t("2026-03-23T00:00:00Z"))
        XCTAssertEqual(try Schedule("30 1 * * *", timeZone: "Europe/Dublin")
            .occurrences(from: t("2026-03-23T00:00:00Z"), through: t("2026-03-29T23:59:59Z")).count, 7)
    }

    func testAStartBelongsToTheLatestOccurrenceWithinGrace() throws {
        let hourly = try Schedule("0 * * * *", timeZone: "UTC")
        let nine: Int64 = 1_774_688_400_000   // 2026-03-28T09:00:00Z
        XCTAssertEqual(hourly.occurrence(startingAtMs: nine, graceMs: 0), nine, "on the dot")
        XCTAssertEqual(hourly.occurrence(startingAtMs: nine + 90_000, graceMs: 90_000), nine, "the grace's last millisecond")
        XCTAssertNil(hourly.occurrence(startingAtMs: nine + 90_001, graceMs: 90_000), "past it: no occurrence")
        XCTAssertEqual(hourly.occurrence(startingAtMs: nine - 1, graceMs: 3_600_000), nine - 3_600_000, "the previous hour's")
    }
}
