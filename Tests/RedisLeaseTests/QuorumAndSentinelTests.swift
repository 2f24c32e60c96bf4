import Foundation
import JobwatchCore
import JobwatchTestSupport
@testable import RedisLease
import XCTest

/// Redlock over three independent masters, and Sentinel discovery.
final class QuorumTests: XCTestCase {
    private var servers: [RedisServer] = []
    private var keys: LeaseKeys!

    override func setUpWithError() throws {
        servers = try (0..<3).map { _ in try startRedis() }
        keys = uniqueKeys(name)
    }

    private func client() throws -> LeaseClient { try connectedClient(servers.map(\.url)) }

    private func lockValues() throws -> [String] { try servers.map { try $0.cli("GET", keys.lock) } }

    func testAcquiresOnEveryMaster() throws {
        let c = try client()
        XCTAssertEqual(c.quorum, 2)
        let fence = assertAcquired(try c.acquire(keys: keys, owner: "o", ttlMs: 5_000, claim: nil))
        XCTAssertEqual(try lockValues(), ["o", "o", "o"])
        XCTAssertEqual(try servers.compactMap { Int64(try $0.cli("GET", keys.fence)) }.max(), fence)
        XCTAssertEqual(try c.renew(keys: keys, owner: "o", ttlMs: 5_000), .renewed)
        c.release(keys: keys, owner: "o")
        XCTAssertEqual(try lockValues(), ["", "", ""])
    }

    func testFenceIsTheHighestAmongMasters() throws {
        try servers[1].cli("SET", keys.fence, "9000000000041")   // far above every server's clock
        XCTAssertEqual(assertAcquired(try client().acquire(keys: keys, owner: "o", ttlMs: 5_000, claim: nil)), 9_000_000_000_042)
    }

    func testWorksWithOneMasterStopped() throws {
        servers[2].stop()
        let c = try client()
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "o", ttlMs: 5_000, claim: nil)))
        XCTAssertEqual(try servers[0].cli("GET", keys.lock), "o")
        XCTAssertEqual(try servers[1].cli("GET", keys.lock), "o")
        XCTAssertEqual(try c.renew(keys: keys, owner: "o", ttlMs: 5_000), .renewed)
        c.release(keys: keys, owner: "o")
        XCTAssertEqual(try servers[0].cli("EXISTS", keys.lock), "0")
    }

    func testConnectFailsWithTwoMastersStopped() throws {
        servers[1].stop()
        servers[2].stop()
        let c = LeaseClient(topology: try RedisTopology.parse(servers.map(\.url)), timeoutMs: 500, attempts: 1)
        XCTAssertThrowsError(try c.connect()) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .unreachable)
        }
    }

    func testAcquireWithoutQuorumThrowsAndLeavesNothingBehind() throws {
        let c = try client()
        servers[1].stop()
        servers[2].stop()
        let claim = OccurrenceClaim(epoch: 7_200, runID: "run-o", ttlSeconds: 600)
        XCTAssertThrowsError(try c.acquire(keys: keys, owner: "o", ttlMs: 5_000, claim: claim)) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .unreachable)
        }
        XCTAssertEqual(try servers[0].cli("EXISTS", keys.lock), "0", "a minority lock is given back")
        XCTAssertEqual(try servers[0].cli("EXISTS", keys.occurrence(7_200)), "0", "and so is the occurrence")
    }

    func testAnotherOwnerOnTwoMastersWins() throws {
        try servers[0].cli("SET", keys.lock, "other", "PX", "30000")
        try servers[1].cli("SET", keys.lock, "other", "PX", "30000")
        let claim = OccurrenceClaim(epoch: 3_600, runID: "run-o", ttlSeconds: 600)
        guard case .lockHeld(let holder, let ttl) = try client().acquire(keys: keys, owner: "o", ttlMs: 5_000, claim: claim) else {
            return XCTFail("expected lockHeld")
        }
        XCTAssertEqual(holder, "other")
        XCTAssertGreaterThan(ttl, 5_000)
        XCTAssertEqual(try servers[2].cli("EXISTS", keys.lock), "0", "no leftover lock of ours on the third master")
        XCTAssertEqual(try servers[2].cli("EXISTS", keys.occurrence(3_600)), "0", "nor an occurrence claim")
        XCTAssertEqual(try lockValues(), ["other", "other", ""])
    }

    func testAnotherOwnerOnOneMasterLoses() throws {
        try servers[0].cli("SET", keys.lock, "stale", "PX", "30000")
        XCTAssertNotNil(assertAcquired(try client().acquire(keys: keys, owner: "o", ttlMs: 5_000, claim: nil)))
        XCTAssertEqual(try lockValues(), ["stale", "o", "o"])
    }

    func testRenewNeedsAQuorum() throws {
        let c = try client()
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "o", ttlMs: 5_000, claim: nil)))
        try servers[0].cli("SET", keys.lock, "x", "PX", "30000")
        XCTAssertEqual(try c.renew(keys: keys, owner: "o", ttlMs: 5_000), .renewed, "two of three still ours")
        try servers[1].cli("SET", keys.lock, "x", "PX", "30000")
        XCTAssertEqual(try c.renew(keys: keys, owner: "o", ttlMs: 5_000), .lost, "a majority says it is someone else's")
    }

    func testRenewThatCannotDecideThrows() throws {
        let c = try client()
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "o", ttlMs: 5_000, claim: nil)))
        try servers[0].cli("SET", keys.lock, "x", "PX", "30000")
        servers[2].stop()
        // One renewed, one refused, one unreachable: not ours for sure, not lost for sure.
        XCTAssertThrowsError(try c.renew(keys: keys, owner: "o", ttlMs: 5_000)) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .unreachable)
        }
    }
}

final class SentinelTests: XCTestCase {
    private var master: RedisServer!
    private var sentinelPort = 0

    override func setUpWithError() throws {
        master = try startRedis()
        guard let binary = which("redis-server") else { throw XCTSkip("redis-server not installed") }
        let dir = try TemporaryDirectory.make(prefix: "sentinel")
        sentinelPort = try freePort()
        let config = "\(dir)/sentinel.conf"
        try """
            port \(sentinelPort)
            bind 127.0.0.1
            daemonize no
            dir \(dir)
            sentinel monitor mymaster 127.0.0.1 \(master.port) 1

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let sentinel = try Command.start([binary, config, "--sentinel"])
        addTeardownBlock {
            sentinel.signal(SIGTERM)
            _ = sentinel.wait(timeout: 5)
            try? FileManager.default.removeItem(atPath: dir)
        }
        let port = sentinelPort
        let ready = waitUntil(timeout: 10) {
            let r = try? Command.run(["redis-cli", "-p", String(port), "--raw", "SENTINEL", "get-master-addr-by-name", "mymaster"], timeout: 2)
            return r?.stdoutText.contains(String(self.master.port)) == true
        }
        if !ready { throw XCTSkip("redis-server --sentinel did not start on port \(port)") }
    }

    func testDiscoversTheMasterAndAcquires() throws {
        let keys = uniqueKeys()
        let c = try connectedClient(["redis-sentinel://127.0.0.1:\(sentinelPort)/mymaster/0"])
        XCTAssertEqual(c.masters.map(\.endpoint.port), [master.port])
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "via-sentinel", ttlMs: 5_000, claim: nil)))
        XCTAssertEqual(try master.cli("GET", keys.lock), "via-sentinel")
        XCTAssertEqual(try c.renew(keys: keys, owner: "via-sentinel", ttlMs: 5_000), .renewed)
    }

    func testSentinelURLDatabaseIsSelectedOnTheMaster() throws {
        let keys = uniqueKeys()
        let c = try connectedClient(["redis-sentinel://127.0.0.1:\(sentinelPort)/mymaster/2"])
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "db2", ttlMs: 5_000, claim: nil)))
        XCTAssertEqual(try master.cli("-n", "2", "GET", keys.lock), "db2")
    }

    func testADeadSentinelIsSkipped() throws {
        let dead = try freePort()
        let c = try connectedClient(["redis-sentinel://127.0.0.1:\(dead),127.0.0.1:\(sentinelPort)/mymaster/0"])
        XCTAssertEqual(c.masters.map(\.endpoint.port), [master.port])
    }

    func testUnknownMasterName() throws {
        let c = LeaseClient(topology: try RedisTopology.parse(["redis-sentinel://127.0.0.1:\(sentinelPort)/nosuch/0"]),
                            timeoutMs: 500, attempts: 1)
        XCTAssertThrowsError(try c.connect()) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .server, "a wrong name is configuration, not an outage")
            XCTAssertTrue("\(error)".hasPrefix("redis: no sentinel knows master \"nosuch\""), "\(error)")
        }
    }

    func testNoReachableSentinelIsAnOutageNamingTheKey() throws {
        let c = LeaseClient(topology: try RedisTopology.parse(["redis-sentinel://127.0.0.1:\(try freePort())/mymaster/0"]),
                            timeoutMs: 500, attempts: 1)
        XCTAssertThrowsError(try c.connect()) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .unreachable)
            XCTAssertTrue("\(error)".hasPrefix("redis: cannot discover Redis master \"mymaster\""), "\(error)")
        }
    }
}
