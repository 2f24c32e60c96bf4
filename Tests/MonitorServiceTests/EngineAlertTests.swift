import Foundation
import JobwatchCore
import JobwatchTestSupport
import MonitorCore
@testable import MonitorService
import Reporting
import XCTest

final class EngineAlertTests: EngineTestCase {
    func testMissedRunAlertsEveryChannelOnceWithinASecondOfTheDeadline() async throws {
        let h = try makeHarness()
        try h.writeJob("tick", "schedule: every 2s\ngrace: 1s\n")
        let engine = try h.engine()
        engine.start()
        XCTAssertTrue(try h.eventually { try h.monitor("tick") != nil })
        let deadline = try XCTUnwrap(h.monitor("tick")?.expectedOccurrence) + 1000
        XCTAssertTrue(try h.eventually(6) { try h.outbox().count >= 2 })
        let triggers = try h.outbox()
        XCTAssertEqual(triggers.map(\.channel).sorted(), ["pd", "slack"])
        for delivery in triggers {
            XCTAssertEqual(delivery.event, "trigger")
            XCTAssertGreaterThanOrEqual(delivery.at, deadline)
            XCTAssertLessThan(delivery.at - deadline, 1000, "alerted \(delivery.at - deadline) ms after the deadline")
        }
        let pd = try XCTUnwrap(triggers.first { $0.channel == "pd" })
        let body = try JSONSerialization.jsonObject(with: Data(pd.fields["body"]!.utf8)) as? [String: Any]
        XCTAssertEqual(body?["dedup_key"] as? String, "jobwatch/tick")
        XCTAssertEqual(body?["routing_key"] as? String, "test-routing-key")
        XCTAssertEqual(pd.fields["type"], "pagerduty")

        // Later occurrences are missed too, but join the open incident: no second page.
        try await Task.sleep(nanoseconds: 2_500_000_000)
        XCTAssertEqual(try h.outbox().count, 2)

        try h.start("tick", "r1")
        try h.finish("tick", "r1")
        XCTAssertTrue(try h.eventually { try h.outbox().filter { $0.event == "resolve" }.count == 2 })
        h.assertNoDuplicateTriggers(try h.outbox())
        await engine.stop()
    }

    func testFailureAlertsAndTheStateChangeIsRecorded() async throws {
        let h = try makeHarness()
        try h.writeJob("nightly", "schedule: \"0 3 * * *\"\nalert_after_failures: 2\n")
        let engine = try h.engine()
        engine.start()
        try h.start("nightly", "a")
        try h.finish("nightly", "a", exitCode: 1)
        XCTAssertTrue(try h.eventually { try h.monitor("nightly")?.lastRun?.runID == "a" })
        XCTAssertEqual(try h.outbox().count, 0, "one failure is below alert_after_failures")
        try h.start("nightly", "b")
        try h.finish("nightly", "b", exitCode: 1)
        XCTAssertTrue(try h.eventually { try h.outbox().count == 2 })
        let view = try await MonitorReads(environment: engine.environment).job("nightly")
        XCTAssertEqual(view?.state, "failed")
        XCTAssertEqual(view?.alert?.state, "failed")
        XCTAssertEqual(view?.lastRun?.exitCode, 1)
        let changes = try h.connection.command(["XRANGE", h.store.changes, "-", "+"]).array ?? []
        XCTAssertFalse(changes.isEmpty)
        let runs = try await MonitorReads(environment: engine.environment).runs("nightly", limit: 10)
        XCTAssertEqual(runs?.runs.map(\.runID), ["b", "a"])
        await engine.stop()
    }

    func testUnknownJobIsAutoRegisteredAndNeverMissedAndPauseComesThroughTheStream() async throws {
        let h = try makeHarness()
        let engine = try h.engine()
        engine.start()
        try h.start("adhoc", "x")
        try h.finish("adhoc", "x")
        XCTAssertTrue(try h.eventually { try h.monitor("adhoc")?.lastRun?.runID == "x" })
        XCTAssertNil(try h.monitor("adhoc")?.spec.schedule)
        XCTAssertNil(try h.monitor("adhoc")?.nextDeadline)

        let store = h.store
        _ = try h.connection.command(store.pauseEntry(job: "adhoc", until: nil, at: Timestamp.nowMs()))
        XCTAssertTrue(try h.eventually { try h.monitor("adhoc")?.pause != nil })
        let view = try await MonitorReads(environment: engine.environment).job("adhoc")
        XCTAssertEqual(view?.state, "paused")
        _ = try h.connection.command(store.resumeEntry(job: "adhoc", at: Timestamp.nowMs()))
        XCTAssertTrue(try h.eventually { try h.monitor("adhoc")?.pause == nil })
        XCTAssertEqual(try h.outbox().count, 0)
        await engine.stop()
    }

    func testJobsViewHasTheSpecShape() async throws {
        let h = try makeHarness()
        try h.writeJob("shape", "schedule: \"*/5 * * * *\"\n")
        let engine = try h.engine()
        engine.start()
        XCTAssertTrue(try h.eventually { try h.monitor("shape") != nil })
        _ = try h.connection.command(["SET", "t:lock:shape", "web1:42:r9", "PX", "60000"])
        let jobs = try await MonitorReads(environment: engine.environment).jobs()
        let data = try JSONEncoder().encode(jobs)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let job = try XCTUnwrap((object?["jobs"] as? [[String: Any]])?.first)
        for key in ["job", "state", "schedule", "timezone", "next_expected", "paused_until", "last_run", "lock", "alert"] {
            XCTAssertTrue(job.keys.contains(key), "missing \(key)")
        }
        XCTAssertEqual(job["state"] as? String, "new")
        XCTAssertTrue(job["last_run"] is NSNull)
        XCTAssertEqual((job["lock"] as? [String: Any])?["holder"] as? String, "web1:42:r9")
        await engine.stop()
    }
}
