/// The wrapper's view of its lease while the child runs, as a pure state machine: events in,
/// actions out, the monotonic clock passed in. The shell around it does the Redis calls and
/// the timers.
///
/// The lease is renewed every ttl/3. If Redis cannot be reached, renewal is retried until the
/// lease would have expired on the server's side (by our conservative local reckoning); only
/// then, or when Redis says the key is gone or someone else's, is the lease lost.
public struct LeaseTimeline: Sendable {
    public enum State: Sendable, Equatable { case held, lost, released }

    public enum Action: Sendable, Equatable {
        case renewAt(Int64)
        case leaseLost(reason: String)
        /// A new occurrence took the lease over (`concurrency: replace`): stop the command.
        case replaced
        case release
        case none
    }

    public let ttlMs: Int64
    public private(set) var state = State.held
    /// Until when (monotonic ms) the lease is certainly still ours.
    public private(set) var validUntil: Int64

    private static let retryMs: Int64 = 500

    /// How often the lease is renewed: every ttl/3, or more often when asked for.
    public let periodMs: Int64

    /// `periodMs`: renew this often when it is shorter than ttl/3 — a run that may be replaced
    /// renews every second, since its renewal is how it learns it was.
    public init(ttlMs: Int64, acquiredAt sentAt: Int64, validForMs: Int64, periodMs: Int64? = nil) {
        self.ttlMs = ttlMs
        self.validUntil = sentAt + validForMs
        self.periodMs = min(ttlMs / 3, periodMs ?? ttlMs)
    }

    public var firstRenewal: Action { .renewAt(validUntil - ttlMs + periodMs) }

    /// `sentAt`: when the renewal request was sent — the server's TTL starts no earlier.
    public mutating func renewed(sentAt: Int64) -> Action {
        guard state == .held else { return .none }
        validUntil = sentAt + ttlMs - QuorumTally.driftAllowance(ttlMs: ttlMs)
        return .renewAt(sentAt + periodMs)
    }

    public mutating func renewReplaced() -> Action {
        guard state == .held else { return .none }
        state = .lost
        return .replaced
    }

    public mutating func renewRefused() -> Action {
        guard state == .held else { return .none }
        state = .lost
        return .leaseLost(reason: "the lock key is gone or now belongs to another owner")
    }

    public mutating func renewUnreachable(now: Int64, error: String) -> Action {
        guard state == .held else { return .none }
        if now >= validUntil {
            state = .lost
            return .leaseLost(reason: "Redis unreachable until the lease expired: \(error)")
        }
        return .renewAt(min(now + Self.retryMs, validUntil))
    }

    public mutating func childExited() -> Action {
        guard state == .held else { return .none }
        state = .released
        return .release
    }
}
