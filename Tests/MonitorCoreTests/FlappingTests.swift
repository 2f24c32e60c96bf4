import Foundation
import MonitorCore
import XCTest

/// SPEC §6 flapping: more than five open-and-resolve cycles in 24 h flag the job, send one
/// notice, then hold its alerts to one per `realert_every`.
final class FlappingTests: XCTestCase {
    private let hour: Int64 = 3_600_000
    private let context = AlertContext(statusPageURL: nil, monitorHost: "jobmond-1")
    private let spec = JobSpec(name: "flappy", schedule: nil, timezone: "UTC", realertEvery: 4 * 3_600_000, channels: ["pd"])

    private func notices(_ actions: [MonitorAction]) -> [Incident] {
        actions.compactMap { if case .flappingNotice(let i) = $0 { return i } else { return nil } }
    }

    /// A failure at `t`, a success a minute later: one open-and-resolve cycle.
    private func cycle(_ monitor: inout JobMonitor, _ n: Int, at t: Int64) -> (down: [MonitorAction], up: [MonitorAction]) {
        (monitor.run("bad-\(n)", from: t, to: t + 1_000, outcome: .failure, exitCode: 1),
         monitor.run("good-\(n)", from: t + 60_000, to: t + 61_000))
    }

    func testTheSixthCycleIn24HoursFlagsTheJobWithOneNoticeThenAlertsAreHeldToOnePerRealertEvery() throws {
        var monitor = JobMonitor(spec: spec, firstSeen: 0)
        for n in 1...5 {
            let (down, up) = cycle(&monitor, n, at: Int64(n) * hour)
            XCTAssertEqual(down.raised.count, 1, "cycle \(n)")
            XCTAssertEqual(up.resolved.count, 1, "cycle \(n)")
            XCTAssertTrue(notices(up).isEmpty)
            XCTAssertFalse(monitor.isFlapping(at: Int64(n) * hour + 61_000))
        }
        let (down, up) = cycle(&monitor, 6, at: 6 * hour)
        XCTAssertEqual(down.raised.count, 1, "not flapping yet when it opens")
        XCTAssertEqual(up.resolved.count, 1)
        let notice = try XCTUnwrap(notices(up).first)
        XCTAssertEqual(notices(up).count, 1)
        XCTAssertEqual(PagerDutyEvent(.flapping, notice, spec: spec, routingKey: "k", context: context).payload?.summary,
                       "flappy is flapping: its alert opened and resolved 6 times in 24h; "
                       + "until it settles, its alerts go out at most once per 4h")
        XCTAssertTrue(monitor.isFlapping(at: 6 * hour + 61_000))
        let slot = 6 * hour + 61_000 + 4 * hour
        XCTAssertEqual(monitor.nextDeadline, slot, "the resolve is held: the notice left the page open")

        // Flapping on: the next cycles' alerts are held, the latest replacing the one before.
        let seventh = cycle(&monitor, 7, at: 7 * hour)
        XCTAssertEqual(seventh.down.alerts + seventh.up.alerts, 0)
        XCTAssertTrue(notices(seventh.up).isEmpty, "one notice only")
        XCTAssertEqual(monitor.state(at: 7 * hour + 1_000 + 1), .up, "state still recorded")
        _ = monitor.run("bad-8", from: 8 * hour, to: 8 * hour + 1_000, outcome: .failure, exitCode: 1)
        XCTAssertEqual(monitor.state(at: 8 * hour + 1_000), .failed)

        // At the slot the latest word goes out: the job is down again.
        let released = monitor.deadlinePassed(now: slot)
        XCTAssertEqual(released.raised.map(\.lastRun?.runID), ["bad-8"])
        XCTAssertEqual(released.alerts, 1)
        XCTAssertEqual(monitor.run("good-8", from: slot + 1_000, to: slot + 2_000).alerts, 0, "next slot in 4h")

        // Once fewer than six resolves fall in 24 h, it is no longer flapping and what is held goes out.
        let ends = try XCTUnwrap(monitor.resolvedTimes.first) + 24 * hour
        XCTAssertTrue(monitor.isFlapping(at: ends - 1))
        let settled = monitor.deadlinePassed(now: ends)
        XCTAssertEqual(settled.resolved.map(\.lastRun?.runID), ["good-8"])
        XCTAssertFalse(monitor.isFlapping(at: ends))
        XCTAssertNil(monitor.flapping)
    }

    func testFiveCyclesIn24HoursOrSixSpreadWiderAreNotFlapping() {
        var monitor = JobMonitor(spec: spec, firstSeen: 0)
        for n in 1...6 {
            let (_, up) = cycle(&monitor, n, at: Int64(n) * 5 * hour)
            XCTAssertTrue(notices(up).isEmpty)
        }
        XCTAssertFalse(monitor.isFlapping(at: 31 * hour))
        XCTAssertEqual(monitor.resolvedTimes.count, 6, "only the last six are kept")
    }

    func testFlappingSurvivesARestart() throws {
        var monitor = JobMonitor(spec: spec, firstSeen: 0)
        for n in 1...7 { _ = cycle(&monitor, n, at: Int64(n) * hour) }
        var restored = try JSONDecoder().decode(JobMonitor.self, from: Data(monitor.json.utf8))
        XCTAssertEqual(restored, monitor)
        XCTAssertNotNil(restored.flapping?.held)
        XCTAssertEqual(restored.deadlinePassed(now: try XCTUnwrap(restored.flapping?.nextAlert)).resolved.count, 1)
    }
}
