import XCTest
import CronSchedule

final class RFC3339Tests: XCTestCase {
    func testFormatsWithTheOffsetInForceAtThatInstant() {
        XCTAssertEqual(rfc3339(1_774_747_800, timeZone: "Europe/Dublin"), "2026-03-29T02:30:00+01:00")
        XCTAssertEqual(rfc3339(0, timeZone: "UTC"), "1970-01-01T00:00:00+00:00")
        XCTAssertEqual(rfc3339(1_700_000_000, timeZone: "America/New_York"), "2023-11-14T17:13:20-05:00")
        XCTAssertEqual(rfc3339(1_700_000_000, timeZone: "Asia/Kolkata"), "2023-11-15T03:43:20+05:30")
        XCTAssertEqual(rfc3339(1_700_000_000, timeZone: "Pacific/Chatham"), "2023-11-15T11:58:20+13:45")
        XCTAssertEqual(rfc3339(-1, timeZone: "UTC"), "1969-12-31T23:59:59+00:00")
    }

    func testParses() {
        XCTAssertEqual(parseRFC3339("2026-03-29T02:30:00+01:00"), 1_774_747_800)
        XCTAssertEqual(parseRFC3339("2026-03-29T01:30:00Z"), 1_774_747_800)
        XCTAssertEqual(parseRFC3339("2026-03-29t01:30:00.999z"), 1_774_747_800)
        XCTAssertEqual(parseRFC3339("2026-03-28T20:30:00.5-05:00"), 1_774_747_800)
        XCTAssertEqual(parseRFC3339("2026-03-29 01:30:00+00:00"), 1_774_747_800)
    }

    func testParsesMillisecondsTruncatingLongerFractions() {
        XCTAssertEqual(parseRFC3339Milliseconds("2026-03-29T01:30:00Z"), 1_774_747_800_000)
        XCTAssertEqual(parseRFC3339Milliseconds("2026-03-29T01:30:00.5Z"), 1_774_747_800_500)
        XCTAssertEqual(parseRFC3339Milliseconds("2026-03-29T01:30:00.0429999+00:00"), 1_774_747_800_042)
        XCTAssertEqual(parseRFC3339Milliseconds("2026-03-28T20:30:00.123-05:00"), 1_774_747_800_123)
        XCTAssertEqual(parseRFC3339Milliseconds("1969-12-31T23:59:59.250Z"), -750)
        XCTAssertEqual(parseRFC3339("1969-12-31T23:59:59.250Z"), -1)
        XCTAssertNil(parseRFC3339Milliseconds("2026-03-29T01:30:00.Z"))
        XCTAssertNil(parseRFC3339Milliseconds("2026-03-29T01:30:00.5"))
    }

    func testRejects() {
        for text in ["", "2026-03-29", "2026-03-29T01:30:00", "2026-02-30T00:00:00Z", "2026-03-29T24:00:00Z",
                     "2026-03-29T01:30:00+0100", "2026-03-29T01:30:00.Z", "2026-03-29T01:30:00Zjunk", "26-03-29T01:30:00Z"] {
            XCTAssertNil(parseRFC3339(text), text)
        }
    }

    func testRejectsOffsetsThatLeaveYears0000To9999() {
        XCTAssertEqual(parseRFC3339Milliseconds("0000-01-01T00:00:00Z"), rfc3339Instants.lowerBound)
        XCTAssertEqual(parseRFC3339Milliseconds("9999-12-31T23:59:59.999Z"), rfc3339Instants.upperBound - 1)
        XCTAssertEqual(parseRFC3339Milliseconds("9999-12-31T23:59:59+01:00"), rfc3339Instants.upperBound - 3_601_000)
        for text in ["0000-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01", "9999-12-31T23:59:60Z"] {
            XCTAssertNil(parseRFC3339Milliseconds(text), text)
        }
    }

    func testTakesLeapSecondsAtTheEndOfAUTCDayOnly() {
        XCTAssertEqual(parseRFC3339("2016-12-31T23:59:60Z"), parseRFC3339("2017-01-01T00:00:00Z"))
        XCTAssertEqual(parseRFC3339("2016-12-31T18:59:60-05:00"), parseRFC3339("2017-01-01T00:00:00Z"))
        for text in ["2016-12-31T23:58:60Z", "2016-12-31T23:59:60+01:00", "4439-10-30T00:59:60.781311-23:25"] {
            XCTAssertNil(parseRFC3339Milliseconds(text), text)
        }
    }

    func testRejectsTimesWhoseUTCFormHasNoFourDigitYear() {
        XCTAssertNil(parseRFC3339Milliseconds("9999-12-31T23:59:60.999-23:59"))
        XCTAssertNil(parseRFC3339Milliseconds("0000-01-01T00:00:00+00:01"))
        XCTAssertEqual(parseRFC3339Milliseconds("0000-01-01T00:00:00Z"), -62_167_219_200_000)
        XCTAssertEqual(parseRFC3339Milliseconds("9999-12-31T23:59:59.999Z"), 253_402_300_799_999)
    }

    func testRoundTrips() {
        for t in stride(from: Int64(-86_400 * 400), to: 4_102_444_800, by: 7_777_777) {
            for zone in ["Europe/Riga", "Australia/Lord_Howe", "America/Sao_Paulo"] {
                XCTAssertEqual(parseRFC3339(rfc3339(t, timeZone: zone)), t)
            }
        }
    }
}
