import JobwatchCore
import XCTest

final class TimespanTests: XCTestCase {
    private func ms(_ text: String) -> Int64? { Timespan(parsing: text)?.milliseconds }

    func testSingleUnits() {
        XCTAssertEqual(ms("90s"), 90_000)
        XCTAssertEqual(ms("10m"), 600_000)
        XCTAssertEqual(ms("2h"), 7_200_000)
        XCTAssertEqual(ms("1d"), 86_400_000)
        XCTAssertEqual(ms("250ms"), 250)
        XCTAssertEqual(ms("0s"), 0)
    }

    func testCompoundUnitsAddUp() {
        XCTAssertEqual(ms("1h30m"), 5_400_000)
        XCTAssertEqual(ms("1d2h3m4s"), 93_784_000)
        XCTAssertEqual(ms("1m500ms"), 60_500)
        // "m" followed by "s" is milliseconds, not minutes then a stray "s".
        XCTAssertEqual(ms("5ms"), 5)
    }

    func testBareNumberIsSeconds() {
        XCTAssertEqual(ms("45"), 45_000)
        XCTAssertEqual(ms("0"), 0)
        XCTAssertEqual(ms("  45  "), 45_000, "surrounding whitespace is not part of the value")
    }

    func testInvalidTextIsRejected() {
        for text in ["1h30", "abc", "-5", "", "   ", "h", "1x", "1.5h", "1 h", "m30", "1hms", "-1s"] {
            XCTAssertNil(Timespan(parsing: text), "\"\(text)\" should not parse")
        }
    }

    func testOverflowIsRejectedNotATrap() {
        XCTAssertNil(Timespan(parsing: "99999999999999999999s"))
        XCTAssertNil(Timespan(parsing: "9999999999999999d"))
        // A bare number of seconds whose millisecond value does not fit.
        XCTAssertNil(Timespan(parsing: "9223372036854775807"))
        // Each part fits; their sum does not.
        XCTAssertNil(Timespan(parsing: "5000000000000000000ms5000000000000000000ms"))
    }

    func testDescriptionUsesLargestUnits() {
        XCTAssertEqual(Timespan(seconds: 90).description, "1m30s")
        XCTAssertEqual(Timespan(seconds: 5400).description, "1h30m")
        XCTAssertEqual(Timespan(seconds: 86_400 + 1).description, "1d1s")
        XCTAssertEqual(Timespan(milliseconds: 250).description, "250ms")
        XCTAssertEqual(Timespan(milliseconds: 1500).description, "1500ms")
        XCTAssertEqual(Timespan.zero.description, "0s")
    }

    func testDescriptionRoundTrips() {
        for text in ["90s", "10m", "2h", "1d", "1h30m", "250ms", "45", "1d2h3m4s", "2w", "1500ms", "0"] {
            guard let t = Timespan(parsing: text) else { return XCTFail("\"\(text)\" should parse") }
            XCTAssertEqual(Timespan(parsing: t.description), t, "\(text) → \(t.description)")
        }
    }

    func testArithmeticAndOrdering() {
        let ttl = Timespan(seconds: 60)
        XCTAssertEqual((ttl / 3).milliseconds, 20_000)
        XCTAssertEqual((ttl * 2).milliseconds, 120_000)
        XCTAssertEqual((ttl + Timespan(milliseconds: 1)).milliseconds, 60_001)
        XCTAssertLessThan(Timespan(parsing: "59s")!, Timespan(parsing: "1m")!)
        XCTAssertEqual(Timespan(parsing: "1500ms")!.seconds, 1.5)
        XCTAssertEqual(Timespan(parsing: "1500ms")!.wholeSeconds, 1)
    }
}
