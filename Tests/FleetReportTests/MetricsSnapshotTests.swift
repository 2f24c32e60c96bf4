import FleetReport
import MonitorCore
import XCTest

final class MetricsSnapshotTests: XCTestCase {
    private let job = MetricLabel(name: "job", value: "backup")

    private func snapshot(state: JobState, missed: Int64, runs: [String], jobs: [String] = ["backup"]) -> MetricsSnapshot {
        MetricsSnapshot(
            jobs: jobs.map {
                .init(name: $0, state: state, lastSuccess: 1_700_000_000_500, missedTotal: missed, failedTotal: 0,
                      finishedRuns: runs.map { .init(runID: $0, durationMs: 90_000) })
            },
            alertDeliveryFailures: ["slack-ops": 2])
    }

    func testFirstSnapshotSetsEverySeries() {
        let updates = snapshot(state: .failed, missed: 3, runs: ["r1"]).updates(since: nil)
        let states = updates.compactMap { u -> (String, Double)? in
            if case .setGauge(JobwatchMetrics.state, let labels, let value) = u { return (labels[1].value, value) }
            return nil
        }
        XCTAssertEqual(states.map(\.0), JobState.allCases.map(\.rawValue))
        XCTAssertEqual(states.filter { $0.1 == 1 }.map(\.0), ["failed"])
        XCTAssertTrue(updates.contains(.setGauge(JobwatchMetrics.lastSuccess, [job], 1_700_000_000.5)))
        XCTAssertTrue(updates.contains(.incrementCounter(JobwatchMetrics.missed, [job], 3)))
        XCTAssertFalse(updates.contains { if case .incrementCounter(JobwatchMetrics.failed, _, _) = $0 { return true } else { return false } })
        XCTAssertTrue(updates.contains(.observe(JobwatchMetrics.runDuration, [job], durationMs: 90_000)))
        XCTAssertTrue(updates.contains(.incrementCounter(JobwatchMetrics.deliveryFailures, [MetricLabel(name: "channel", value: "slack-ops")], 2)))
    }

    func testLaterSnapshotsSendOnlyChanges() {
        let first = snapshot(state: .failed, missed: 3, runs: ["r1"])
        let second = snapshot(state: .up, missed: 5, runs: ["r1", "r2"], jobs: ["backup"])
        XCTAssertEqual(second.updates(since: first), [
            .setGauge(JobwatchMetrics.state, [job, MetricLabel(name: "state", value: "up")], 1),
            .setGauge(JobwatchMetrics.state, [job, MetricLabel(name: "state", value: "failed")], 0),
            .incrementCounter(JobwatchMetrics.missed, [job], 2),
            .observe(JobwatchMetrics.runDuration, [job], durationMs: 90_000),
        ])
        let shrunk = snapshot(state: .up, missed: 1, runs: [], jobs: [])
        XCTAssertEqual(shrunk.updates(since: second), [.removeJob("backup")], "counters never go down")
    }

    func testRunAndAlertTotalsMoveByTheirDifference() {
        let key = MetricsSnapshot.AlertKey(channel: "pd", kind: "missed", result: "sent")
        func at(_ runs: Int64, _ alerts: Int64, depth: Int64) -> MetricsSnapshot {
            MetricsSnapshot(jobs: [.init(name: "backup", state: .up, lastSuccess: nil, missedTotal: 0, failedTotal: 0,
                                         runsTotal: ["success": runs], finishedRuns: [])],
                            alertDeliveryFailures: [:], alertsTotal: [key: alerts], outboxDepth: depth)
        }
        let labels = [MetricLabel(name: "channel", value: "pd"), MetricLabel(name: "kind", value: "missed"),
                      MetricLabel(name: "result", value: "sent")]
        let updates = at(51, 7, depth: 0).updates(since: at(1, 5, depth: 3))
        XCTAssertEqual(updates, [
            .incrementCounter(JobwatchMetrics.runs, [job, MetricLabel(name: "result", value: "success")], 50),
            .incrementCounter(JobwatchMetrics.alerts, labels, 2),
            .setGauge(JobwatchMetrics.outboxDepth, [], 0),
        ])
    }

    /// A host's spool depth as it last said; once it empties its series stays, at 0.
    func testSpoolDepthPerHostDrainsToZero() {
        let hosts = ["web1": Int64(40), "web2": 3]
        let first = MetricsSnapshot(jobs: [], alertDeliveryFailures: [:], spoolDepth: hosts)
        let web = { MetricLabel(name: "host", value: $0) }
        XCTAssertEqual(first.updates(since: nil), [
            .setGauge(JobwatchMetrics.spoolDepth, [web("web1")], 40), .setGauge(JobwatchMetrics.spoolDepth, [web("web2")], 3),
        ])
        let drained = MetricsSnapshot(jobs: [], alertDeliveryFailures: [:], spoolDepth: ["web2": 3])
        XCTAssertEqual(drained.updates(since: first), [.setGauge(JobwatchMetrics.spoolDepth, [web("web1")], 0)])
        XCTAssertEqual(drained.updates(since: drained), [])
    }

    func testBucketsSpanOneSecondToSixHours() {
        XCTAssertEqual(JobwatchMetrics.runDurationBucketsMs.first, 1000)
        XCTAssertEqual(JobwatchMetrics.runDurationBucketsMs.last, 6 * 3_600_000)
        XCTAssertEqual(JobwatchMetrics.runDurationBucketsMs, JobwatchMetrics.runDurationBucketsMs.sorted())
        for name in [JobwatchMetrics.state, JobwatchMetrics.missed, JobwatchMetrics.runDuration] {
            XCTAssertNotNil(JobwatchMetrics.help[name])
        }
    }
}
