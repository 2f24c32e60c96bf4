import Foundation
import JobwatchTestSupport
@testable import RedisLease
import XCTest
#if canImport(Glibc)
import Glibc
import JobwatchCore
#endif

/// One connection object, used across real failovers of a real Sentinel deployment.
final class SentinelFailoverTests: XCTestCase {
    private var cluster: SentinelCluster!

    override func setUpWithError() throws {
        do {
            cluster = try SentinelCluster()
        } catch let e as RedisServer.Unavailable {
            throw XCTSkip(e.description)
        }
        addTeardownBlock { [cluster] in cluster?.stop() }
    }

    private func connection() throws -> RedisConnection {
        guard case .sentinel(let master) = try RedisTopology.parse([cluster.url]) else { throw XCTSkip("not a sentinel URL") }
        return RedisConnection(sentinel: master, timeoutMs: 500, attempts: 3)
    }

    func testFollowsTheMasterAfterItIsKilled() throws {
        let c = try connection()
        XCTAssertEqual(try c.command(["SET", "before", "1"]), .status("OK"))
        XCTAssertEqual(try c.command(["WAIT", "1", "5000"]), .integer(1), "on the replica before the crash")
        XCTAssertEqual(c.endpoint.port, cluster.master.port)
        cluster.master.crash()
        XCTAssertTrue(cluster.waitForMaster(cluster.replica.port), "the sentinels promote the replica")
        // Until the promotion, commands fail; afterwards the same object writes to the new master.
        XCTAssertTrue(waitUntil(timeout: 10) { (try? c.command(["SET", "after", "2"])) == .status("OK") })
        XCTAssertEqual(c.endpoint.port, cluster.replica.port)
        XCTAssertEqual(try cluster.replica.cli("GET", "after"), "2")
        XCTAssertEqual(try cluster.replica.cli("GET", "before"), "1", "what was acknowledged survived")
    }

    func testADemotedMasterIsLeftAtItsFirstReadOnlyAnswer() throws {
        let c = try connection()
        XCTAssertEqual(try c.command(["SET", "k", "1"]), .status("OK"))
        // A failover while the old master keeps running: it becomes a replica and answers
        // writes with READONLY. The connection must not be left talking to it.
        _ = try Command.run(["redis-cli", "-p", String(cluster.sentinelPorts[0]), "SENTINEL", "FAILOVER", cluster.name], timeout: 5)
        XCTAssertTrue(cluster.waitForMaster(cluster.replica.port))
        XCTAssertTrue(waitUntil(timeout: 15) {
            ((try? cluster.master.cli("ROLE")) ?? "").hasPrefix("slave")
        }, "the old master is reconfigured as a replica")
        XCTAssertEqual(try c.command(["SET", "k", "2"]), .status("OK"), "one command: READONLY, re-discovery, re-sent")
        XCTAssertEqual(c.endpoint.port, cluster.replica.port)
        XCTAssertEqual(try cluster.replica.cli("GET", "k"), "2")
    }

    func testAReadOnlyPartitionedMasterIsLeftAtTheNextCheck() throws {
        // Reads alone never see READONLY; the once-a-second check against the sentinels does.
        let c = try connection()
        XCTAssertEqual(try c.command(["GET", "x"]), .null)
        _ = try Command.run(["redis-cli", "-p", String(cluster.sentinelPorts[1]), "SENTINEL", "FAILOVER", cluster.name], timeout: 5)
        XCTAssertTrue(cluster.waitForMaster(cluster.replica.port))
        XCTAssertTrue(waitUntil(timeout: 5) {
            _ = try? c.command(["GET", "x"])
            return c.endpoint.port == self.cluster.replica.port
        })
    }

    func testLeaseGrantsWaitForTheReplica() throws {
        let keys = uniqueKeys()
        let client = LeaseClient(topology: try RedisTopology.parse([cluster.url]), timeoutMs: 500, attempts: 1,
                                 replicaAcks: 1, replicaTimeoutMs: 200)
        try client.connect()
        XCTAssertNotNil(assertAcquired(try client.acquire(keys: keys, owner: "a", ttlMs: 5_000, claim: nil)))
        XCTAssertEqual(try cluster.replica.cli("GET", keys.lock), "a", "acknowledged means on the replica")
        client.release(keys: keys, owner: "a")

        cluster.replica.crash()
        let claim = OccurrenceClaim(epoch: 600, runID: "run-b", ttlSeconds: 600)
        guard case .unreplicated = try client.acquire(keys: keys, owner: "b", ttlMs: 5_000, claim: claim) else {
            return XCTFail("a grant no replica acknowledged must say so")
        }
        client.giveBack(keys: keys, owner: "b", claim: claim)
        XCTAssertEqual(try cluster.master.cli("EXISTS", keys.lock), "0")
        XCTAssertEqual(try cluster.master.cli("EXISTS", keys.occurrence(600)), "0", "the occurrence is free again")
    }
}
