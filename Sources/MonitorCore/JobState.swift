/// The states of SPEC §3.1, spelled as the API and `jobctl status` print them.
public enum JobState: String, Codable, Sendable, CaseIterable {
    case new, up, running, late, missed, failed, overdue, paused, lost
    /// SPEC §6 anomalies.
    case slow, fast
    /// SPEC §6 `resolve_after`: succeeding again, the alert still open.
    case recovering
}

/// One line of a job's history: the weekly report and `jobctl history` are built from these.
public struct StateChange: Codable, Sendable, Equatable {
    public var from: JobState
    public var to: JobState
    /// Epoch milliseconds.
    public var at: Int64
    public var reason: String

    public init(from: JobState, to: JobState, at: Int64, reason: String) {
        self.from = from
        self.to = to
        self.at = at
        self.reason = reason
    }
}
