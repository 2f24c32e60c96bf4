/// Why a job is alerting. One incident per job at a time: every channel deduplicates per job
/// (`jobwatch/<job>`), so a second problem while one is open joins it rather than paging again.
public enum IncidentKind: String, Codable, Sendable, CaseIterable {
    case missed, failed, overdue, lost
    case configError = "config_error"
    /// SPEC §6 anomalies: still running after `slower` × the median, or done under `faster` × it.
    case slow, fast

    /// A config error says nothing about whether the job runs, so it leaves the state alone.
    var jobState: JobState? {
        switch self {
        case .missed: return .missed
        case .failed: return .failed
        case .overdue: return .overdue
        case .lost: return .lost
        case .slow: return .slow
        case .fast: return .fast
        case .configError: return nil
        }
    }
}

extension IncidentKind {
    /// PagerDuty's `severity`: a job that did not run or hangs pages hardest; an anomaly is a
    /// run that did its work, only at an unusual speed.
    public var severity: String {
        switch self {
        case .missed, .overdue, .lost: return "critical"
        case .failed, .configError: return "error"
        case .slow, .fast: return "warning"
        }
    }
}

public struct Incident: Codable, Sendable, Equatable {
    public var job: String
    public var kind: IncidentKind
    /// When it was raised, epoch milliseconds.
    public var since: Int64
    /// The scheduled time it concerns (the missed occurrence, the failing run's), if any.
    public var occurrence: Int64?
    /// The run that caused it, or on resolve the run that ended it.
    public var lastRun: RunRecord?
    /// Operator wording of the cause, e.g. "exit code 1" or "no start by 02:40:00".
    public var reason: String
    /// The state the job was in before it was raised, for webhooks.
    public var previousState: JobState
    /// How many times it has been re-sent by `realert_every`.
    public var repeats: Int
    public var resolvedAt: Int64?
    /// Why it is not paged (`monitor_down`: it happened while no jobmond ran; `host_silent`: its
    /// host went silent; one alert said so for every job); nil for an incident paged as usual. Its resolve and repeats are not
    /// paged either; a new problem of the job pages it after all.
    public var inhibitedBy: String?

    public init(
        job: String, kind: IncidentKind, since: Int64, occurrence: Int64? = nil, lastRun: RunRecord? = nil,
        reason: String, previousState: JobState, repeats: Int = 0, resolvedAt: Int64? = nil
    ) {
        self.job = job
        self.kind = kind
        self.since = since
        self.occurrence = occurrence
        self.lastRun = lastRun
        self.reason = reason
        self.previousState = previousState
        self.repeats = repeats
        self.resolvedAt = resolvedAt
    }

    private enum CodingKeys: String, CodingKey {
        case job, kind, since, occurrence, lastRun = "last_run", reason, previousState = "previous_state"
        case repeats, resolvedAt = "resolved_at", inhibitedBy = "inhibited_by"
    }
}
