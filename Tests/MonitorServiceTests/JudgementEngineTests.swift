import Foundation
import JobwatchCore
import JobwatchTestSupport
import MonitorCore
@testable import MonitorService
import Reporting
import XCTest

/// SPEC §6 judgement through the real leader loop on a real redis-server: anomalies and
/// `resolve_after`.
final class JudgementEngineTests: EngineTestCase {
    private func succeed(_ h: EngineHarness, _ job: String, _ runID: String, durationMs: Int64) throws {
        try h.start(job, runID)
        try h.report(.finish(job: job, runID: runID, host: "web1", exitCode: 0, signal: nil, durationMs: durationMs,
                             outcome: "success", outputTail: ""))
    }

    func testARunThreeTimesSlowerThanItsLastFiveIsSlowWhileStillRunning() async throws {
        let h = try makeHarness()
        try h.writeJob("nightly", "anomaly: { slower: 3x }\n")
        let engine = try h.engine()
        engine.start()
        XCTAssertTrue(try h.eventually { try h.monitor("nightly") != nil })
        for i in 0..<5 { try succeed(h, "nightly", "base-\(i)", durationMs: 500) }
        XCTAssertTrue(try h.eventually { try h.monitor("nightly")?.recentDurations.count == 5 })
        let started = Timestamp.nowMs()
        try h.start("nightly", "long", at: started)
        XCTAssertTrue(try h.eventually(10) { try h.outbox().count >= 2 })
        let triggers = try h.outbox()
        XCTAssertEqual(triggers.map(\.event), ["trigger", "trigger"])
        XCTAssertEqual(Set(triggers.map { $0.fields["kind"] ?? "" }), ["slow"])
        XCTAssertGreaterThanOrEqual(triggers[0].at, started + 1_500, "not before 3 × the 500 ms median")
        XCTAssertNotNil(try h.monitor("nightly")?.runningRuns["long"], "raised while the run still runs")
        let view = try await MonitorReads(environment: engine.environment).job("nightly")
        XCTAssertEqual(view?.state, "slow")
        XCTAssertEqual(view?.alert?.state, "slow")
        await engine.stop()
    }

    func testResolveAfterTwoKeepsTheAlertOpenAfterOneSuccess() async throws {
        let h = try makeHarness()
        try h.writeJob("flaky", "resolve_after: 2\n")
        let engine = try h.engine()
        engine.start()
        XCTAssertTrue(try h.eventually { try h.monitor("flaky") != nil })
        try h.start("flaky", "bad")
        try h.finish("flaky", "bad", exitCode: 1)
        XCTAssertTrue(try h.eventually { try h.outbox().count == 2 })
        try h.start("flaky", "good-1")
        try h.finish("flaky", "good-1")
        XCTAssertTrue(try h.eventually { try h.monitor("flaky")?.lastRun?.runID == "good-1" })
        XCTAssertTrue(try h.waitUntilApplied())
        XCTAssertEqual(try h.outbox().map(\.event), ["trigger", "trigger"], "one success of two resolves nothing")
        let view = try await MonitorReads(environment: engine.environment).job("flaky")
        XCTAssertEqual(view?.state, "recovering")
        XCTAssertEqual(view?.alert?.state, "failed")
        try h.start("flaky", "good-2")
        try h.finish("flaky", "good-2")
        XCTAssertTrue(try h.eventually { try h.outbox().filter { $0.event == "resolve" }.count == 2 })
        h.assertNoDuplicateTriggers(try h.outbox())
        await engine.stop()
    }

    /// Every occurrence (each 10 s) is missed 1 s after it, inside a window from the occurrence
    /// to 6 s after it, whatever the phase the test starts at.
    func testAMissInsideAMaintenanceWindowSendsNothingAndAStillMissedJobAlertsWhenTheWindowEnds() async throws {
        let h = try makeHarness()
        try h.writeJob("backup", """
            schedule: every 10s
            grace: 1s
            maintenance:
              - { schedule: every 10s, duration: 6s }
            """)
        let engine = try h.engine()
        engine.start()

        // A miss that is fixed inside its window: nothing is ever sent for it.
        var windowEnd: Int64 = 0
        XCTAssertTrue(try h.eventually(15) {
            guard let m = try h.monitor("backup"), m.incident?.inhibitedBy == JobMonitor.inMaintenance else { return false }
            windowEnd = m.maintenanceUntil ?? 0
            return true
        })
        XCTAssertEqual(try h.monitor("backup")?.state(at: Timestamp.nowMs()), .missed, "recorded while held")
        try h.start("backup", "rerun")
        try h.finish("backup", "rerun")
        XCTAssertTrue(try h.eventually { try h.monitor("backup")?.incident == nil })
        XCTAssertTrue(h.eventually(10) { Timestamp.nowMs() > windowEnd + 500 })
        XCTAssertTrue(try h.waitUntilApplied())
        XCTAssertEqual(try h.outbox().count, 0, "resolved inside its window: nothing sent")

        // The next miss is left alone: it is paged when its window ends, not before.
        XCTAssertTrue(try h.eventually(15) {
            guard let m = try h.monitor("backup"), m.incident?.inhibitedBy == JobMonitor.inMaintenance else { return false }
            windowEnd = m.maintenanceUntil ?? 0
            return true
        })
        XCTAssertTrue(try h.eventually(15) { try h.outbox().count >= 2 })
        let triggers = try h.outbox()
        XCTAssertEqual(triggers.map(\.event), ["trigger", "trigger"])
        XCTAssertEqual(Set(triggers.map { $0.fields["kind"] ?? "" }), ["missed"])
        for delivery in triggers {
            XCTAssertGreaterThanOrEqual(delivery.at, windowEnd, "sent at the window's end, not at the miss")
        }
        await engine.stop()
    }
}
