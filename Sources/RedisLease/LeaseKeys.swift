/// Redis key names for one job, as documented in SPEC §2.
public struct LeaseKeys: Sendable {
    public let prefix: String
    public let job: String
    public let lock: String

    public init(prefix: String, job: String) {
        self.prefix = prefix
        self.job = job
        self.lock = "\(prefix)lock:\(job)"
    }

    /// cronlock's key layout (`<CRONLOCK_PREFIX><key>`), for hosts migrating from it.
    public init(prefix: String, job: String, lockKey: String) {
        self.prefix = prefix
        self.job = job
        self.lock = lockKey
    }

    /// `concurrency: allow`: each occurrence is its own lease, so occurrences run side by side.
    public init(prefix: String, job: String, occurrence epoch: Int64) {
        self.prefix = prefix
        self.job = job
        self.lock = "\(prefix)lock:\(job):\(epoch)"
    }

    /// The one `lock:<job>` key the monitor looks at to find lost runs: not a per-occurrence
    /// lease, nor cronlock's.
    public var isJobWide: Bool { lock == "\(prefix)lock:\(job)" }

    public var fence: String { "\(prefix)fence:\(job)" }
    /// `concurrency: replace`: names the owner whose lease was taken over, until that run has
    /// stopped its command and deleted it (or it expires).
    public var replacing: String { "\(prefix)replacing:\(job)" }
    public func occurrence(_ epoch: Int64) -> String { "\(prefix)occ:\(job):\(epoch)" }
}

/// A scheduled occurrence this run wants to claim, so no other host runs it too.
public struct OccurrenceClaim: Sendable {
    public let epoch: Int64
    public let runID: String
    public let ttlSeconds: Int64
    /// The host's clock (epoch ms) when it chose `epoch` by it: the script refuses the claim
    /// (`clockSkew`) when the server's clock differs by more than `skewToleranceMs`. Nil when
    /// the occurrence was chosen by the server's clock already.
    public let hostClockMs: Int64?

    /// More than any sane NTP-synced host, less than any schedule's period.
    public static let skewToleranceMs: Int64 = 2_000

    public init(epoch: Int64, runID: String, ttlSeconds: Int64, hostClockMs: Int64? = nil) {
        self.epoch = epoch
        self.runID = runID
        self.ttlSeconds = ttlSeconds
        self.hostClockMs = hostClockMs
    }
}

public enum AcquireOutcome: Sendable, Equatable {
    /// The lease is ours until `validForMs` from the moment the request was sent.
    case acquired(fence: Int64, validForMs: Int64)
    /// Granted by a quorum, but `WAIT` saw too few replicas acknowledge it in time: a failover
    /// now could lose the claim and let a second host run the occurrence. The caller decides
    /// (`on_redis_down`) whether to use it or give it back.
    case unreplicated(fence: Int64, validForMs: Int64)
    case lockHeld(holder: String, ttlMs: Int64)
    case occurrenceTaken(runID: String)
    /// The host's clock is off by more than `OccurrenceClaim.skewToleranceMs`: nothing was
    /// taken. The caller chooses the occurrence again by `serverMs` (Redis's clock).
    case clockSkew(serverMs: Int64)
    /// No host holds a majority: competing hosts each took part of the masters (a split vote,
    /// likely with a master unreachable). Everything was given back; try again shortly.
    case contested
}

public enum RenewOutcome: Sendable, Equatable {
    case renewed
    /// The key is gone or names another owner: the lease is definitely lost.
    case lost
    /// A new occurrence took the lease over (`concurrency: replace`): stop the command.
    case replaced
}

/// What `jobctl lock` shows.
public struct LockState: Sendable {
    public let holder: String?
    public let ttlMs: Int64?
    public let fence: Int64
}
