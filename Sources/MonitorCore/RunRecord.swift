/// How a run ended, as `jobrun` reports it (SPEC §3.2).
public enum RunOutcome: String, Codable, Sendable, CaseIterable {
    case success, failure, timeout
    case lockLost = "lock_lost"
    case killed
    /// Stopped because a new occurrence took its lease over (`concurrency: replace`): not a
    /// failure of the job, since the replacing run is the one that counts.
    case replaced
}

/// What `jobrun` adds to a finish beyond the exit code (SPEC §6): its attempts with
/// `retries`, and why `output_rules` failed a run that exited 0.
public struct RunDetails: Sendable, Equatable {
    public var attemptExitCodes: [Int]?
    public var reason: String?

    public init(attemptExitCodes: [Int]? = nil, reason: String? = nil) {
        self.attemptExitCodes = attemptExitCodes
        self.reason = reason
    }
}

/// One run of a job. Times are epoch milliseconds; a run still in progress has no
/// `finishedAt`, `durationMs` or `outcome`.
public struct RunRecord: Codable, Sendable, Equatable {
    public var runID: String
    public var host: String
    public var scheduledFor: Int64?
    public var startedAt: Int64
    public var finishedAt: Int64?
    public var durationMs: Int64?
    public var exitCode: Int?
    public var signal: Int?
    public var outcome: RunOutcome?
    public var fence: Int64?
    public var outputTail: String?
    /// The run's lease length (`lock_ttl`) as its start reported it; nil for a run without a
    /// lease (`lock: none`, pings), which can never be found lost.
    public var leaseMs: Int64?
    /// Until when its lease was last seen held: the monitor looks again after that.
    public var leaseUntil: Int64?
    /// When the monitor found the lease expired with no finish report: the host or its
    /// `jobrun` died mid-run.
    public var lostAt: Int64?
    /// 1 + the retries used, for a job with `retries`; nil otherwise.
    public var attempts: Int?
    /// Each attempt's exit code, in order (`[1, 1, 0]`); nil without `retries`.
    public var attemptExitCodes: [Int]?
    /// Why `output_rules` failed a run that exited 0, e.g.
    /// `fail_if "^ERROR" matched line 1042: ERROR: disk full`.
    public var reason: String?

    public init(
        runID: String, host: String, scheduledFor: Int64? = nil, startedAt: Int64, finishedAt: Int64? = nil,
        durationMs: Int64? = nil, exitCode: Int? = nil, signal: Int? = nil, outcome: RunOutcome? = nil,
        fence: Int64? = nil, outputTail: String? = nil, leaseMs: Int64? = nil
    ) {
        self.runID = runID
        self.host = host
        self.scheduledFor = scheduledFor
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.durationMs = durationMs
        self.exitCode = exitCode
        self.signal = signal
        self.outcome = outcome
        self.fence = fence
        self.outputTail = outputTail
        self.leaseMs = leaseMs
        leaseUntil = leaseMs.map { startedAt + $0 }
    }

    private enum CodingKeys: String, CodingKey {
        case runID = "run_id", host, scheduledFor = "scheduled_for", startedAt = "started_at"
        case finishedAt = "finished_at", durationMs = "duration_ms", exitCode = "exit_code", signal
        case outcome, fence, outputTail = "output_tail"
        case leaseMs = "lease_ms", leaseUntil = "lease_until", lostAt = "lost_at"
        case attempts, attemptExitCodes = "attempt_exit_codes", reason
    }
}
