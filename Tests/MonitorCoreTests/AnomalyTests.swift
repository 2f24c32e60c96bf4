import Foundation
import JobwatchCore
import MonitorCore
import XCTest

/// SPEC §6 anomalies: a run judged against the median of the job's recent successes.
final class AnomalyTests: XCTestCase {
    private let minute: Int64 = 60_000
    private let context = AlertContext(statusPageURL: nil, monitorHost: "jobmond-1")

    private func nightlyReport(slower: String? = "3x", faster: String? = "0.2x", baseline: Int = 20) -> JobSpec {
        JobSpec(name: "nightly-report", schedule: nil, timezone: "UTC", channels: ["pd-ops"],
                anomaly: AnomalyRule(slower: slower.flatMap(Multiplier.init(parsing:)),
                                     faster: faster.flatMap(Multiplier.init(parsing:)), baseline: baseline))
    }

    /// Five successes of 13 minutes, an hour apart; returns when the next may start.
    private func withBaseline(_ spec: JobSpec, runs: Int = 5) -> (JobMonitor, Int64) {
        var monitor = JobMonitor(spec: spec, firstSeen: 0)
        var t: Int64 = 0
        for i in 0..<runs {
            XCTAssertEqual(monitor.run("base-\(i)", from: t, to: t + 13 * minute).alerts, 0)
            t += 60 * minute
        }
        return (monitor, t)
    }

    private func summary(_ incident: Incident?, _ spec: JobSpec) -> String? {
        incident.flatMap { PagerDutyEvent(.trigger, $0, spec: spec, routingKey: "k", context: context).payload?.summary }
    }

    func testNothingIsJudgedBeforeFiveSuccesses() {
        var (monitor, t) = withBaseline(nightlyReport(), runs: 4)
        XCTAssertEqual(monitor.recentDurations.count, 4)
        XCTAssertEqual(monitor.runStarted(runID: "r", host: "web1", at: t).alerts, 0)
        XCTAssertNil(monitor.nextDeadline, "no slow deadline without a baseline")
        XCTAssertEqual(monitor.runFinished(runID: "r", at: t + 1_000, exitCode: 0, signal: nil, outcome: .success,
                                           durationMs: 1_000).alerts, 0, "not fast either")
    }

    func testARunStillGoingPastThreeTimesTheMedianIsSlowWhileItRunsAndTheNextNormalRunResolves() {
        let spec = nightlyReport()
        var (monitor, t) = withBaseline(spec)
        let start = monitor.runStarted(runID: "long", host: "web1", at: t)
        XCTAssertTrue(start.contains(.scheduleDeadline(at: t + 39 * minute)), "\(start)")
        XCTAssertEqual(monitor.deadlinePassed(now: t + 39 * minute - 1).alerts, 0)
        let slow = monitor.deadlinePassed(now: t + 40 * minute)
        XCTAssertEqual(slow.raised.map(\.kind), [.slow])
        XCTAssertEqual(slow.changes.map(\.to), [.slow])
        XCTAssertEqual(summary(slow.raised.first, spec), "nightly-report has been running 40m, 3.1× its median 13m (slower: 3x)")
        XCTAssertEqual(slow.raised.first.map { PagerDutyEvent(.trigger, $0, spec: spec, routingKey: "k", context: context) }?
            .payload?.severity, "warning")
        XCTAssertEqual(monitor.state(at: t + 40 * minute), .slow)
        XCTAssertNil(monitor.nextDeadline, "a slow run alerts once")

        let finishedLong = monitor.runFinished(runID: "long", at: t + 45 * minute, exitCode: 0, signal: nil, outcome: .success,
                                               durationMs: 45 * minute)
        XCTAssertEqual(finishedLong.alerts, 0, "the slow run itself is outside the range: still slow")
        XCTAssertEqual(monitor.state(at: t + 46 * minute), .slow)
        let normal = monitor.run("normal", from: t + 60 * minute, to: t + 72 * minute)
        XCTAssertEqual(normal.resolved.map(\.kind), [.slow])
        XCTAssertEqual(monitor.state(at: t + 73 * minute), .up)
    }

    func testASuccessUnderAFifthOfTheMedianIsFastUntilARunInsideTheRange() {
        let spec = nightlyReport()
        var (monitor, t) = withBaseline(spec)
        let quick = monitor.run("quick", from: t, to: t + 2 * minute)
        XCTAssertEqual(quick.raised.map(\.kind), [.fast])
        XCTAssertEqual(summary(quick.raised.first, spec), "nightly-report finished in 2m, 0.2× its median 13m (faster: 0.2x)")
        XCTAssertEqual(monitor.state(at: t + 2 * minute), .fast)
        XCTAssertEqual(monitor.run("quick-again", from: t + 60 * minute, to: t + 61 * minute).alerts, 0, "still fast: no new page")
        XCTAssertEqual(monitor.run("normal", from: t + 120 * minute, to: t + 133 * minute).resolved.map(\.kind), [.fast])
    }

    func testAFastRunEndsAFailureAndOpensItsOwnIncident() {
        var (monitor, t) = withBaseline(nightlyReport())
        XCTAssertEqual(monitor.run("broken", from: t, to: t + minute, outcome: .failure, exitCode: 1).raised.map(\.kind), [.failed])
        let quick = monitor.run("quick", from: t + 60 * minute, to: t + 61 * minute)
        XCTAssertEqual(quick.resolved.map(\.kind), [.failed])
        XCTAssertEqual(quick.raised.map(\.kind), [.fast])
    }

    func testOnlyTheLatestBaselineDurationsAreKeptAndOnlyWithTheRule() throws {
        var (monitor, _) = withBaseline(nightlyReport(baseline: 5), runs: 8)
        XCTAssertEqual(monitor.recentDurations, Array(repeating: 13 * minute, count: 5))
        _ = monitor.run("failed", from: 900 * minute, to: 901 * minute, outcome: .failure, exitCode: 1)
        XCTAssertEqual(monitor.recentDurations.count, 5, "failures are not durations of the job's work")

        var plain = JobMonitor(spec: unscheduledJob(), firstSeen: 0)
        _ = plain.run("r", from: 0, to: 1_000)
        XCTAssertEqual(plain.recentDurations, [], "a job without anomaly: keeps nothing")
        XCTAssertFalse(plain.json.contains("recentDurations"))

        var without = monitor.spec
        without.anomaly = nil
        _ = monitor.definitionChanged(without, now: 1_000 * minute)
        XCTAssertEqual(monitor.recentDurations, [])
    }

    func testDurationsAndASlowRunSurviveARestart() throws {
        var (monitor, t) = withBaseline(nightlyReport())
        _ = monitor.runStarted(runID: "long", host: "web1", at: t)
        _ = monitor.deadlinePassed(now: t + 40 * minute)
        var restored = try JSONDecoder().decode(JobMonitor.self, from: Data(monitor.json.utf8))
        XCTAssertEqual(restored, monitor)
        XCTAssertEqual(restored.deadlinePassed(now: t + 50 * minute).alerts, 0, "not slow twice")
    }
}
