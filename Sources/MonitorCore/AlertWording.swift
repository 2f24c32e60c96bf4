/// Which message an incident needs: its first alert, a reminder, or the all-clear.
public enum AlertEvent: String, Codable, Sendable {
    case trigger
    case `repeat`
    case resolve
    /// The one notice that a job is flapping.
    case flapping
}

extension MonitorAction {
    /// The alert this action asks the caller to deliver, if it is one.
    public var alert: (event: AlertEvent, incident: Incident)? {
        switch self {
        case .raiseAlert(let incident): return (.trigger, incident)
        case .repeatAlert(let incident): return (.repeat, incident)
        case .resolveAlert(let incident): return (.resolve, incident)
        case .flappingNotice(let incident): return (.flapping, incident)
        case .scheduleDeadline, .record: return nil
        }
    }
}

/// Where alerts point and who sends them.
public struct AlertContext: Sendable, Equatable {
    /// `monitor.public_url`; nil leaves links out.
    public var statusPageURL: String?
    /// PagerDuty `source` when no host is involved (a missed run happens nowhere).
    public var monitorHost: String

    public init(statusPageURL: String?, monitorHost: String) {
        self.statusPageURL = statusPageURL
        self.monitorHost = monitorHost
    }

    /// The job's row on the status page (`GET /`), which anchors each job as `job-<name>`.
    public func link(to job: String) -> String? {
        guard var base = statusPageURL else { return nil }
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/#job-" + job
    }
}

/// The one-line wording every channel shares, so PagerDuty, Slack and webhooks agree.
enum AlertWording {
    static func headline(_ event: AlertEvent, _ incident: Incident, _ spec: JobSpec) -> String {
        switch event {
        case .resolve: return recovery(incident, spec)
        case .flapping: return flapping(incident, spec)
        case .trigger, .repeat: return summary(incident, spec)
        }
    }

    static func flapping(_ incident: Incident, _ spec: JobSpec) -> String {
        let every = span(spec.realertEvery ?? JobMonitor.flapAlertEveryWithoutRepeats)
        return "\(incident.job) is flapping: its alert opened and resolved \(JobMonitor.flapCycles) times in 24h; "
            + "until it settles, its alerts go out at most once per \(every)"
    }

    static func summary(_ incident: Incident, _ spec: JobSpec) -> String {
        let job = incident.job
        let host = incident.lastRun?.host ?? "an unknown host"
        switch incident.kind {
        case .missed:
            let when = incident.occurrence.map { timeOfDay($0, timeZone: spec.timezone) + " " + spec.timezone + " " } ?? ""
            // A jittered occurrence is due later than its scheduled time: say when.
            let due = spec.jitter == nil ? nil : incident.occurrence.map { "due \(timeOfDay(spec.expectedStart(of: $0), timeZone: spec.timezone)) by its jitter, " }
            return "\(job) missed its \(when)run (\(due ?? "")grace \(span(spec.grace)))"
        case .failed:
            return "\(job) failed on \(host): \(incident.reason)"
        case .overdue:
            let limit = spec.maxRuntime.map { " longer than its max_runtime \(span($0))" } ?? " too long"
            let started = incident.lastRun.map { " (started \(timeOfDay($0.startedAt, timeZone: spec.timezone)) \(spec.timezone))" } ?? ""
            return "\(job) has been running on \(host)\(limit)\(started)"
        case .lost:
            let started = incident.lastRun.map { " (started \(timeOfDay($0.startedAt, timeZone: spec.timezone)) \(spec.timezone))" } ?? ""
            return "\(job) lost its run on \(host)\(started): the lease expired with no finish report"
        case .configError:
            return "\(job) has an invalid definition: \(incident.reason)"
        case .slow:
            return "\(job) has been \(incident.reason)"
        case .fast:
            return "\(job) \(incident.reason)"
        }
    }

    static func recovery(_ incident: Incident, _ spec: JobSpec) -> String {
        if incident.kind == .configError { return "\(incident.job) has a valid definition again" }
        let down = incident.resolvedAt.map { " after \(span($0 - incident.since))" } ?? ""
        let host = incident.lastRun.map { ": a run on \($0.host) succeeded" } ?? ""
        return "\(incident.job) recovered\(down)\(host)"
    }

    /// `state` and `previous_state` as webhooks report them; a config error is its own state.
    static func states(_ event: AlertEvent, _ incident: Incident) -> (state: String, previous: String) {
        let problem = incident.kind.jobState?.rawValue ?? incident.kind.rawValue
        switch event {
        case .trigger: return (problem, incident.previousState.rawValue)
        case .repeat: return (problem, problem)
        case .resolve, .flapping: return (JobState.up.rawValue, problem)
        }
    }

    /// "2026-03-29T02:30:00+01:00 on web1, exit code 1 after 12s" — or "never".
    static func lastRun(_ run: RunRecord?, _ spec: JobSpec) -> String {
        guard let run else { return "never" }
        var text = "\(timestamp(run.startedAt, timeZone: spec.timezone)) on \(run.host)"
        if let result = result(of: run) { text += ", \(result)" }
        if let duration = run.durationMs { text += " after \(span(duration))" }
        return text
    }

    static func result(of run: RunRecord) -> String? {
        guard let outcome = run.outcome else { return "still running" }
        if let signal = run.signal { return "\(outcome.rawValue), signal \(signal)" }
        return run.exitCode.map { "\(outcome.rawValue), exit code \($0)" } ?? outcome.rawValue
    }
}
