import Foundation
import JobwatchCore
import JobwatchTestSupport
import Reporting
@testable import MonitorService
import RedisLease
import XCTest

/// The monitor behind Sentinel: its master is killed while an incident is open, and the same
/// engine (no restart) must go on reading reports and raising alerts on the promoted replica.
final class EngineFailoverTests: XCTestCase {
    private var cluster: SentinelCluster?

    override func setUpWithError() throws {
        try super.setUpWithError()
        do {
            cluster = try SentinelCluster()   // on the main thread: see EngineTestCase
        } catch let e as RedisServer.Unavailable {
            throw XCTSkip(e.description)
        }
    }

    override func tearDown() {
        cluster?.stop()
        cluster = nil
        super.tearDown()
    }

    func testAlertsAndReportsCarryOnAfterTheMasterIsKilled() async throws {
        let cluster = try XCTUnwrap(cluster)
        guard case .sentinel(let master) = try RedisTopology.parse([cluster.url]) else { return XCTFail("not a Sentinel URL") }
        let h = try EngineHarness(redisURL: cluster.url, connection: RedisConnection(sentinel: master, timeoutMs: 2000))
        try h.writeJob("tick", "schedule: every 2s\ngrace: 1s\n")
        let engine = try h.engine()
        engine.start()
        XCTAssertTrue(try h.eventually(10) { try h.outbox().filter { $0.event == "trigger" }.count == 2 }, "missed before the failover")

        cluster.master.crash()
        XCTAssertTrue(cluster.waitForMaster(cluster.replica.port), "the sentinels promote the replica")

        // A job first written after the failover is missed on the new master: only an engine
        // that found the new master can notice.
        try h.writeJob("late", "schedule: every 2s\ngrace: 1s\n")
        _ = try h.connection.command(h.store.reloadEntry(at: Timestamp.nowMs()))
        XCTAssertTrue(try h.eventually(20) { try h.outbox().contains { $0.event == "trigger" && $0.fields["job"] == "late" } },
                      "a miss after the failover is alerted")
        try h.start("tick", "after-failover")
        try h.finish("tick", "after-failover")
        XCTAssertTrue(try h.eventually(10) { try h.monitor("tick")?.lastRun?.runID == "after-failover" }, "reports are read again")
        XCTAssertTrue(try h.eventually(10) { try h.outbox().filter { $0.event == "resolve" && $0.fields["job"] == "tick" }.count == 2 })
        let deliveries = try h.outbox()
        for job in ["tick", "late"] {
            h.assertNoDuplicateTriggers(deliveries.filter { $0.fields["job"] == job })
        }
        await engine.stop()
    }
}
