import CronSchedule
import MonitorCore
import XCTest

final class MissedRunTests: XCTestCase {
    func testFirstDeadlineIsTheFirstOccurrencePlusGrace() throws {
        let monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        XCTAssertEqual(monitor.expectedOccurrence, 10_000)
        XCTAssertEqual(monitor.nextDeadline, 15_000)
        XCTAssertEqual(monitor.state(at: 9_999), .new)
    }

    func testLateBetweenScheduledTimeAndGrace() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        XCTAssertEqual(monitor.state(at: 10_000), .late)
        XCTAssertEqual(monitor.state(at: 14_999), .late)
        let actions = monitor.deadlinePassed(now: 12_000)
        XCTAssertEqual(actions.changes.map(\.to), [.late])
        XCTAssertEqual(actions.alerts, 0)
    }

    func testMissedWhenNoStartByScheduledPlusGrace() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        XCTAssertEqual(monitor.deadlinePassed(now: 14_999).alerts, 0)
        let actions = monitor.deadlinePassed(now: 15_000)
        XCTAssertEqual(actions.raised.map(\.kind), [.missed])
        XCTAssertEqual(actions.raised.first?.occurrence, 10_000)
        XCTAssertEqual(actions.raised.first?.reason, "no start by 1970-01-01T00:00:15+00:00")
        XCTAssertEqual(actions.changes.map(\.to), [.missed])
        XCTAssertTrue(actions.contains(.scheduleDeadline(at: 25_000)))
        XCTAssertEqual(monitor.state(at: 15_000), .missed)
    }

    func testRetiredJobResolvesItsMissedIncidentAndIsNeverMissedAgain() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        XCTAssertEqual(monitor.deadlinePassed(now: 15_000).raised.map(\.kind), [.missed])
        let actions = monitor.definitionRemoved(unscheduled: unscheduledJob(), now: 16_000)
        XCTAssertEqual(actions.resolved.map(\.kind), [.missed])
        XCTAssertNil(monitor.incident)
        XCTAssertNil(monitor.nextDeadline, "nothing is awaited from a job without a schedule")
        XCTAssertEqual(monitor.deadlinePassed(now: 1_000_000).alerts, 0)
        // Someone still running it by hand: a failure still pages.
        XCTAssertEqual(monitor.run("late", from: 2_000_000, to: 2_001_000, outcome: .failure, exitCode: 1).raised.map(\.kind),
                       [.failed])
    }

    func testRetiringKeepsARunFailureIncidentOpen() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        _ = monitor.run("r1", from: 10_000, to: 11_000, outcome: .failure, exitCode: 2)
        XCTAssertEqual(monitor.definitionRemoved(unscheduled: unscheduledJob(), now: 12_000).alerts, 0)
        XCTAssertEqual(monitor.incident?.kind, .failed, "a failed run happened; retiring the job does not undo it")
    }

    func testStartInsideGraceIsNotMissed() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        let start = monitor.runStarted(runID: "r1", host: "web1", at: 14_000)
        XCTAssertEqual(start.changes.map(\.to), [.running])
        XCTAssertEqual(monitor.runningRuns["r1"]?.scheduledFor, 10_000)
        XCTAssertEqual(monitor.nextDeadline, 25_000)
        XCTAssertEqual(monitor.deadlinePassed(now: 15_000).alerts, 0)
    }

    func testExactlyOneRaisePerIncident() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        var raised = 0
        for now in stride(from: Int64(15_000), through: 300_000, by: 10_000) {
            raised += monitor.deadlinePassed(now: now).raised.count
        }
        XCTAssertEqual(raised, 1)
        XCTAssertEqual(monitor.incident?.occurrence, 10_000)
    }

    func testRealertCadence() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(realertEvery: 30_000), firstSeen: 1_000)
        var repeats: [Int64: Int] = [:]
        XCTAssertEqual(monitor.deadlinePassed(now: 15_000).raised.count, 1)
        while let due = monitor.nextDeadline, due <= 110_000 {
            let actions = monitor.deadlinePassed(now: due)
            XCTAssertEqual(actions.raised.count, 0)
            for incident in actions.repeated { repeats[due] = incident.repeats }
        }
        XCTAssertEqual(repeats, [45_000: 1, 75_000: 2, 105_000: 3])
    }

    func testRealertAfterLongDowntimeSendsOneReminderAndKeepsCadence() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(realertEvery: 30_000), firstSeen: 1_000)
        _ = monitor.deadlinePassed(now: 15_000)
        let actions = monitor.deadlinePassed(now: 200_000)
        XCTAssertEqual(actions.repeated.count, 1)
        XCTAssertEqual(monitor.deadlinePassed(now: 224_999).repeated.count, 0)
        XCTAssertEqual(monitor.deadlinePassed(now: 225_000).repeated.map(\.repeats), [2])
    }

    func testSuccessResolves() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        _ = monitor.deadlinePassed(now: 15_000)
        let actions = monitor.run("r1", from: 20_000, to: 21_000)
        XCTAssertEqual(actions.resolved.map(\.kind), [.missed])
        XCTAssertEqual(actions.resolved.first?.resolvedAt, 21_000)
        XCTAssertEqual(actions.resolved.first?.lastRun?.runID, "r1")
        XCTAssertEqual(monitor.state(at: 21_000), .up)
        XCTAssertNil(monitor.incident)
    }

    func testLateRunForAMissedOccurrenceResolvesOnlyWhenItSucceeds() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        _ = monitor.deadlinePassed(now: 15_000)
        let started = monitor.runStarted(runID: "late", host: "web1", at: 16_000, scheduledFor: 10_000)
        XCTAssertEqual(started.alerts, 0)
        XCTAssertEqual(monitor.state(at: 16_000), .missed)
        XCTAssertEqual(monitor.expectedOccurrence, 20_000, "an older occurrence does not cover the next one")
        let failed = monitor.runFinished(runID: "late", at: 17_000, exitCode: 1, signal: nil, outcome: .failure, durationMs: 1_000)
        XCTAssertEqual(failed.alerts, 0, "the open incident absorbs the failure")
        XCTAssertNotNil(monitor.incident)
        XCTAssertEqual(monitor.run("next", from: 20_000, to: 21_000).resolved.count, 1)
    }

    func testReportsReplayedAfterDowntimeDoNotPage() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        // The monitor was down from 9s to 60s; the hosts' reports arrive on its return.
        for (i, occurrence) in [Int64(10_000), 20_000, 30_000, 40_000, 50_000].enumerated() {
            XCTAssertEqual(monitor.run("r\(i)", from: occurrence + 200, to: occurrence + 900, scheduledFor: occurrence).alerts, 0)
        }
        XCTAssertEqual(monitor.deadlinePassed(now: 60_000).alerts, 0)
        XCTAssertEqual(monitor.nextDeadline, 65_000)
    }

    func testFirstSeenMidScheduleNeverAlertsForOlderOccurrences() throws {
        let schedule = try Schedule("30 2 * * *", timeZone: "Europe/Dublin")
        let spec = JobSpec(name: "nightly-report", schedule: schedule, timezone: "Europe/Dublin", grace: 600_000)
        var monitor = JobMonitor(spec: spec, firstSeen: ms("2026-03-10T02:35:00Z"))
        XCTAssertEqual(monitor.deadlinePassed(now: ms("2026-03-10T02:41:00Z")).alerts, 0)
        XCTAssertEqual(monitor.expectedOccurrence, ms("2026-03-11T02:30:00Z"))
        XCTAssertEqual(monitor.nextDeadline, ms("2026-03-11T02:40:00Z"))
        XCTAssertEqual(monitor.deadlinePassed(now: ms("2026-03-11T02:40:00Z")).raised.count, 1)
    }

    func testJobWithoutScheduleIsNeverMissedButStillAlertsOnFailure() {
        var monitor = JobMonitor(spec: unscheduledJob(), firstSeen: 0)
        XCTAssertNil(monitor.nextDeadline)
        XCTAssertEqual(monitor.deadlinePassed(now: 86_400_000).alerts, 0)
        XCTAssertEqual(monitor.state(at: 86_400_000), .new)
        let actions = monitor.run("r1", from: 1_000, to: 2_000, outcome: .failure, exitCode: 2)
        XCTAssertEqual(actions.raised.map(\.kind), [.failed])
        XCTAssertEqual(actions.raised.first?.reason, "exit code 2")
    }
}
