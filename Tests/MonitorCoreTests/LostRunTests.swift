import Foundation
import MonitorCore
import XCTest

/// A run whose lease expires with no finish report is lost: its host or jobrun died.
final class LostRunTests: XCTestCase {
    private func runningWithLease(_ monitor: inout JobMonitor, from start: Int64 = 10_000) {
        _ = monitor.runStarted(runID: "r1", host: "web3", at: start, scheduledFor: 10_000, leaseMs: 6_000)
    }

    func testTheLeaseIsLookedAtOnlyOnceItShouldHaveBeenRenewed() throws {
        var monitor = JobMonitor(spec: unscheduledJob(), firstSeen: 1_000)
        runningWithLease(&monitor)
        XCTAssertEqual(monitor.nextDeadline, 18_000, "start + lease + slack")
        XCTAssertEqual(monitor.leasesDue(now: 17_999), [])
        XCTAssertEqual(monitor.leasesDue(now: 18_000), ["r1"])
    }

    func testARenewedLeaseMovesTheNextLook() throws {
        var monitor = JobMonitor(spec: unscheduledJob(), firstSeen: 1_000)
        runningWithLease(&monitor)
        let actions = monitor.leaseChecked(runID: "r1", heldUntil: 22_000, now: 18_000)
        XCTAssertEqual(actions.alerts, 0)
        XCTAssertEqual(monitor.state(at: 18_000), .running)
        XCTAssertEqual(monitor.nextDeadline, 24_000)
        XCTAssertEqual(monitor.leasesDue(now: 23_000), [])
    }

    func testAnExpiredLeaseWithoutAFinishIsALostRunThatAlertsOnce() throws {
        var monitor = JobMonitor(spec: unscheduledJob(), firstSeen: 1_000)
        runningWithLease(&monitor)
        let actions = monitor.leaseChecked(runID: "r1", heldUntil: nil, now: 18_000)
        XCTAssertEqual(actions.raised.map(\.kind), [.lost])
        XCTAssertEqual(actions.raised.first?.lastRun?.host, "web3")
        XCTAssertEqual(actions.raised.first?.reason,
                       "run r1 on web3 stopped renewing its lease (last renewed about 1970-01-01T00:00:10+00:00) and sent no finish: its host or jobrun died")
        XCTAssertEqual(actions.changes.map(\.to), [.lost])
        XCTAssertEqual(monitor.state(at: 18_000), .lost)
        XCTAssertEqual(monitor.leasesDue(now: 100_000), [], "a lost run is not looked at again")
        XCTAssertEqual(monitor.leaseChecked(runID: "r1", heldUntil: nil, now: 30_000).alerts, 0)
        XCTAssertEqual(monitor.deadlinePassed(now: 100_000).alerts, 0)
    }

    func testALateFinishResolvesTheLostRun() throws {
        var monitor = JobMonitor(spec: unscheduledJob(), firstSeen: 1_000)
        runningWithLease(&monitor)
        _ = monitor.leaseChecked(runID: "r1", heldUntil: nil, now: 18_000)
        let actions = monitor.runFinished(runID: "r1", at: 40_000, exitCode: 0, signal: nil, outcome: .success, durationMs: 30_000)
        XCTAssertEqual(actions.resolved.map(\.kind), [.lost])
        XCTAssertEqual(actions.raised, [])
        XCTAssertEqual(monitor.state(at: 40_000), .up)
    }

    /// The next good run ends the incident; the lost run, still listed for its late finish, does
    /// not make the job look running.
    func testALaterSuccessResolvesTheLostRunAndTheJobIsUpNotRunning() throws {
        var monitor = JobMonitor(spec: unscheduledJob(), firstSeen: 1_000)
        runningWithLease(&monitor)
        _ = monitor.leaseChecked(runID: "r1", heldUntil: nil, now: 18_000)
        _ = monitor.runStarted(runID: "r2", host: "web4", at: 20_000, leaseMs: 6_000)
        XCTAssertEqual(monitor.state(at: 20_000), .lost)
        let actions = monitor.runFinished(runID: "r2", at: 21_000, exitCode: 0, signal: nil, outcome: .success, durationMs: 1_000)
        XCTAssertEqual(actions.resolved.map(\.kind), [.lost])
        XCTAssertEqual(monitor.state(at: 21_000), .up)
        XCTAssertEqual(actions.changes.last?.to, .up)
    }

    func testALateFailingFinishTurnsTheLostRunIntoAFailure() throws {
        var monitor = JobMonitor(spec: unscheduledJob(), firstSeen: 1_000)
        runningWithLease(&monitor)
        _ = monitor.leaseChecked(runID: "r1", heldUntil: nil, now: 18_000)
        let actions = monitor.runFinished(runID: "r1", at: 40_000, exitCode: 2, signal: nil, outcome: .failure, durationMs: 30_000)
        XCTAssertEqual(actions.resolved.map(\.kind), [.lost])
        XCTAssertEqual(actions.raised.map(\.kind), [.failed])
        XCTAssertEqual(monitor.state(at: 40_000), .failed)
    }

    func testRunsWithoutALeaseAreNeverLost() throws {
        var monitor = JobMonitor(spec: unscheduledJob(maxRuntime: 60_000), firstSeen: 1_000)
        _ = monitor.runStarted(runID: "ping", host: "web1", at: 10_000)
        XCTAssertEqual(monitor.nextDeadline, 70_000, "only max_runtime watches it")
        XCTAssertEqual(monitor.leasesDue(now: 1_000_000), [])
    }

    func testALostRunIsRecordedButSilentWhilePaused() throws {
        var monitor = JobMonitor(spec: unscheduledJob(), firstSeen: 1_000)
        runningWithLease(&monitor)
        _ = monitor.paused(until: nil, now: 12_000)
        let actions = monitor.leaseChecked(runID: "r1", heldUntil: nil, now: 18_000)
        XCTAssertEqual(actions.alerts, 0)
        XCTAssertEqual(monitor.runningRuns["r1"]?.lostAt, 18_000)
    }

    func testTheLeaseSurvivesARestartOfTheMonitor() throws {
        var monitor = JobMonitor(spec: unscheduledJob(), firstSeen: 1_000)
        runningWithLease(&monitor)
        _ = monitor.leaseChecked(runID: "r1", heldUntil: nil, now: 18_000)
        let restored = try JSONDecoder().decode(JobMonitor.self, from: Data(monitor.json.utf8))
        XCTAssertEqual(restored, monitor)
        XCTAssertEqual(restored.runningRuns["r1"]?.lostAt, 18_000)
        XCTAssertEqual(restored.runningRuns["r1"]?.leaseMs, 6_000)
    }
}
