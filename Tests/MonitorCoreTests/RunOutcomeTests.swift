import CronSchedule
import MonitorCore
import XCTest

final class RunOutcomeTests: XCTestCase {
    func testAlertAfterThreeConsecutiveFailuresNotBefore() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(alertAfterFailures: 3), firstSeen: 1_000)
        XCTAssertEqual(monitor.run("r1", from: 10_000, to: 11_000, outcome: .failure, exitCode: 1).alerts, 0)
        XCTAssertEqual(monitor.run("r2", from: 20_000, to: 21_000, outcome: .timeout, exitCode: nil).alerts, 0)
        XCTAssertEqual(monitor.state(at: 21_000), .up)
        let third = monitor.run("r3", from: 30_000, to: 31_000, outcome: .lockLost, exitCode: nil)
        XCTAssertEqual(third.raised.map(\.kind), [.failed])
        XCTAssertEqual(third.raised.first?.reason, "stopped after losing its lease (3 failures in a row)")
        XCTAssertEqual(third.changes.last?.to, .failed)
        XCTAssertEqual(monitor.run("r4", from: 40_000, to: 41_000, outcome: .killed, exitCode: nil).alerts, 0)
    }

    func testASuccessResetsTheFailureCount() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(alertAfterFailures: 2), firstSeen: 1_000)
        _ = monitor.run("r1", from: 10_000, to: 11_000, outcome: .failure, exitCode: 1)
        _ = monitor.run("r2", from: 20_000, to: 21_000)
        XCTAssertEqual(monitor.run("r3", from: 30_000, to: 31_000, outcome: .failure, exitCode: 1).alerts, 0)
        XCTAssertEqual(monitor.consecutiveFailures, 1)
    }

    func testFailureAlertQuotesTheOutputTailAndSuccessResolves() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        _ = monitor.runStarted(runID: "r1", host: "web2", at: 10_000, scheduledFor: 10_000, fence: 7)
        let failed = monitor.runFinished(
            runID: "r1", at: 12_000, exitCode: nil, signal: 9, outcome: .failure, durationMs: 2_000,
            outputTail: String(repeating: "x", count: 70_000))
        let incident = try XCTUnwrap(failed.raised.first)
        XCTAssertEqual(incident.reason, "killed by signal 9")
        XCTAssertEqual(incident.lastRun?.fence, 7)
        XCTAssertLessThanOrEqual(incident.lastRun?.outputTail?.utf8.count ?? .max, OutputExcerpt.maxBytes)
        let fixed = monitor.run("r2", from: 20_000, to: 21_000)
        XCTAssertEqual(fixed.resolved.map(\.kind), [.failed])
        XCTAssertNil(monitor.lastRun?.outputTail, "a success's output is never kept")
    }

    func testSuccessShorterThanMinRuntimeIsTooShort() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(minRuntime: 5_000), firstSeen: 1_000)
        let actions = monitor.run("r1", from: 10_000, to: 11_000)
        XCTAssertEqual(actions.raised.map(\.kind), [.failed])
        XCTAssertEqual(actions.raised.first?.reason, "too short: finished in 1s, under min_runtime 5s")
        XCTAssertEqual(monitor.run("r2", from: 20_000, to: 26_000).resolved.count, 1)
    }

    func testOverdueWhileRunningThenResolvedBySuccess() {
        var monitor = JobMonitor(spec: unscheduledJob(maxRuntime: 20_000), firstSeen: 0)
        let start = monitor.runStarted(runID: "r1", host: "web1", at: 10_000)
        XCTAssertTrue(start.contains(.scheduleDeadline(at: 30_000)))
        XCTAssertEqual(monitor.deadlinePassed(now: 29_999).alerts, 0)
        let overdue = monitor.deadlinePassed(now: 30_000)
        XCTAssertEqual(overdue.raised.map(\.kind), [.overdue])
        XCTAssertEqual(overdue.raised.first?.lastRun?.runID, "r1")
        XCTAssertEqual(overdue.changes.map(\.to), [.overdue])
        XCTAssertEqual(monitor.state(at: 30_000), .overdue)
        XCTAssertNil(monitor.nextDeadline, "an overdue run alerts once")
        let done = monitor.runFinished(runID: "r1", at: 40_000, exitCode: 0, signal: nil, outcome: .success, durationMs: 30_000)
        XCTAssertEqual(done.resolved.map(\.kind), [.overdue])
        XCTAssertEqual(monitor.state(at: 40_000), .up)
    }

    func testOverlappingRunsArePairedByRunID() {
        var monitor = JobMonitor(spec: unscheduledJob(maxRuntime: 20_000), firstSeen: 0)
        _ = monitor.runStarted(runID: "a", host: "web1", at: 0)
        _ = monitor.runStarted(runID: "b", host: "web2", at: 15_000)
        XCTAssertEqual(monitor.deadlinePassed(now: 20_000).raised.first?.lastRun?.runID, "a")
        XCTAssertEqual(monitor.nextDeadline, 35_000)
        let bDone = monitor.runFinished(runID: "b", at: 16_000, exitCode: 0, signal: nil, outcome: .success, durationMs: 1_000)
        XCTAssertEqual(bDone.resolved.count, 0, "run a is still overdue")
        XCTAssertEqual(monitor.lastRun?.host, "web2")
        XCTAssertEqual(Array(monitor.runningRuns.keys), ["a"])
        let aDone = monitor.runFinished(runID: "a", at: 25_000, exitCode: 0, signal: nil, outcome: .success, durationMs: 25_000)
        XCTAssertEqual(aDone.resolved.count, 1)
        XCTAssertTrue(monitor.runningRuns.isEmpty)
        XCTAssertEqual(monitor.state(at: 25_000), .up)
    }

    func testDuplicateStartAndFinishChangeNothing() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        XCTAssertFalse(monitor.runStarted(runID: "r1", host: "web1", at: 10_000).isEmpty)
        let afterStart = monitor
        XCTAssertEqual(monitor.runStarted(runID: "r1", host: "web1", at: 10_000), [])
        XCTAssertEqual(monitor, afterStart)
        XCTAssertFalse(monitor.runFinished(runID: "r1", at: 11_000, exitCode: 1, signal: nil, outcome: .failure, durationMs: 1_000).isEmpty)
        let afterFinish = monitor
        XCTAssertEqual(monitor.runFinished(runID: "r1", at: 11_000, exitCode: 1, signal: nil, outcome: .failure, durationMs: 1_000), [])
        XCTAssertEqual(monitor.runStarted(runID: "r1", host: "web1", at: 10_000), [], "a start redelivered after its finish")
        XCTAssertEqual(monitor, afterFinish)
    }

    func testFinishWithoutAStartCounts() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        let actions = monitor.runFinished(runID: "ping", at: 12_000, exitCode: 3, signal: nil, outcome: .failure, durationMs: 500, host: "db1")
        XCTAssertEqual(actions.raised.first?.lastRun?.startedAt, 11_500)
        XCTAssertEqual(actions.raised.first?.lastRun?.host, "db1")
    }

    func testAFinishWithAnAbsurdDurationStartsWithinRFC3339Years() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        _ = monitor.runFinished(runID: "far", at: -62_135_596_800_000, exitCode: 0, signal: nil, outcome: .success,
                                durationMs: .max)
        XCTAssertEqual(monitor.lastRun?.startedAt, rfc3339Instants.lowerBound, "clamped, not trapped")
        _ = monitor.runFinished(runID: "back", at: .max - 5, exitCode: 0, signal: nil, outcome: .success, durationMs: -10)
        XCTAssertEqual(monitor.lastRun?.startedAt, rfc3339Instants.upperBound - 1)
        // POST …/finish takes durations up to 2^53 ms (285,000 years): the run must not start in
        // year -283400, which the API would write as "-283400-02-23T22:02:08.793Z".
        _ = monitor.runFinished(runID: "ages", at: 1_796_540_000_000, exitCode: 0, signal: nil, outcome: .success,
                                durationMs: (1 << 53) - 1)
        XCTAssertEqual(monitor.lastRun?.startedAt, rfc3339Instants.lowerBound)
    }

    func testSkipIsSeenButIsNotARun() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        XCTAssertEqual(monitor.skipped(host: "web2", at: 10_100).changes.map(\.to), [.late])
        XCTAssertEqual(monitor.lastSkip?.host, "web2")
        XCTAssertEqual(monitor.deadlinePassed(now: 15_000).raised.count, 1)
    }

    func testConfigErrorRaisesUntilAGoodDefinitionLoads() throws {
        let spec = try tenSecondJob()
        var monitor = JobMonitor(spec: spec, firstSeen: 1_000)
        let rejected = monitor.definitionRejected(reason: "jobs.d/heartbeat.yaml:3:8: grace: bad duration", now: 2_000)
        XCTAssertEqual(rejected.raised.map(\.kind), [.configError])
        XCTAssertEqual(monitor.definitionRejected(reason: "same again", now: 3_000).alerts, 0)
        XCTAssertEqual(monitor.definitionChanged(spec, now: 4_000).resolved.map(\.kind), [.configError])
        XCTAssertEqual(monitor.definitionChanged(spec, now: 5_000), [], "an unchanged reload does nothing")
    }

    func testNewScheduleIsWatchedFromTheChange() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        var hourly = try tenSecondJob()
        hourly.schedule = try Schedule("@hourly", timeZone: "UTC")
        XCTAssertEqual(monitor.definitionChanged(hourly, now: 50_000), [.scheduleDeadline(at: 3_600_000 + 5_000)])
        XCTAssertEqual(monitor.deadlinePassed(now: 60_000).alerts, 0)
    }
}

/// What §6 adds to a finish: attempts, an output rule's reason, and `replaced`.
final class RunJudgementTests: XCTestCase {
    func testAnOutputRuleFailureAlertsWithItsReasonAndKeepsTheAttempts() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        _ = monitor.runStarted(runID: "r1", host: "web2", at: 10_000)
        let reason = "fail_if \"^ERROR\" matched line 1042: ERROR: disk full"
        let failed = monitor.runFinished(runID: "r1", at: 12_000, exitCode: 0, signal: nil, outcome: .failure, durationMs: 2_000,
                                         details: RunDetails(attemptExitCodes: [0, 0], reason: reason))
        XCTAssertEqual(failed.raised.first?.reason, reason + " (2 attempts)", "the alert says how many attempts it took")
        XCTAssertEqual(monitor.lastRun?.attempts, 2)
        XCTAssertEqual(monitor.lastRun?.attemptExitCodes, [0, 0])
        XCTAssertEqual(monitor.lastRun?.reason, reason)
        let stored = try JSONDecoder().decode(RunRecord.self, from: Data(try XCTUnwrap(monitor.lastRun).json.utf8))
        XCTAssertEqual(stored, monitor.lastRun, "the hand-written JSON reads back through Codable")
    }

    func testAReplacedRunNeitherFailsNorResolves() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        XCTAssertEqual(monitor.run("r1", from: 10_000, to: 11_000, outcome: .failure, exitCode: 1).raised.count, 1)
        let replaced = monitor.run("r2", from: 20_000, to: 25_000, outcome: .replaced, exitCode: 203)
        XCTAssertEqual(replaced.alerts, 0, "the replacing run is the one that counts")
        XCTAssertNil(monitor.failureReason(of: try XCTUnwrap(monitor.lastRun)))
        XCTAssertEqual(monitor.consecutiveFailures, 1)
        XCTAssertEqual(monitor.run("r3", from: 25_000, to: 26_000).resolved.count, 1)
    }
}
