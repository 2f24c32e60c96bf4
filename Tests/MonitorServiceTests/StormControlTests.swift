@testable import MonitorService
import XCTest

/// Storm control alone, time given: what goes out alone, what waits, when digests go.
final class StormControlTests: XCTestCase {
    private var serial = 0
    private let settings = StormControl.Settings(burst: 3, waitMs: 10_000, intervalMs: 30_000, repeatIntervalMs: 0)

    private func entry(_ job: String, _ event: String = "trigger") -> OutboxEntry {
        serial += 1
        return OutboxEntry(StreamEntry(id: "1-\(serial)", fields: ["channel": "c", "job": job, "event": event, "kind": "missed", "body": "{}"]))
    }

    private func jobs(_ entries: [OutboxEntry]) -> [String] { entries.map(\.job) }

    func testAQuietChannelSendsAtOnceAndABurstBeyondTheBudgetWaitsForOneDigest() {
        var storm = StormControl(settings: settings)
        var plan = storm.arrived([entry("a")], now: 0)
        XCTAssertEqual(jobs(plan.alone), ["a"], "alone, at once")
        XCTAssertNil(storm.releaseAt)
        storm.sent(at: 0)

        plan = storm.arrived(["b", "c", "d", "e"].map { entry($0) }, now: 1_000)
        XCTAssertEqual(jobs(plan.alone), ["b", "c"], "the budget's rest goes alone")
        storm.sent(at: 1_000)
        storm.sent(at: 1_000)
        XCTAssertEqual(jobs(storm.waiting), ["d", "e"])
        XCTAssertEqual(storm.releaseAt, 11_000, "group_wait after the first began waiting")

        // Budget back (the window slid), but something waits: the newcomer waits too.
        plan = storm.arrived([entry("d", "resolve")], now: 5_000)
        XCTAssertEqual(plan.alone.count, 0)
        plan = storm.release([entry("f")], now: 11_000)
        XCTAssertEqual(jobs(plan.grouped), ["d", "e", "d", "f"], "in arrival order: d's resolve after its trigger")
        storm.sent(at: 11_000)
        XCTAssertNil(storm.releaseAt)
    }

    func testAfterADigestTheNextWaitsAtLeastOneInterval() {
        var storm = StormControl(settings: settings)
        _ = storm.arrived((0..<5).map { entry("j\($0)") }, now: 0)
        for _ in 0..<3 { storm.sent(at: 0) }
        _ = storm.release([], now: 10_000)
        storm.sent(at: 10_000)
        let plan = storm.arrived([entry("late")], now: 12_000)
        XCTAssertEqual(plan.alone.count, 0, "3 alone + 1 digest within 30 s: over the budget of 3")
        XCTAssertEqual(storm.releaseAt, 40_000, "not before the previous digests + group_interval")
        // A quiet minute later the budget is back and an alert goes alone again.
        _ = storm.release([], now: 40_000)
        storm.sent(at: 40_000)
        XCTAssertEqual(jobs(storm.arrived([entry("calm")], now: 100_000).alone), ["calm"])
    }

    func testAnUngroupedChannelSendsEverythingAloneAndDropsOnlyTrimmedEntries() {
        var storm = StormControl(settings: .ungrouped)
        let trimmed = OutboxEntry(StreamEntry(id: "1-0", fields: nil))
        let plan = storm.arrived((0..<50).map { entry("j\($0)") } + [trimmed], now: 0)
        XCTAssertEqual(plan.alone.count, 50)
        XCTAssertEqual(plan.dropped.map(\.id), ["1-0"])
        XCTAssertNil(storm.releaseAt)
    }

    func testRemindersOfAJobReachTheChannelAtMostOncePerRepeatInterval() {
        var storm = StormControl(settings: .init(burst: 0, waitMs: 0, intervalMs: 0, repeatIntervalMs: 3_600_000))
        XCTAssertEqual(storm.arrived([entry("a")], now: 0).alone.count, 1)
        XCTAssertEqual(storm.arrived([entry("a", "repeat")], now: 900_000).dropped.count, 1, "15 min after the trigger")
        XCTAssertEqual(storm.arrived([entry("a", "repeat")], now: 3_600_000).alone.count, 1, "an hour after it")
        XCTAssertEqual(storm.arrived([entry("a", "repeat")], now: 4_500_000).dropped.count, 1)
        // A resolve ends the incident: the next one's reminders count from its own trigger.
        XCTAssertEqual(storm.arrived([entry("a", "resolve"), entry("a"), entry("b", "repeat")], now: 4_600_000).alone.count, 3)
    }
}

/// The retry rule alone: doubling from retry_initial, capped at retry_max, Retry-After first.
final class DeliveryAttemptsTests: XCTestCase {
    func testBackoffDoublesToTheCapAndAHintWins() {
        var attempts = DeliveryAttempts(initialMs: 2_000, maxMs: 300_000)
        XCTAssertEqual((0..<10).map { _ in attempts.failed(hintedMs: 0) },
                       [2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000])
        XCTAssertEqual(attempts.failed(hintedMs: 1_500), 1_500, "Retry-After says how long")
        XCTAssertEqual(attempts.failures, 11)
        var long = DeliveryAttempts(initialMs: 10, maxMs: 1_000)
        for _ in 0..<100 { _ = long.failed(hintedMs: 0) }
        XCTAssertEqual(long.failed(hintedMs: 0), 1_000, "no overflow after many failures")
    }
}
