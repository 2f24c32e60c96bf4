import Foundation
import JobwatchCore
import JobwatchTestSupport
import MonitorCore
@testable import MonitorService
import Reporting
import XCTest

final class EngineRestartTests: EngineTestCase {
    func testRestartMidIncidentNeitherLosesNorDuplicatesAndPairsTheRun() async throws {
        let h = try makeHarness()
        try h.writeJob("tick", "schedule: every 2s\ngrace: 1s\n")
        let first = try h.engine()
        first.start()
        XCTAssertTrue(try h.eventually(6) { try h.outbox().count == 2 })
        await first.stop()

        // A run starts while jobmond is down, and a crashed leader holds it un-acknowledged.
        try h.start("tick", "across")
        let stolen = try h.connection.command(["XREADGROUP", "GROUP", "jobmond", "crashed", "COUNT", "10",
                                               "STREAMS", h.store.events, ">"])
        XCTAssertNotNil(stolen.array)

        let second = try h.engine(claimIdleMs: 300)
        second.start()
        XCTAssertTrue(try h.eventually { try h.monitor("tick")?.runningRuns["across"] != nil }, "pending start re-claimed")
        let pending = try h.connection.command(["XPENDING", h.store.events, "jobmond"]).array?.first?.integer
        XCTAssertEqual(pending, 0)
        try await Task.sleep(nanoseconds: 1_500_000_000)
        XCTAssertEqual(try h.outbox().count, 2, "the open incident is not paged again after the restart")

        try h.finish("tick", "across")
        XCTAssertTrue(try h.eventually { try h.outbox().filter { $0.event == "resolve" }.count == 2 })
        h.assertNoDuplicateTriggers(try h.outbox())
        let runs = try await MonitorReads(environment: second.environment).runs("tick", limit: 5)
        let run = try XCTUnwrap(runs?.runs.first { $0.runID == "across" })
        XCTAssertEqual(run.host, "web1")
        XCTAssertEqual(run.outcome, "success")
        XCTAssertNotNil(run.finishedAt)
        await second.stop()
    }

    /// The stream is anyone's to XADD: numbers past Int64 and absurd durations are entries
    /// the leader applies or skips, never a crash that every replica re-claims in turn.
    func testHostileNumbersInStreamEntriesNeverStopTheLeader() async throws {
        let h = try makeHarness()
        let engine = try h.engine()
        engine.start()
        let hostile: [[String]] = [
            ["duration_ms", "-9223372036854775808", "exit_code", "99999999999999999999", "finished_at", "0001-01-01T00:00:00Z"],
            ["duration_ms", "9223372036854775807", "signal", "-9223372036854775809", "finished_at", "0001-01-01T00:00:00Z"],
            ["duration_ms", "18446744073709551616", "fence", "9223372036854775808"],
        ]
        for (i, fields) in hostile.enumerated() {
            let reply = try h.connection.command(["XADD", h.store.events, "*", "type", "finish", "job", "odd",
                                                  "run_id", "hostile-\(i)", "host", "x", "outcome", "failure"] + fields)
            XCTAssertFalse(reply.isError, "\(reply)")
        }
        try h.start("odd", "after")
        try h.finish("odd", "after")
        XCTAssertTrue(try h.waitUntilApplied(10), "every entry applied and acknowledged")
        let monitor = try XCTUnwrap(h.monitor("odd"))
        XCTAssertEqual(monitor.lastRun?.runID, "after")
        XCTAssertEqual(monitor.lastRun?.outcome, .success)
        await engine.stop()
    }

    /// A gap shorter than a minute (a restart, a failover) is no monitor outage: each job pages.
    func testDeadlinePassedWhileDownAlertsOnceOnStartUp() async throws {
        let h = try makeHarness()
        try h.writeJob("tick", "schedule: every 2s\ngrace: 1s\n")
        try await h.watchThenStop(["tick"])
        try await Task.sleep(nanoseconds: 3_500_000_000)
        XCTAssertEqual(try h.outbox().count, 0)
        let second = try h.engine()
        second.start()
        XCTAssertTrue(try h.eventually(2) { try h.outbox().count == 2 })
        XCTAssertEqual(Set(try h.outbox().map { $0.fields["kind"] }), ["missed"])
        await second.stop()
        let third = try h.engine()
        third.start()
        try await Task.sleep(nanoseconds: 1_500_000_000)
        XCTAssertEqual(try h.outbox().count, 2)
        await third.stop()
    }

    func testFiftyRunsReportedWhileStoppedAreAllApplied() async throws {
        let h = try makeHarness()
        try h.writeJob("batch", "schedule: \"0 3 * * *\"\n")
        let now = Timestamp.nowMs()
        for i in 0..<50 {
            try h.start("batch", "run\(i)", at: now - Int64(50 - i) * 1000)
            try h.finish("batch", "run\(i)")
        }
        let engine = try h.engine()
        engine.start()
        XCTAssertTrue(try h.eventually { try h.monitor("batch")?.lastRun?.runID == "run49" })
        let runs = try await MonitorReads(environment: engine.environment).runs("batch", limit: 100)
        XCTAssertEqual(runs?.runs.count, 50)
        XCTAssertTrue(runs?.runs.allSatisfy { $0.outcome == "success" } ?? false)
        XCTAssertEqual(try h.monitor("batch")?.runningRuns.count, 0)
        await engine.stop()
    }

    /// A backlog is applied in batches whose persists overlap the next batch's reads; an engine
    /// stopped halfway and a successor that re-claims what it left pending must together apply
    /// every report exactly once.
    func testBacklogInPipelinedBatchesSurvivesAStopHalfway() async throws {
        let h = try makeHarness()
        let now = Timestamp.nowMs()
        let jobs = (0..<40).map { "backlog-\($0)" }
        for round in 0..<3 {
            for job in jobs { try h.start(job, "r\(round)", at: now - Int64(3 - round) * 60_000) }
            for job in jobs { try h.finish(job, "r\(round)", exitCode: round == 1 ? 2 : 0) }
        }
        let first = try h.engine(batchSize: 7)
        first.start()
        XCTAssertTrue(try h.eventually(20) { try h.acknowledged() >= 60 })
        await first.stop()
        let second = try h.engine(claimIdleMs: 200, batchSize: 7)
        second.start()
        XCTAssertTrue(try h.waitUntilApplied(20), "not every report was applied")
        for job in jobs {
            let monitor = try XCTUnwrap(h.monitor(job), job)
            XCTAssertEqual(monitor.lastRun?.runID, "r2", job)
            XCTAssertEqual(monitor.consecutiveFailures, 0, job)
            XCTAssertTrue(monitor.runningRuns.isEmpty, job)
            let runs = try await MonitorReads(environment: second.environment).runs(job, limit: 10)
            XCTAssertEqual(runs?.runs.compactMap(\.outcome).sorted(), ["failure", "success", "success"], job)
        }
        await second.stop()
    }

    /// A job whose file is deleted stops being expected: its missed incident resolves and it
    /// never pages as missed again. An unreadable jobs.d retires nothing.
    func testDeletedJobFileRetiresTheJob() async throws {
        let h = try makeHarness()
        try h.writeJob("retired", "schedule: every 2s\ngrace: 1s\n")
        try h.writeJob("kept", "schedule: \"0 3 * * *\"\n")
        let engine = try h.engine()
        engine.start()
        XCTAssertTrue(try h.eventually(10) { try h.monitor("retired")?.incident?.kind == .missed })

        let hidden = h.jobsDir + ".away"
        try FileManager.default.moveItem(atPath: h.jobsDir, toPath: hidden)
        await engine.registry.reload()
        XCTAssertTrue(try h.waitUntilApplied(), "the reload was not applied")
        XCTAssertNotNil(try h.monitor("retired")?.spec.schedule, "an unreadable jobs.d must not retire anything")
        XCTAssertNotNil(try h.monitor("kept")?.spec.schedule)
        try FileManager.default.moveItem(atPath: hidden, toPath: h.jobsDir)

        try FileManager.default.removeItem(atPath: h.jobsDir + "/retired.yaml")
        await engine.registry.reload()
        XCTAssertTrue(try h.eventually { try h.monitor("retired")?.spec.schedule == nil })
        XCTAssertNil(try h.monitor("retired")?.incident)
        XCTAssertTrue(try h.outbox().contains { $0.fields["job"] == "retired" && $0.event == "resolve" })
        let alerts = try h.outbox().count
        try await Task.sleep(nanoseconds: 3_000_000_000)
        XCTAssertEqual(try h.outbox().count, alerts, "a retired job pages no more")
        XCTAssertNotNil(try h.monitor("kept")?.spec.schedule)
        await engine.stop()
    }

    func testTwoEnginesOnlyTheLeaderWrites() async throws {
        let h = try makeHarness()
        try h.writeJob("tick", "schedule: every 2s\ngrace: 1s\n")
        let a = try h.engine()
        let b = try h.engine()
        a.start()
        b.start()
        XCTAssertTrue(try h.eventually(6) { try h.outbox().count >= 2 })
        try await Task.sleep(nanoseconds: 2_500_000_000)
        XCTAssertEqual(try h.outbox().count, 2)
        XCTAssertNotEqual(a.applier.isApplying, b.applier.isApplying, "exactly one applies")
        XCTAssertNotEqual(a.leadership.isLeader, b.leadership.isLeader)
        // The leader goes away: the other takes over and carries on without paging again.
        let (leader, follower) = a.leadership.isLeader ? (a, b) : (b, a)
        await leader.stop()
        XCTAssertTrue(h.eventually(5) { follower.applier.isApplying })
        try h.start("tick", "r")
        try h.finish("tick", "r")
        XCTAssertTrue(try h.eventually { try h.outbox().filter { $0.event == "resolve" }.count == 2 })
        h.assertNoDuplicateTriggers(try h.outbox())
        await follower.stop()
    }

    func testBrokenFileRaisesConfigErrorForThatJobOnlyAndReloadFixesIt() async throws {
        let h = try makeHarness()
        try h.writeJob("good", "schedule: \"0 3 * * *\"\n")
        try h.writeJob("fragile", "schedule: \"0 4 * * *\"\n")
        let engine = try h.engine()
        engine.start()
        XCTAssertTrue(try h.eventually { try h.monitor("fragile") != nil && h.monitor("good") != nil })

        try h.writeJob("fragile", "schedule: \"not a schedule\"\n")
        await engine.registry.reload()
        XCTAssertTrue(try h.eventually { try h.outbox().count == 2 })
        XCTAssertEqual(Set(try h.outbox().map { $0.fields["job"] ?? "" }), ["fragile"])
        XCTAssertEqual(try h.monitor("fragile")?.incident?.kind, .configError)
        XCTAssertEqual(try h.monitor("fragile")?.spec.schedule?.expression, "0 4 * * *", "the last good definition stays")
        XCTAssertNil(try h.monitor("good")?.incident)

        await engine.registry.reload()   // still broken: no second page
        try await Task.sleep(nanoseconds: 500_000_000)
        XCTAssertEqual(try h.outbox().count, 2)

        try h.writeJob("fragile", "schedule: \"0 5 * * *\"\n")
        await engine.registry.reload()
        XCTAssertTrue(try h.eventually { try h.outbox().filter { $0.event == "resolve" }.count == 2 })
        XCTAssertEqual(try h.monitor("fragile")?.spec.schedule?.expression, "0 5 * * *")
        await engine.stop()
    }
}

/// The monitor itself down for longer than a failover: the misses it could not see page once,
/// as one outage alert, and stay visible per job; a miss after it is back pages as usual.
final class OutageInhibitionTests: EngineTestCase {
    func testMissesWhileNoMonitorRanPageOnceAsAnOutage() async throws {
        let h = try makeHarness()
        try h.writeJob("tick", "schedule: every 2s\ngrace: 1s\n")
        try h.writeJob("tock", "schedule: every 2s\ngrace: 1s\n")
        try h.writeJob("calm", "{}\n")
        try await h.watchThenStop(["tick", "tock"])
        // The last heartbeat was two minutes ago: no monitor ran since.
        _ = try h.connection.command(["SET", h.store.alive, String(Timestamp.nowMs() - 120_000)])
        try await Task.sleep(nanoseconds: 3_500_000_000)

        let second = try h.engine()
        second.start()
        XCTAssertTrue(try h.eventually(3) { try h.outbox().contains { $0.fields["kind"] == "monitor_down" } })
        let outage = try h.outbox().filter { $0.fields["kind"] == "monitor_down" }
        XCTAssertEqual(outage.map(\.channel).sorted(), ["pd", "slack"], "one outage alert per default channel")
        // Nothing for the occurrences it stands for (later misses may follow: every 2 s).
        XCTAssertEqual(try h.outbox().first?.fields["kind"], "monitor_down")
        let pd = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(outage.first { $0.channel == "pd" }?.fields["body"]).utf8))
            as? [String: Any])
        let details = (pd["payload"] as? [String: Any])?["custom_details"] as? [String: Any]
        XCTAssertEqual(Set(details?["jobs"] as? [String] ?? []), ["tick", "tock"])
        XCTAssertTrue(((pd["payload"] as? [String: Any])?["summary"] as? String)?.hasPrefix("jobmond was down 2 min") == true)
        // Each job is missed, visibly, but its incident is not paged on its own.
        XCTAssertEqual(try h.monitor("tick")?.state(at: Timestamp.nowMs()), .missed)
        XCTAssertEqual(try h.monitor("tick")?.incident?.inhibitedBy, "monitor_down")

        // A success ends tock's incident without a resolve (its trigger never went out).
        try h.start("tock", "r1")
        try h.finish("tock", "r1")
        XCTAssertTrue(try h.eventually(3) { try h.monitor("tock")?.incident == nil })
        // tick misses again now that the monitor watches: that pages, once per channel.
        XCTAssertTrue(try h.eventually(5) { try h.outbox().filter { $0.event == "trigger" && $0.fields["job"] == "tick" }.count == 2 })
        try await Task.sleep(nanoseconds: 1_000_000_000)
        XCTAssertEqual(try h.outbox().filter { $0.fields["job"] == "tock" && $0.event == "resolve" }.count, 0,
                       "no resolve for an incident never paged")
        XCTAssertEqual(try h.monitor("tick")?.incident?.inhibitedBy, nil)
        await second.stop()
    }
}
