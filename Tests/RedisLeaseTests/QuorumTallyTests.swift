@testable import RedisLease
import XCTest

/// Redlock's arithmetic alone: no Redis.
final class QuorumTallyTests: XCTestCase {
    private func decide(_ answers: [MasterAnswer], elapsed: Int64 = 5) -> QuorumTally.Decision {
        QuorumTally.acquire(answers, ttlMs: 10_000, elapsedMs: elapsed)
    }

    func testAMajorityGrantsWithTheHighestFence() {
        XCTAssertEqual(decide([.granted(fence: 4, replicated: true), .granted(fence: 9, replicated: true), .unreachable("down")]),
                       .acquired(fence: 9, validForMs: 10_000 - 5 - 102, replicated: true))
    }

    func testOneMasterIsAQuorumOfOne() {
        XCTAssertEqual(decide([.granted(fence: 1, replicated: true)]), .acquired(fence: 1, validForMs: 9_893, replicated: true))
    }

    func testGrantsThatNoReplicaAcknowledgedAreUnreplicated() {
        XCTAssertEqual(decide([.granted(fence: 3, replicated: false)]), .acquired(fence: 3, validForMs: 9_893, replicated: false))
        XCTAssertEqual(decide([.granted(fence: 3, replicated: true), .granted(fence: 3, replicated: false), .lockHeld(holder: "x", ttlMs: 1)]),
                       .acquired(fence: 3, validForMs: 9_893, replicated: false), "a quorum must be replicated, not one master")
    }

    func testAHostClockOffFromAMajorityOfMastersChoosesAgainAndOneOddMasterOnlyFailsToGrant() {
        XCTAssertEqual(decide([.clockSkew(serverMs: 5), .clockSkew(serverMs: 9), .granted(fence: 1, replicated: true)]),
                       .refused(.clockSkew(serverMs: 9)))
        XCTAssertEqual(decide([.clockSkew(serverMs: 5)]), .refused(.clockSkew(serverMs: 5)))
        XCTAssertEqual(decide([.clockSkew(serverMs: 5), .granted(fence: 2, replicated: true), .granted(fence: 3, replicated: true)]),
                       .acquired(fence: 3, validForMs: 9_893, replicated: true))
        XCTAssertEqual(decide([.clockSkew(serverMs: 5), .lockHeld(holder: "h2", ttlMs: 7), .unreachable("down")]),
                       .refused(.lockHeld(holder: "h2", ttlMs: 7)))
    }

    func testASplitVoteWithAMasterDownIsContestedNotHeld() {
        XCTAssertEqual(decide([.unreachable("cut"), .granted(fence: 5, replicated: true), .lockHeld(holder: "h2:1:r", ttlMs: 3000)]),
                       .refused(.contested), "another host has the other half: nobody holds a majority")
        XCTAssertEqual(decide([.unreachable("cut"), .lockHeld(holder: "h2:1:r", ttlMs: 3000), .lockHeld(holder: "h2:1:r", ttlMs: 3000)]),
                       .refused(.lockHeld(holder: "h2:1:r", ttlMs: 3000)), "a majority refuses: held")
        XCTAssertEqual(decide([.unreachable("cut"), .unreachable("cut"), .lockHeld(holder: "h2:1:r", ttlMs: 3000)]),
                       .refused(.lockHeld(holder: "h2:1:r", ttlMs: 3000)), "too few answers to call it contested")
    }

    func testTooSlowAnAcquisitionIsNoLease() {
        XCTAssertEqual(decide([.granted(fence: 1, replicated: true)], elapsed: 9_950),
                       .failed(configuration: false, reason: "no quorum of Redis masters answered"))
    }

    func testTheOccurrenceRefusalWinsOverTheLock() {
        XCTAssertEqual(decide([.lockHeld(holder: "a", ttlMs: 5), .occurrenceTaken(runID: "r1"), .granted(fence: 1, replicated: true)]),
                       .refused(.occurrenceTaken(runID: "r1")))
        XCTAssertEqual(decide([.lockHeld(holder: "a", ttlMs: 5), .lockHeld(holder: "b", ttlMs: 6), .unreachable("x")]),
                       .refused(.lockHeld(holder: "a", ttlMs: 5)))
    }

    func testErrorsAreConfigurationOnlyWhenAServerAnswered() {
        XCTAssertEqual(decide([.refused("NOAUTH"), .unreachable("down"), .unreachable("down")]),
                       .failed(configuration: true, reason: "NOAUTH; down; down"))
        XCTAssertEqual(decide([.unreachable("a"), .unreachable("b"), .granted(fence: 1, replicated: true)]),
                       .failed(configuration: false, reason: "a; b"))
    }

    func testRenewal() {
        XCTAssertEqual(QuorumTally.renew(renewed: 2, refused: 1, masters: 3), .renewed)
        XCTAssertEqual(QuorumTally.renew(renewed: 1, refused: 2, masters: 3), .lost)
        XCTAssertEqual(QuorumTally.renew(renewed: 1, refused: 1, masters: 3), .undecided)
        XCTAssertEqual(QuorumTally.renew(renewed: 0, refused: 1, masters: 1), .lost)
        XCTAssertEqual(QuorumTally.renew(renewed: 0, refused: 0, masters: 1), .undecided)
    }

    /// `concurrency: replace`: a lease taken over reads as replaced, not lost, once the
    /// refusals make it lost at all; a minority of takeovers is no takeover.
    func testRenewalOfALeaseTakenOver() {
        XCTAssertEqual(QuorumTally.renew(renewed: 0, refused: 1, replaced: 1, masters: 1), .replaced)
        XCTAssertEqual(QuorumTally.renew(renewed: 1, refused: 2, replaced: 2, masters: 3), .replaced)
        XCTAssertEqual(QuorumTally.renew(renewed: 1, refused: 2, replaced: 1, masters: 3), .replaced)
        XCTAssertEqual(QuorumTally.renew(renewed: 2, refused: 1, replaced: 1, masters: 3), .renewed)
        XCTAssertEqual(QuorumTally.renew(renewed: 1, refused: 1, replaced: 1, masters: 3), .undecided)
    }
}
