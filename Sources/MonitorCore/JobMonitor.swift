import CronSchedule

/// One job as the monitor sees it (SPEC §3.1): a value that takes events and returns what
/// the caller must do. Time is always a parameter (epoch milliseconds).
///
/// Only `deadlinePassed(now:)` detects missed and overdue runs and repeats alerts; reports
/// never do, because their timestamps come from the hosts' clocks and may arrive long after
/// the fact (a backlog replayed after a monitor restart must not page). Apply pending reports
/// first, then deadlines.
///
/// Choices where the spec is silent:
/// - A successful run shorter than `min_runtime` counts as a failure ("too short").
/// - While paused nothing alerts; an open incident stays open, silently, and repeats resume
///   `realert_every` after the pause ends. Failures during a pause still count toward
///   `alert_after_failures`; occurrences scheduled during a pause are never missed; a run that
///   overran during the pause alerts when the pause ends. A success during a pause still
///   resolves, so the pager is not left ringing.
/// - A run for a later occurrence also covers earlier pending ones whose grace has not run out
///   by the monitor's clock (grace longer than the period, or a host clock running ahead);
///   one whose deadline has passed is missed, even when the monitor applies that start before
///   the deadline (a deadline it could not watch: down, or cut off from Redis).
public struct JobMonitor: Sendable, Equatable {
    public internal(set) var spec: JobSpec
    /// When the monitor first loaded the definition (nil in state saved by older versions):
    /// occurrences before it are never missed, in alerts or in reports.
    public internal(set) var firstSeen: Int64?
    /// The state last recorded; `state(at:)` is the state now.
    public internal(set) var recordedState: JobState
    /// The scheduled time (epoch ms) whose start is awaited; nil without a schedule.
    public internal(set) var expectedOccurrence: Int64?
    public internal(set) var runningRuns: [String: RunRecord]
    /// Keeps its output tail (cut to `OutputExcerpt.maxBytes`) only when it failed, the only
    /// case an alert quotes it: 100,000 jobs' state must stay small.
    @Boxed public internal(set) var lastRun: RunRecord? = nil
    public internal(set) var lastSkip: Skip?
    public internal(set) var consecutiveFailures: Int
    /// What is open against the job (see `State`).
    public internal(set) var condition: State = .clear
    public internal(set) var pause: Pause?
    /// When the caller must next call `deadlinePassed(now:)`; restore a deadline queue from it
    /// after a restart.
    public internal(set) var nextDeadline: Int64?
    var nextRealert: Int64?
    var overdueRunIDs: Set<String>
    /// Durations of the latest successful runs, newest last, at most `anomaly.baseline`;
    /// always empty without `anomaly:`.
    public internal(set) var recentDurations: [Int64] = [] {
        didSet { baselineMedian = Self.median(of: recentDurations) }
    }
    /// `recentDurations`' median (see `medianDuration`).
    var baselineMedian: Int64?
    /// Running runs already found slow.
    var slowRunIDs: Set<String> = []
    /// When the job's latest incidents closed, newest last, at most `flapCycles`.
    public internal(set) var resolvedTimes: [Int64] = []
    /// Set while the job is flapping (`JobMonitor+Flapping.swift`).
    @Boxed public internal(set) var flapping: Flapping? = nil
    /// The end of the maintenance window holding the open incident's page.
    public internal(set) var maintenanceUntil: Int64?
    /// Runs already finished, newest last, so a redelivered report is recognised.
    var finishedRunIDs: RecentRuns

    static let rememberedRuns = 64

    public struct Pause: Codable, Sendable, Equatable {
        public var since: Int64
        public var until: Int64?
    }

    /// A host found the lock held: it saw the job, but another host runs it.
    public struct Skip: Codable, Sendable, Equatable {
        public var host: String
        public var at: Int64
    }

    /// `firstSeen` is when the monitor first loaded the definition: only occurrences after it
    /// can be missed.
    public init(spec: JobSpec, firstSeen: Int64) {
        self.spec = spec
        self.firstSeen = firstSeen
        recordedState = .new
        expectedOccurrence = spec.occurrence(after: firstSeen)
        runningRuns = [:]
        consecutiveFailures = 0
        overdueRunIDs = []
        finishedRunIDs = RecentRuns()
        nextDeadline = earliestDeadline()
    }

    /// `leaseMs`: the run's `lock_ttl`, when it holds a lease; its expiry without a finish
    /// makes the run lost (see `leasesDue`). `now`: the monitor's clock when it applies the
    /// report (`at` is the host's).
    public mutating func runStarted(
        runID: String, host: String, at: Int64, scheduledFor: Int64? = nil, fence: Int64? = nil, leaseMs: Int64? = nil,
        now: Int64? = nil
    ) -> [MonitorAction] {
        guard runningRuns[runID] == nil, !finishedRunIDs.contains(runID) else { return [] }
        var actions: [MonitorAction] = []
        endPauseIfDue(at)
        let occurrence = scheduledFor ?? occurrenceInGrace(startingAt: at)
        if let occurrence, let expected = expectedOccurrence, occurrence >= expected {
            // The awaited occurrence's deadline passed by the monitor's own clock, and this start
            // is for a later one: it was missed, and its deadline went by while the monitor could
            // not look (down, or cut off from Redis) — the deadline would have paged it had it
            // come first. A host whose clock runs ahead names a later occurrence early, before
            // the awaited deadline: that is no miss.
            if let now, occurrence > expected, spec.startDeadline(of: expected) <= now, !isPaused(at: now) {
                _ = noteMissedOccurrence(now: now, into: &actions)
            }
            expectedOccurrence = spec.occurrence(after: occurrence)
        }
        runningRuns[runID] = RunRecord(runID: runID, host: host, scheduledFor: occurrence, startedAt: at, fence: fence,
                                       leaseMs: leaseMs.flatMap { $0 > 0 ? $0 : nil })
        settle(at: at, because: "run \(runID) started on \(host)", into: &actions)
        return actions
    }

    /// A finish without a known start (lost report, a `/ping/{job}/fail`) still counts.
    public mutating func runFinished(
        runID: String, at: Int64, exitCode: Int?, signal: Int?, outcome: RunOutcome, durationMs: Int64,
        host: String? = nil, outputTail: String? = nil, details: RunDetails = RunDetails()
    ) -> [MonitorAction] {
        guard !finishedRunIDs.contains(runID) else { return [] }
        var actions: [MonitorAction] = []
        endPauseIfDue(at)
        // Reports are anyone's to write: an absurd duration must neither overflow nor start the
        // run at a time no API answer can write (RFC 3339 has years 0000 to 9999).
        let (start, overflow) = at.subtractingReportingOverflow(durationMs)
        let earliest = rfc3339Instants.lowerBound, latest = rfc3339Instants.upperBound - 1
        let startedAt = overflow ? (durationMs > 0 ? earliest : latest) : min(max(start, earliest), latest)
        var run = runningRuns.removeValue(forKey: runID) ?? RunRecord(runID: runID, host: host ?? "unknown", startedAt: startedAt)
        overdueRunIDs.remove(runID)
        slowRunIDs.remove(runID)
        if run.lostAt != nil {
            // The host came back and its spool delivered the finish: the run was not lost after
            // all, and what it did is judged below like any other run.
            resolveLost(endedBy: run, at: at, into: &actions)
        }
        finishedRunIDs.insert(runID, limit: Self.rememberedRuns)
        run.finishedAt = at
        run.durationMs = durationMs
        run.exitCode = exitCode
        run.signal = signal
        run.outcome = outcome
        run.attempts = details.attemptExitCodes?.count
        run.attemptExitCodes = details.attemptExitCodes
        run.reason = details.reason
        let failure = failureReason(of: run).map { reason in
            (run.attempts ?? 1) > 1 ? "\(reason) (\(run.attempts ?? 1) attempts)" : reason
        }
        run.outputTail = failure == nil ? nil : outputTail.map { OutputExcerpt.tail($0) }
        lastRun = run
        if let failure {
            relapse()
            consecutiveFailures += 1
            if consecutiveFailures >= spec.alertAfterFailures, !isPaused(at: at) {
                let times = consecutiveFailures > 1 ? " (\(consecutiveFailures) failures in a row)" : ""
                raise(.failed, occurrence: run.scheduledFor, run: run, reason: failure + times, at: at, into: &actions)
            }
        } else if outcome != .replaced {
            consecutiveFailures = 0
            let anomaly = durationAnomaly(durationMs)
            let fast = anomaly == .fast ? fastReason(durationMs) : nil
            keepDuration(durationMs)
            resolve(recoveredBy: run, outOfRange: anomaly != nil, at: at, into: &actions)
            if let fast, !isPaused(at: at) { raise(.fast, occurrence: run.scheduledFor, run: run, reason: fast, at: at, into: &actions) }
        }
        settle(at: at, because: "run \(runID) on \(run.host): \(failure ?? "succeeded")", into: &actions)
        return actions
    }

    /// Running runs whose lease should have been renewed by `now` if their host were alive.
    /// The caller looks each one up (`<prefix>lock:<job>`, whose value ends in `:<run_id>`)
    /// and answers with `leaseChecked`, then calls `deadlinePassed`.
    public func leasesDue(now: Int64) -> [String] {
        runningRuns.values.filter { run in
            guard run.lostAt == nil, let until = run.leaseUntil else { return false }
            return until + Self.leaseGraceMs <= now
        }.map(\.runID).sorted()
    }

    /// Slack after a lease's expiry before looking: a renewal in flight, clocks a little apart.
    public static let leaseGraceMs: Int64 = 2_000

    /// What Redis says of a run's lease: held by that run until `heldUntil`, or (nil) gone or
    /// someone else's — then the run is lost: its host stopped renewing and never reported a
    /// finish. A late finish still ends it (`runFinished`).
    public mutating func leaseChecked(runID: String, heldUntil: Int64?, now: Int64) -> [MonitorAction] {
        guard var run = runningRuns[runID], run.lostAt == nil else { return [] }
        var actions: [MonitorAction] = []
        endPauseIfDue(now)
        if let heldUntil, heldUntil > now {
            run.leaseUntil = heldUntil
            runningRuns[runID] = run
            settle(at: now, because: "run \(runID) still holds its lease", into: &actions)
            return actions
        }
        run.lostAt = now
        runningRuns[runID] = run
        let renewed = run.leaseUntil.flatMap { until in run.leaseMs.map { until - $0 } }
        let reason = "run \(runID) on \(run.host) stopped renewing its lease"
            + (renewed.map { " (last renewed about \(timestamp($0, timeZone: spec.timezone)))" } ?? "")
            + " and sent no finish: its host or jobrun died"
        if !isPaused(at: now) {
            raise(.lost, occurrence: run.scheduledFor, run: run, reason: reason, at: now, into: &actions)
        }
        settle(at: now, because: reason, into: &actions)
        return actions
    }

    public mutating func skipped(host: String, at: Int64) -> [MonitorAction] {
        var actions: [MonitorAction] = []
        endPauseIfDue(at)
        lastSkip = Skip(host: host, at: at)
        settle(at: at, because: "\(host) skipped: lock held elsewhere", into: &actions)
        return actions
    }

    /// The host that ran the job last (a run still going counts); nil if it never ran.
    public var lastHost: String? {
        var latest = lastRun
        for run in runningRuns.values where latest.map({ run.startedAt > $0.startedAt }) ?? true { latest = run }
        return latest?.host
    }

    /// When its host was last heard of through this job (its clock): the latest start, finish
    /// or skip.
    public var lastReport: (host: String, at: Int64)? {
        var reports = runningRuns.values.map { ($0.host, $0.startedAt) }
        if let run = lastRun { reports.append((run.host, run.finishedAt ?? run.startedAt)) }
        if let skip = lastSkip { reports.append((skip.host, skip.at)) }
        return reports.max { $0.1 < $1.1 }
    }

    /// The open incident is explained by something paged once for many jobs (`reason`, e.g.
    /// `monitor_down`): it stays open and visible, but neither it nor its resolve is paged.
    public mutating func inhibitIncident(by reason: String) {
        condition = condition.updating { $0.inhibitedBy = reason }
    }

    public mutating func deadlinePassed(now: Int64) -> [MonitorAction] {
        var actions: [MonitorAction] = []
        endPauseIfDue(now)
        var reasons: [String] = []
        if !isPaused(at: now) {
            if let released = releaseMaintenanceIfDue(now: now, into: &actions) { reasons.append(released) }
            if let missed = noteMissedOccurrence(now: now, into: &actions) { reasons.append(missed) }
            reasons += noteOverdueRuns(now: now, into: &actions)
            reasons += noteSlowRuns(now: now, into: &actions)
            repeatAlertIfDue(now: now, into: &actions)
        }
        settle(at: now, because: reasons.isEmpty ? "deadline passed" : reasons.joined(separator: "; "), into: &actions)
        return actions
    }

    /// `until` nil pauses until `resumed`; an `until` already past changes nothing.
    public mutating func paused(until: Int64?, now: Int64) -> [MonitorAction] {
        var actions: [MonitorAction] = []
        endPauseIfDue(now)
        if let until, until <= now { return actions }
        pause = Pause(since: pause?.since ?? now, until: until)
        let reason = until.map { "paused until \(timestamp($0, timeZone: spec.timezone))" } ?? "paused"
        settle(at: now, because: reason, into: &actions)
        return actions
    }

    public mutating func resumed(now: Int64) -> [MonitorAction] {
        guard pause != nil else { return [] }
        var actions: [MonitorAction] = []
        endPauseIfDue(now)
        if pause != nil { endPause(at: now) }
        settle(at: now, because: "resumed", into: &actions)
        return actions
    }

    /// A reloaded definition. A new schedule is watched from `now`, as if first seen; an
    /// identical definition (a SIGHUP with no edits) changes nothing.
    public mutating func definitionChanged(_ newSpec: JobSpec, now: Int64) -> [MonitorAction] {
        var actions: [MonitorAction] = []
        endPauseIfDue(now)
        let old = spec
        spec = newSpec
        if old.anomaly != newSpec.anomaly { trimDurations(to: newSpec.anomaly) }
        if old.schedule != newSpec.schedule { expectedOccurrence = newSpec.occurrence(after: now) }
        if old.realertEvery != newSpec.realertEvery, incident != nil {
            nextRealert = newSpec.realertEvery.map { now + $0 }
        }
        if let open = incident, open.kind == .configError { close(open, endedBy: nil, at: now, into: &actions) }
        settle(at: now, because: "definition changed", into: &actions)
        return actions
    }

    /// The job's definition is gone (its file was deleted from jobs.d): nothing is expected of
    /// it any more, so a missed or config-error incident is resolved and no occurrence is
    /// awaited — a retired job must not page. Runs that still arrive are recorded, and their
    /// failures still alert. `unscheduled` is the spec of a job known only from its reports.
    public mutating func definitionRemoved(unscheduled: JobSpec, now: Int64) -> [MonitorAction] {
        var actions: [MonitorAction] = []
        endPauseIfDue(now)
        spec = unscheduled
        expectedOccurrence = nil
        if let open = incident, open.kind == .missed || open.kind == .configError { close(open, endedBy: nil, at: now, into: &actions) }
        settle(at: now, because: "definition removed", into: &actions)
        return actions
    }

    /// The job file no longer loads; the monitor keeps watching the last good definition.
    public mutating func definitionRejected(reason: String, now: Int64) -> [MonitorAction] {
        var actions: [MonitorAction] = []
        endPauseIfDue(now)
        if !isPaused(at: now) {
            raise(.configError, occurrence: nil, run: lastRun, reason: reason, at: now, into: &actions)
        }
        settle(at: now, because: "definition rejected: \(reason)", into: &actions)
        return actions
    }
}
