import RedisLease
import XCTest

/// The wrapper's lease as a pure state machine: every event, in every state.
final class LeaseTimelineTests: XCTestCase {
    private let ttl: Int64 = 30_000
    /// What Redlock subtracts for clock drift: 1% of the TTL plus 2 ms.
    private var drift: Int64 { ttl / 100 + 2 }

    /// Acquired with the request sent at t=1000 and 29 700 ms of validity left.
    private func held() -> LeaseTimeline {
        LeaseTimeline(ttlMs: ttl, acquiredAt: 1_000, validForMs: 29_700)
    }

    func testStartsHeldWithValidityFromTheAcquisition() {
        let t = held()
        XCTAssertEqual(t.state, .held)
        XCTAssertEqual(t.validUntil, 30_700)
        XCTAssertEqual(t.ttlMs, ttl)
    }

    func testFirstRenewalIsAThirdOfTheTTLIntoTheLease() {
        let t = held()
        guard case .renewAt(let at) = t.firstRenewal else { return XCTFail("\(t.firstRenewal)") }
        // The server's TTL began no later than the request; time already spent is subtracted.
        XCTAssertEqual(at, 30_700 - ttl + ttl / 3)
        XCTAssertLessThanOrEqual(at, 1_000 + ttl / 3)
        XCTAssertLessThan(at, t.validUntil)
    }

    func testRenewedExtendsValidityFromWhenTheRequestWasSent() {
        var t = held()
        XCTAssertEqual(t.renewed(sentAt: 11_000), .renewAt(11_000 + ttl / 3))
        XCTAssertEqual(t.state, .held)
        XCTAssertEqual(t.validUntil, 11_000 + ttl - drift)
        XCTAssertEqual(t.renewed(sentAt: 21_000), .renewAt(31_000))
        XCTAssertEqual(t.validUntil, 21_000 + ttl - drift)
    }

    func testRefusedRenewalLosesTheLease() {
        var t = held()
        guard case .leaseLost(let reason) = t.renewRefused() else { return XCTFail("expected leaseLost") }
        XCTAssertTrue(reason.contains("another owner"), reason)
        XCTAssertEqual(t.state, .lost)
    }

    func testUnreachableBeforeValidUntilRetriesSoon() {
        var t = held()
        XCTAssertEqual(t.renewUnreachable(now: 11_000, error: "timeout"), .renewAt(11_500))
        XCTAssertEqual(t.state, .held)
        XCTAssertEqual(t.validUntil, 30_700, "a failed renewal does not extend the lease")
        // Close to the end, the retry is not scheduled past the moment the lease runs out.
        XCTAssertEqual(t.renewUnreachable(now: 30_500, error: "timeout"), .renewAt(30_700))
        XCTAssertEqual(t.state, .held)
    }

    func testUnreachableAtOrAfterValidUntilLosesTheLease() {
        var atTheEdge = held()
        guard case .leaseLost(let reason) = atTheEdge.renewUnreachable(now: 30_700, error: "connection refused") else {
            return XCTFail("expected leaseLost at validUntil")
        }
        XCTAssertTrue(reason.contains("connection refused"), "the Redis error is kept for the report: \(reason)")
        XCTAssertEqual(atTheEdge.state, .lost)

        var late = held()
        guard case .leaseLost = late.renewUnreachable(now: 99_000, error: "x") else { return XCTFail("expected leaseLost") }
        XCTAssertEqual(late.state, .lost)
    }

    func testRenewalAfterAnOutageRestoresTheLease() {
        var t = held()
        XCTAssertEqual(t.renewUnreachable(now: 11_000, error: "x"), .renewAt(11_500))
        XCTAssertEqual(t.renewUnreachable(now: 11_500, error: "x"), .renewAt(12_000))
        XCTAssertEqual(t.renewed(sentAt: 12_000), .renewAt(22_000))
        XCTAssertEqual(t.validUntil, 12_000 + ttl - drift)
        XCTAssertEqual(t.renewUnreachable(now: 35_000, error: "x"), .renewAt(35_500), "still valid by the renewed reckoning")
    }

    func testChildExitReleases() {
        var t = held()
        XCTAssertEqual(t.childExited(), .release)
        XCTAssertEqual(t.state, .released)
    }

    func testEventsAfterLostAreIgnored() {
        var t = held()
        _ = t.renewRefused()
        let validUntil = t.validUntil
        XCTAssertEqual(t.renewed(sentAt: 20_000), .none, "a late renewal reply cannot resurrect a lost lease")
        XCTAssertEqual(t.renewRefused(), .none, "lost is reported once")
        XCTAssertEqual(t.renewUnreachable(now: 99_999, error: "x"), .none)
        XCTAssertEqual(t.childExited(), .none, "nothing to release: the key is not ours")
        XCTAssertEqual(t.state, .lost)
        XCTAssertEqual(t.validUntil, validUntil)
    }

    func testEventsAfterReleaseAreIgnored() {
        var t = held()
        _ = t.childExited()
        XCTAssertEqual(t.renewed(sentAt: 20_000), .none)
        XCTAssertEqual(t.renewRefused(), .none)
        XCTAssertEqual(t.renewUnreachable(now: 99_999, error: "x"), .none)
        XCTAssertEqual(t.childExited(), .none, "released once")
        XCTAssertEqual(t.state, .released)
    }

    func testLostByOutageThenChildExitDoesNotRelease() {
        var t = held()
        guard case .leaseLost = t.renewUnreachable(now: 40_000, error: "x") else { return XCTFail() }
        XCTAssertEqual(t.childExited(), .none)
        XCTAssertEqual(t.state, .lost)
    }

    func testRenewalsNeverFallBehindValidity() {
        // Whatever the schedule of renewals, each one is planned before the lease runs out.
        var t = LeaseTimeline(ttlMs: 3_000, acquiredAt: 0, validForMs: 2_950)
        var now: Int64 = 0
        for _ in 0..<100 {
            guard case .renewAt(let at) = t.renewed(sentAt: now) else { return XCTFail() }
            XCTAssertLessThan(at, t.validUntil)
            now = at
        }
        XCTAssertEqual(t.state, .held)
    }

    /// A run that may be replaced renews every second: its renewal is how it learns of it.
    func testAShorterPeriodRenewsMoreOftenAndATakeoverEndsTheLease() {
        var t = LeaseTimeline(ttlMs: ttl, acquiredAt: 1_000, validForMs: 29_700, periodMs: 1_000)
        XCTAssertEqual(t.firstRenewal, .renewAt(30_700 - ttl + 1_000))
        XCTAssertEqual(t.renewed(sentAt: 2_000), .renewAt(3_000))
        XCTAssertEqual(t.renewReplaced(), .replaced)
        XCTAssertEqual(t.state, .lost)
        XCTAssertEqual(t.renewReplaced(), .none)
        XCTAssertEqual(t.childExited(), .none, "a replaced lease is no longer ours to release")
        let long = LeaseTimeline(ttlMs: 3_000, acquiredAt: 0, validForMs: 2_900, periodMs: 5_000)
        XCTAssertEqual(long.periodMs, 1_000, "never longer than a third of the TTL")
    }
}
