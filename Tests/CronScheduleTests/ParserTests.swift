import XCTest
import CronSchedule

final class ParserTests: XCTestCase {
    private func message(_ expression: String, zone: String = "UTC") -> String {
        do {
            _ = try Schedule(expression, timeZone: zone)
            return "accepted"
        } catch {
            return String(describing: error)
        }
    }

    private func fields(_ expression: String) throws -> CronFields {
        try XCTUnwrap(Schedule(expression, timeZone: "UTC").fields)
    }

    func testErrorMessagesNameTheFieldAndValue() {
        XCTAssertEqual(message("60 * * * *"), "minute field: value 60 out of range 0-59 in \"60\"")
        XCTAssertEqual(message("0 24 * * *"), "hour field: value 24 out of range 0-23 in \"24\"")
        XCTAssertEqual(message("0 0 0 * *"), "day-of-month field: value 0 out of range 1-31 in \"0\"")
        XCTAssertEqual(message("0 0 * 1-13 *"), "month field: value 13 out of range 1-12 in \"1-13\"")
        XCTAssertEqual(message("0 0 * * 8"), "day-of-week field: value 8 out of range 0-7 in \"8\"")
        XCTAssertEqual(message("0 0 * * fri-mon"), "day-of-week field: range fri-mon is descending")
        XCTAssertEqual(message("5-1 * * * *"), "minute field: range 5-1 is descending")
        XCTAssertEqual(message("*/0 * * * *"), "minute field: step 0 in \"*/0\"")
        XCTAssertEqual(message("0 1-5/0 * * *"), "hour field: step 0 in \"1-5/0\"")
        XCTAssertEqual(message("0 */x * * *"), "hour field: invalid step \"x\" in \"*/x\"")
        XCTAssertEqual(message("0 0 * *"), "expected 5 fields, got 4")
        XCTAssertEqual(message("0 0 * * * *"), "expected 5 fields, got 6")
        XCTAssertEqual(message(""), "empty expression")
        XCTAssertEqual(message("a * * * *"), "minute field: invalid value \"a\" in \"a\"")
        XCTAssertEqual(message("0 0 * * sunday"), "day-of-week field: invalid value \"sunday\" in \"sunday\"")
        XCTAssertEqual(message("0 0 * jan-feb-mar *"), "month field: invalid value \"feb-mar\" in \"jan-feb-mar\"")
        XCTAssertEqual(message("1,,2 * * * *"), "minute field: empty item in \"1,,2\"")
        XCTAssertEqual(message("0 0 L * *"), "day-of-month field: invalid value \"L\" in \"L\"")
        XCTAssertEqual(message("0 0 30 2 *"), "expression \"0 0 30 2 *\" can never fire")
        XCTAssertEqual(message("0 0 31 4,6,9,11 *"), "expression \"0 0 31 4,6,9,11 *\" can never fire")
        XCTAssertEqual(message("0 0 30 feb */2"), "expression \"0 0 30 feb */2\" can never fire")
        XCTAssertEqual(message("@fortnightly"), "unknown macro \"@fortnightly\" (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)")
        XCTAssertEqual(message("0 0 * * *", zone: "Mars/Base"), "unknown time zone \"Mars/Base\"")
        XCTAssertEqual(message("0 0 * * *", zone: "../../etc/passwd"), "unknown time zone \"../../etc/passwd\"")
        XCTAssertEqual(message("every 0s"), "every: duration \"0s\" out of range 1s-31d")
        XCTAssertEqual(message("every 32d"), "every: duration \"32d\" out of range 1s-31d")
        XCTAssertEqual(message("every 10x"), "every: invalid duration \"10x\" (use e.g. 90s, 10m, 2h, 1d, 1h30m or seconds)")
        XCTAssertEqual(message("every 1h30"), "every: invalid duration \"1h30\" (use e.g. 90s, 10m, 2h, 1d, 1h30m or seconds)")
        XCTAssertEqual(message("every"), "every: invalid duration \"\" (use e.g. 90s, 10m, 2h, 1d, 1h30m or seconds)")
    }

    func testTypedErrors() {
        XCTAssertThrowsError(try Schedule("0 0 * * fri-mon", timeZone: "UTC")) { error in
            XCTAssertEqual(error as? ScheduleError, .descendingRange(field: .dayOfWeek, range: "fri-mon"))
        }
    }

    func testExpansion() throws {
        let f = try fields("*/15 1-3,22 1-30/7 */5 *")
        XCTAssertEqual(f.minutes, [0, 15, 30, 45])
        XCTAssertEqual(f.hours, [1, 2, 3, 22])
        XCTAssertEqual(f.daysOfMonth, [1, 8, 15, 22, 29])
        XCTAssertEqual(f.months, [1, 6, 11])
        XCTAssertEqual(f.daysOfWeek, [0, 1, 2, 3, 4, 5, 6])
        XCTAssertTrue(f.domStar == false && f.dowStar)
    }

    func testValueWithStepRunsToTheFieldMaximum() throws {
        XCTAssertEqual(try fields("50/3 * * * *").minutes, [50, 53, 56, 59])
        XCTAssertEqual(try fields("0 20/2 * * *").hours, [20, 22])
        // Day-of-week's maximum is 7, so 1/2 reaches Sunday (as in cronsim).
        XCTAssertEqual(try fields("0 0 * * 1/2").daysOfWeek, [0, 1, 3, 5])
    }

    func testOneValueRangeWithStepIsThatValue() throws {
        // Vixie cron reads 16-16/2 as 16; cronsim as 16/2 (docs/cron-notes.md).
        XCTAssertEqual(try fields("16-16/2 * * * *").minutes, [16])
        XCTAssertEqual(try fields("0 0 * * fri-fri/2").daysOfWeek, [5])
    }

    func testNamesAreCaseInsensitiveInRangesAndLists() throws {
        XCTAssertEqual(try fields("0 9 * * Mon-FRI").daysOfWeek, [1, 2, 3, 4, 5])
        XCTAssertEqual(try fields("0 9 * * mon,wed,Fri").daysOfWeek, [1, 3, 5])
        XCTAssertEqual(try fields("0 9 * JAN-mar,Dec *").months, [1, 2, 3, 12])
        XCTAssertEqual(try fields("0 9 * jan/4 *").months, [1, 5, 9])
        XCTAssertEqual(try fields("0 9 * * sat-7").daysOfWeek, [0, 6])
    }

    func testSevenIsSunday() throws {
        XCTAssertEqual(try fields("0 0 * * 7").daysOfWeek, [0])
        XCTAssertEqual(try fields("0 0 * * 0").daysOfWeek, [0])
        XCTAssertEqual(try fields("0 0 * * 5-7").daysOfWeek, [0, 5, 6])
    }

    func testMacros() throws {
        let expansions = [
            "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
            "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
        ]
        for (macro, expansion) in expansions {
            let a = try Schedule(macro.uppercased(), timeZone: "Europe/Dublin")
            let b = try Schedule(expansion, timeZone: "Europe/Dublin")
            XCTAssertEqual(a.fields, b.fields, macro)
            XCTAssertEqual(a.isFixedTime, b.isFixedTime, macro)
            XCTAssertEqual(a.occurrences(from: 1_700_000_000, through: 1_800_000_000),
                           b.occurrences(from: 1_700_000_000, through: 1_800_000_000), macro)
        }
    }

    func testFixedTimeAndPeriod() throws {
        XCTAssertTrue(try Schedule("30 2 * * *", timeZone: "UTC").isFixedTime)
        XCTAssertTrue(try Schedule("0-59 0-23 * * *", timeZone: "UTC").isFixedTime)
        XCTAssertFalse(try Schedule("0 */2 * * *", timeZone: "UTC").isFixedTime)
        XCTAssertFalse(try Schedule("*/5 2 * * *", timeZone: "UTC").isFixedTime)
        XCTAssertFalse(try Schedule("@hourly", timeZone: "UTC").isFixedTime)
        XCTAssertNil(try Schedule("@daily", timeZone: "UTC").period)
        XCTAssertEqual(try Schedule("every 1h30m", timeZone: "UTC").period, 5400)
        XCTAssertEqual(try Schedule("every 90s", timeZone: "UTC").period, 90)
        XCTAssertEqual(try Schedule("every 600", timeZone: "UTC").period, 600)
        XCTAssertEqual(try Schedule("EVERY 1d", timeZone: "UTC").period, 86_400)
        XCTAssertEqual(try Schedule("every 31d", timeZone: "UTC").period, 31 * 86_400)
        XCTAssertNil(try Schedule("every 2h", timeZone: "UTC").fields)
    }

    func testEqualityIsByExpressionAndZone() throws {
        let a = try Schedule("0 9 * * 1-5", timeZone: "Europe/Riga")
        XCTAssertEqual(a, try Schedule("0 9 * * 1-5", timeZone: "Europe/Riga"))
        XCTAssertNotEqual(a, try Schedule("0 9 * * 1-5", timeZone: "UTC"))
        XCTAssertEqual(Set([a, a]).count, 1)
    }
}
