import CronSchedule
import MonitorCore

/// What the monitor recorded about one job, as read from `mon:runs:<job>` and `mon:changes`.
public struct JobHistory: Sendable {
    public var spec: JobSpec
    /// Runs started in the period. Include those started up to `spec.startWindow` (jitter and
    /// grace) after it too: an occurrence at the very end of the period is matched with its
    /// run, not called missed.
    public var runs: [RunRecord]
    /// State changes, oldest first. Earlier ones may be included; they only set the state in
    /// force when the period starts.
    public var changes: [StateChange]
    /// The state in force at the start of the period when no earlier change is given; nil
    /// takes the first change's `from`, or `up`.
    public var stateAtStart: JobState?
    /// When the monitor started watching the job: occurrences before it were never expected.
    public var watchedSince: Int64?

    public init(spec: JobSpec, runs: [RunRecord], changes: [StateChange], stateAtStart: JobState? = nil,
                watchedSince: Int64? = nil) {
        self.spec = spec
        self.runs = runs
        self.changes = changes
        self.stateAtStart = stateAtStart
        self.watchedSince = watchedSince
    }
}

/// A stretch of time the job spent in one state.
struct StateSpan: Equatable {
    var state: JobState
    /// When the job entered the state, possibly before the period; nil when unknown.
    var since: Int64?
    var start: Int64
    var end: Int64
}

extension JobHistory {
    /// The states over `[from, to)`, back to back and clipped to the period.
    func stateSpans(from: Int64, to: Int64) -> [StateSpan] {
        var state = stateAtStart ?? changes.first?.from ?? .up
        var since: Int64?
        var spans: [StateSpan] = []
        var cursor = from
        for change in changes.sorted(by: { $0.at < $1.at }) where change.at < to {
            if change.at > cursor {
                spans.append(StateSpan(state: state, since: since, start: cursor, end: change.at))
                cursor = change.at
            }
            state = change.to
            since = change.at
        }
        if cursor < to { spans.append(StateSpan(state: state, since: since, start: cursor, end: to)) }
        return spans
    }
}

extension [StateSpan] {
    /// Milliseconds spent in `states`.
    func time(in states: Set<JobState>) -> Int64 {
        reduce(0) { states.contains($1.state) ? $0 + $1.end - $1.start : $0 }
    }

    func overlaps(_ start: Int64, _ end: Int64, where matches: (JobState) -> Bool) -> Bool {
        contains { matches($0.state) && $0.start < end && start < $0.end }
    }
}

/// The states a job is down in; time spent in them is the report's downtime.
let downStates: Set<JobState> = [.missed, .failed, .overdue, .lost]
