import CronSchedule
import MonitorCore
import XCTest

/// The monitor keeps each `JobMonitor` in Redis and must carry on after a restart.
final class RestartTests: XCTestCase {
    private func reloaded(_ monitor: JobMonitor) throws -> JobMonitor {
        try JSONDecoder().decode(JobMonitor.self, from: JSONEncoder().encode(monitor))
    }

    func testDeadlinePassedDuringDowntimeAlertsOnceAfterRestart() throws {
        let monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        var restored = try reloaded(monitor)
        XCTAssertEqual(restored, monitor)
        XCTAssertEqual(restored.nextDeadline, 15_000, "the deadline queue is rebuilt from this")
        let first = restored.deadlinePassed(now: 600_000)
        XCTAssertEqual(first.raised.count, 1)
        XCTAssertEqual(first.raised.first?.occurrence, 10_000)
        XCTAssertEqual(restored.expectedOccurrence, 600_000)
        var again = try reloaded(restored)
        XCTAssertEqual(again.deadlinePassed(now: 600_500).alerts, 0)
    }

    func testAMissTheMonitorCouldNotWatchIsPagedWhenALaterStartShowsIt() throws {
        // Cut off from Redis across 15 s (10 s + grace): the start of the 20 s occurrence is
        // applied before the deadline, and must not hide the miss of the 10 s one.
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        let actions = monitor.runStarted(runID: "r20", host: "web1", at: 20_100, scheduledFor: 20_000, now: 20_200)
        XCTAssertEqual(actions.raised.map(\.kind), [.missed])
        XCTAssertEqual(actions.raised.first?.occurrence, 10_000)
        XCTAssertEqual(monitor.deadlinePassed(now: 21_000).alerts, 0, "the deadline finds it already paged")
        XCTAssertEqual(monitor.runFinished(runID: "r20", at: 21_000, exitCode: 0, signal: nil, outcome: .success,
                                           durationMs: 900).resolved.map(\.kind), [.missed])
    }

    func testALaterStartWithinTheAwaitedGraceStillCoversIt() throws {
        // Grace longer than the period: the 10 s occurrence's start may still be on its way.
        let spec = JobSpec(name: "j", schedule: try Schedule("every 10s", timeZone: "UTC"), timezone: "UTC", grace: 15_000,
                           channels: ["pd"])
        var monitor = JobMonitor(spec: spec, firstSeen: 1_000)
        XCTAssertEqual(monitor.runStarted(runID: "r20", host: "web1", at: 20_100, scheduledFor: 20_000, now: 20_200).alerts, 0)
        XCTAssertEqual(monitor.expectedOccurrence, 30_000)
    }

    func testAHostWhoseClockRunsAheadIsNoMiss() throws {
        // A host 5 minutes ahead names the occurrence due in 5 minutes while the monitor still
        // awaits the current one, whose deadline has not passed.
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        XCTAssertEqual(monitor.runStarted(runID: "ahead", host: "skewed", at: 310_000, scheduledFor: 310_000, now: 10_100).alerts, 0)
    }

    func testRunStartedBeforeRestartIsPairedAfterIt() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(alertAfterFailures: 2, realertEvery: 60_000), firstSeen: 1_000)
        _ = monitor.run("r1", from: 10_000, to: 11_000, outcome: .failure, exitCode: 1)
        _ = monitor.runStarted(runID: "r2", host: "web1", at: 20_000, scheduledFor: 20_000, fence: 42)
        var restored = try reloaded(monitor)
        XCTAssertEqual(restored, monitor)
        XCTAssertEqual(restored.runStarted(runID: "r2", host: "web1", at: 20_000), [])
        let finished = restored.runFinished(runID: "r2", at: 22_000, exitCode: 1, signal: nil, outcome: .failure, durationMs: 2_000)
        XCTAssertEqual(finished.raised.first?.lastRun?.fence, 42)
        XCTAssertEqual(finished.raised.first?.reason, "exit code 1 (2 failures in a row)")
    }

    func testOpenIncidentAndPauseSurviveARestart() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(realertEvery: 30_000), firstSeen: 1_000)
        _ = monitor.deadlinePassed(now: 15_000)
        _ = monitor.paused(until: 40_000, now: 16_000)
        var restored = try reloaded(monitor)
        XCTAssertEqual(restored, monitor)
        XCTAssertEqual(restored.deadlinePassed(now: 40_000).alerts, 0)
        XCTAssertEqual(restored.deadlinePassed(now: 70_000).repeated.count, 1)
    }
}
