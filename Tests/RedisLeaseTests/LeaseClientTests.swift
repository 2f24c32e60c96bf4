import Foundation
import JobwatchTestSupport
@testable import RedisLease
import XCTest

/// The lease against one real redis-server.
final class LeaseClientTests: XCTestCase {
    private var server: RedisServer!
    private var keys: LeaseKeys!

    override func setUpWithError() throws {
        server = try startRedis()
        keys = uniqueKeys(name)
    }

    private func client() throws -> LeaseClient { try connectedClient([server.url]) }

    func testAcquireRenewRelease() throws {
        let c = try client()
        guard case .acquired(let fence, let valid) = try c.acquire(keys: keys, owner: "web1:42:run-a", ttlMs: 5_000, claim: nil) else {
            return XCTFail("expected acquired")
        }
        let clockMs = Int64(Date().timeIntervalSince1970 * 1000)
        XCTAssertTrue(abs(fence - clockMs) < 60_000, "the first token of a job is the server's clock in ms: \(fence) vs \(clockMs)")
        XCTAssertGreaterThan(valid, 0)
        XCTAssertLessThan(valid, 5_000, "validity leaves room for elapsed time and clock drift")
        XCTAssertEqual(try server.cli("GET", keys.lock), "web1:42:run-a")
        let pttl = Int(try server.cli("PTTL", keys.lock)) ?? -1
        XCTAssertTrue((1...5_000).contains(pttl), "PX ttl set: \(pttl)")

        XCTAssertEqual(try c.renew(keys: keys, owner: "web1:42:run-a", ttlMs: 60_000), .renewed)
        XCTAssertGreaterThan(Int(try server.cli("PTTL", keys.lock)) ?? -1, 5_000, "renewal extends to the new TTL")

        let state = try c.inspect(keys: keys)
        XCTAssertEqual(state.holder, "web1:42:run-a")
        XCTAssertEqual(state.fence, fence)
        XCTAssertGreaterThan(state.ttlMs ?? 0, 5_000)

        c.release(keys: keys, owner: "web1:42:run-a")
        XCTAssertEqual(try server.cli("EXISTS", keys.lock), "0")
        let after = try c.inspect(keys: keys)
        XCTAssertNil(after.holder)
        XCTAssertNil(after.ttlMs)
        XCTAssertEqual(after.fence, fence, "the fencing counter survives the release")
    }

    func testSecondOwnerSeesTheHolderAndRemainingTTL() throws {
        let a = try client(), b = try client()
        let fence = assertAcquired(try a.acquire(keys: keys, owner: "host-a", ttlMs: 10_000, claim: nil))
        guard case .lockHeld(let holder, let ttl) = try b.acquire(keys: keys, owner: "host-b", ttlMs: 10_000, claim: nil) else {
            return XCTFail("expected lockHeld")
        }
        XCTAssertEqual(holder, "host-a")
        XCTAssertTrue((1...10_000).contains(ttl), "remaining ttl \(ttl)")
        XCTAssertEqual(try server.cli("GET", keys.lock), "host-a", "the refusal leaves the lock alone")
        XCTAssertEqual(try server.cli("GET", keys.fence), fence.map(String.init), "a refusal does not consume a fencing token")
    }

    func testFencingTokenIncrementsAcrossAcquisitions() throws {
        let c = try client()
        var fences: [Int64] = []
        for run in 1...3 {
            guard let f = assertAcquired(try c.acquire(keys: keys, owner: "run-\(run)", ttlMs: 5_000, claim: nil)) else { return }
            fences.append(f)
            c.release(keys: keys, owner: "run-\(run)")
        }
        XCTAssertEqual(fences.count, 3)
        XCTAssertTrue(zip(fences, fences.dropFirst()).allSatisfy { $0 < $1 }, "strictly increasing: \(fences)")
        // Another job has its own counter.
        try server.cli("SET", keys.fence, "9000000000000")
        XCTAssertLessThan(assertAcquired(try c.acquire(keys: uniqueKeys("other"), owner: "x", ttlMs: 5_000, claim: nil)) ?? .max,
                          9_000_000_000_000)
    }

    func testFenceStaysMonotonicWhenRedisLosesItsData() throws {
        let c = try client()
        guard let before = assertAcquired(try c.acquire(keys: keys, owner: "a", ttlMs: 5_000, claim: nil)) else { return }
        c.release(keys: keys, owner: "a")
        try server.cli("FLUSHALL")   // what a restart without persistence leaves
        guard let after = assertAcquired(try c.acquire(keys: keys, owner: "b", ttlMs: 5_000, claim: nil)) else { return }
        XCTAssertGreaterThan(after, before, "the counter is raised to the server's clock, never restarting at 1")
    }

    func testOwnLockIsGrantedAgain() throws {
        // The acquire script re-sent after a dropped connection finds our own lock.
        let c = try client()
        let claim = OccurrenceClaim(epoch: 60, runID: "run-a", ttlSeconds: 600)
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "me", ttlMs: 5_000, claim: claim)))
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "me", ttlMs: 5_000, claim: claim)))
        guard case .lockHeld = try c.acquire(keys: keys, owner: "someone-else", ttlMs: 5_000, claim: nil) else {
            return XCTFail("another owner is still refused")
        }
    }

    func testAcquireAfterExpiry() throws {
        let c = try client()
        let first = assertAcquired(try c.acquire(keys: keys, owner: "crashed", ttlMs: 100, claim: nil)) ?? .max
        XCTAssertTrue(waitUntil(timeout: 5) { (try? self.server.cli("EXISTS", self.keys.lock)) == "0" }, "key expires by PX")
        XCTAssertGreaterThan(assertAcquired(try c.acquire(keys: keys, owner: "next", ttlMs: 5_000, claim: nil)) ?? 0, first)
    }

    func testOccurrenceClaimSurvivesTheLockRelease() throws {
        let a = try client(), b = try client()
        let epoch: Int64 = 1_767_225_600
        let first = OccurrenceClaim(epoch: epoch, runID: "run-a", ttlSeconds: 3_600)
        XCTAssertNotNil(assertAcquired(try a.acquire(keys: keys, owner: "host-a", ttlMs: 5_000, claim: first)))
        XCTAssertEqual(try server.cli("GET", keys.occurrence(epoch)), "run-a")
        let ttl = Int(try server.cli("TTL", keys.occurrence(epoch))) ?? -1
        XCTAssertTrue((3_500...3_600).contains(ttl), "occurrence EX ttl \(ttl)")
        a.release(keys: keys, owner: "host-a")
        XCTAssertEqual(try server.cli("EXISTS", keys.lock), "0")

        // The job finished quickly; a host whose cron fired late must not run it again.
        let late = OccurrenceClaim(epoch: epoch, runID: "run-b", ttlSeconds: 3_600)
        XCTAssertEqual(try b.acquire(keys: keys, owner: "host-b", ttlMs: 5_000, claim: late), .occurrenceTaken(runID: "run-a"))
        XCTAssertEqual(try server.cli("EXISTS", keys.lock), "0", "refused by occurrence: no lock taken")

        // The next occurrence is free.
        let next = OccurrenceClaim(epoch: epoch + 86_400, runID: "run-c", ttlSeconds: 3_600)
        XCTAssertNotNil(assertAcquired(try b.acquire(keys: keys, owner: "host-b", ttlMs: 5_000, claim: next)))
    }

    func testSameRunMayRetryItsOwnOccurrence() throws {
        let c = try client()
        let claim = OccurrenceClaim(epoch: 1_000, runID: "run-a", ttlSeconds: 600)
        try server.cli("SET", keys.lock, "someone-else", "PX", "10000")
        guard case .lockHeld(let holder, _) = try c.acquire(keys: keys, owner: "host-a", ttlMs: 5_000, claim: claim) else {
            return XCTFail("expected lockHeld")
        }
        XCTAssertEqual(holder, "someone-else")
        try server.cli("DEL", keys.lock)
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "host-a", ttlMs: 5_000, claim: claim)))
        c.release(keys: keys, owner: "host-a")
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "host-a", ttlMs: 5_000, claim: claim)),
                        "a lock_wait retry of the same run id is not refused by its own claim")
    }

    func testLockHeldRefusalDoesNotClaimTheOccurrence() throws {
        let a = try client(), b = try client()
        let epoch: Int64 = 1_767_229_200
        // A run started by hand holds the lock without claiming any occurrence.
        XCTAssertNotNil(assertAcquired(try a.acquire(keys: keys, owner: "manual", ttlMs: 5_000, claim: nil)))
        let claim = OccurrenceClaim(epoch: epoch, runID: "run-b", ttlSeconds: 3_600)
        guard case .lockHeld(let holder, _) = try b.acquire(keys: keys, owner: "host-b", ttlMs: 5_000, claim: claim) else {
            return XCTFail("expected lockHeld")
        }
        XCTAssertEqual(holder, "manual")
        XCTAssertEqual(try server.cli("EXISTS", keys.occurrence(epoch)), "0", "the occurrence stays free for a host that waits")

        // A third host waiting with lock_wait gets it once the lock is free.
        a.release(keys: keys, owner: "manual")
        let other = OccurrenceClaim(epoch: epoch, runID: "run-c", ttlSeconds: 3_600)
        XCTAssertNotNil(assertAcquired(try a.acquire(keys: keys, owner: "host-c", ttlMs: 5_000, claim: other)))
        XCTAssertEqual(try server.cli("GET", keys.occurrence(epoch)), "run-c")
    }

    func testRenewAfterTheKeyWasOverwrittenIsLost() throws {
        let c = try client()
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "mine", ttlMs: 5_000, claim: nil)))
        try server.cli("SET", keys.lock, "usurper", "PX", "60000")
        XCTAssertEqual(try c.renew(keys: keys, owner: "mine", ttlMs: 5_000), .lost)
        XCTAssertEqual(try server.cli("GET", keys.lock), "usurper")
        XCTAssertGreaterThan(Int(try server.cli("PTTL", keys.lock)) ?? 0, 5_000, "the other owner's TTL is not touched")
    }

    func testRenewAfterTheKeyVanishedIsLost() throws {
        let c = try client()
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "mine", ttlMs: 5_000, claim: nil)))
        try server.cli("DEL", keys.lock)
        XCTAssertEqual(try c.renew(keys: keys, owner: "mine", ttlMs: 5_000), .lost)
        XCTAssertEqual(try server.cli("EXISTS", keys.lock), "0", "renewal never recreates the key")
    }

    func testReleaseDoesNotDeleteSomeoneElsesLock() throws {
        let c = try client()
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "mine", ttlMs: 5_000, claim: nil)))
        try server.cli("SET", keys.lock, "theirs", "PX", "60000")
        c.release(keys: keys, owner: "mine")
        XCTAssertEqual(try server.cli("GET", keys.lock), "theirs")
    }

    func testForceUnlockReturnsThePreviousHolder() throws {
        let c = try client()
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "stuck", ttlMs: 60_000, claim: nil)))
        XCTAssertEqual(try c.forceUnlock(keys: keys), "stuck")
        XCTAssertEqual(try server.cli("EXISTS", keys.lock), "0")
        XCTAssertNil(try c.forceUnlock(keys: keys))
    }

    func testEvalshaFallsBackAfterScriptFlush() throws {
        let c = try client()
        let first = assertAcquired(try c.acquire(keys: keys, owner: "a", ttlMs: 5_000, claim: nil)) ?? .max
        XCTAssertEqual(try server.cli("SCRIPT", "EXISTS", LeaseScripts.acquire.sha1), "1", "EVAL cached the script under our SHA-1")
        try server.cli("SCRIPT", "FLUSH")
        XCTAssertEqual(try server.cli("SCRIPT", "EXISTS", LeaseScripts.renew.sha1), "0")
        XCTAssertEqual(try c.renew(keys: keys, owner: "a", ttlMs: 5_000), .renewed)
        c.release(keys: keys, owner: "a")
        XCTAssertEqual(try server.cli("EXISTS", keys.lock), "0")
        try server.cli("SCRIPT", "FLUSH")
        XCTAssertGreaterThan(assertAcquired(try c.acquire(keys: keys, owner: "b", ttlMs: 5_000, claim: nil)) ?? 0, first)
    }

    func testKeyNamesFollowTheSpec() {
        let k = LeaseKeys(prefix: "jobwatch:", job: "nightly-report")
        XCTAssertEqual(k.lock, "jobwatch:lock:nightly-report")
        XCTAssertEqual(k.fence, "jobwatch:fence:nightly-report")
        XCTAssertEqual(k.occurrence(1_767_225_600), "jobwatch:occ:nightly-report:1767225600")
    }
}
