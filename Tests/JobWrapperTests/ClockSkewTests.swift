import Foundation
import JobwatchTestSupport
import XCTest

/// A host whose clock is off (libfaketime's `faketime`) chooses the occurrence by Redis's
/// clock: it claims the occurrence the others claim, and runs nothing when its cron fired at
/// a moment that is no occurrence at all.
final class ClockSkewTests: XCTestCase {
    /// Waits (at most 10 s) until the wall clock's second within each 10 s lies in `window`:
    /// the schedule below has an occurrence every 10 s, and which one is due depends on it.
    private func waitForPhase(_ window: Range<Double>) {
        let deadline = Date().addingTimeInterval(11)
        while Date() < deadline, !window.contains(Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 10)) {
            usleep(20_000)
        }
    }

    func testASkewedHostClaimsTheOccurrenceByRedisClock() throws {
        let faketime = try XCTUnwrap(which("faketime"), "apt-get install faketime")
        let h = try JobrunHarness()
        try h.writeJob("skewed", "schedule: every 10s\ngrace: 3s\ncommand: \"true\"\n")

        // 300 s ahead, fired at an occurrence by its clock, which is one by Redis's too.
        waitForPhase(0.3..<1.5)
        let ahead = try h.jobrun(["--verbose", "skewed"], prefix: [faketime, "-f", "+300s"])
        XCTAssertEqual(ahead.status, 0, ahead.stderrText)
        XCTAssertTrue(ahead.stderrText.contains("this host's clock is 300 s ahead of Redis's"), ahead.stderrText)
        let occurrence = Int64(Date().timeIntervalSince1970) / 10 * 10
        let claimed = try h.redis.cli("KEYS", "test:occ:*")
        XCTAssertEqual(claimed, "test:occ:skewed:\(occurrence)", "the occurrence due by Redis's clock is claimed")

        // A host on time, fired for the same occurrence, finds it taken.
        let onTime = try h.jobrun(["--verbose", "skewed"])
        XCTAssertEqual(onTime.status, 200, onTime.stderrText)
        XCTAssertTrue(onTime.stderrText.contains("occurrence already claimed"), onTime.stderrText)

        // 305 s ahead: its cron fires 5 s after each occurrence by Redis's clock, outside grace.
        waitForPhase(5.3..<6.5)
        let offPhase = try h.jobrun(["--verbose", "skewed"], prefix: [faketime, "-f", "+305s"])
        XCTAssertEqual(offPhase.status, 200, offPhase.stderrText)
        XCTAssertTrue(offPhase.stderrText.contains("no occurrence of skewed is due by Redis's clock"), offPhase.stderrText)
        XCTAssertEqual(try h.redis.cli("KEYS", "test:occ:*").split(separator: "\n").count, 1, "nothing else claimed")
    }
}
