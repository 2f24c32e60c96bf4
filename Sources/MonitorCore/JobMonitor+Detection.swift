/// The time-driven half of `JobMonitor`: what is wrong at a given instant, and when to look
/// again.
extension JobMonitor {
    /// The occurrence awaited at `now`, seeing through a pause that has ended but whose end
    /// no event has processed yet.
    func awaitedOccurrence(at now: Int64) -> Int64? {
        guard let until = pause?.until, until <= now else { return expectedOccurrence }
        return occurrenceAfterPause(endingAt: until)
    }

    func occurrenceAfterPause(endingAt t: Int64) -> Int64? {
        if let expected = expectedOccurrence, expected > t { return expected }
        return spec.occurrence(after: t)
    }

    public func isPaused(at now: Int64) -> Bool {
        guard let pause else { return false }
        return pause.until.map { now < $0 } ?? true
    }

    func earliestDeadline() -> Int64? {
        if let pause { return pause.until }
        var candidates: [Int64] = []
        if let expected = expectedOccurrence { candidates.append(spec.startDeadline(of: expected)) }
        let slowAfter = self.slowAfter
        for run in runningRuns.values where run.lostAt == nil {
            if let slowAfter, !slowRunIDs.contains(run.runID) { candidates.append(run.startedAt + slowAfter) }
            if let maxRuntime = spec.maxRuntime, !overdueRunIDs.contains(run.runID) {
                candidates.append(run.startedAt + maxRuntime)
            }
            if let until = run.leaseUntil { candidates.append(until + Self.leaseGraceMs) }
        }
        if incident != nil, let realert = nextRealert { candidates.append(realert) }
        candidates += flappingDeadlines
        if let maintenanceUntil { candidates.append(maintenanceUntil) }
        return candidates.min()
    }

    /// Records a state change and announces a new deadline, each only when it differs, so a
    /// repeated event yields no actions at all.
    mutating func settle(at now: Int64, because reason: String, into actions: inout [MonitorAction]) {
        if !resolvedTimes.isEmpty { governFlapping(now: now, into: &actions) }
        let current = state(at: now)
        if current != recordedState {
            actions.append(.record(StateChange(from: recordedState, to: current, at: now, reason: reason)))
            recordedState = current
        }
        let deadline = earliestDeadline()
        if deadline != nextDeadline {
            nextDeadline = deadline
            actions.append(.scheduleDeadline(at: deadline))
        }
    }

    /// After downtime many occurrences may have passed: they make one incident, for the oldest,
    /// and watching resumes at the first occurrence whose grace has not yet run out.
    mutating func noteMissedOccurrence(now: Int64, into actions: inout [MonitorAction]) -> String? {
        guard let expected = expectedOccurrence, spec.startDeadline(of: expected) <= now else { return nil }
        expectedOccurrence = spec.firstOccurrence(withDeadlineAfter: now)
        let reason = "no start by \(timestamp(spec.startDeadline(of: expected), timeZone: spec.timezone))"
        raise(.missed, occurrence: expected, run: lastRun, reason: reason, at: now, into: &actions)
        return reason
    }

    mutating func noteOverdueRuns(now: Int64, into actions: inout [MonitorAction]) -> [String] {
        guard let maxRuntime = spec.maxRuntime else { return [] }
        let overdue = runningRuns.values
            .filter { $0.lostAt == nil && !overdueRunIDs.contains($0.runID) && $0.startedAt + maxRuntime <= now }
            .sorted { ($0.startedAt, $0.runID) < ($1.startedAt, $1.runID) }
        return overdue.map { run in
            overdueRunIDs.insert(run.runID)
            let reason = "run \(run.runID) on \(run.host) still running after max_runtime \(span(maxRuntime))"
            raise(.overdue, occurrence: run.scheduledFor, run: run, reason: reason, at: now, into: &actions)
            return reason
        }
    }

    /// Repeats keep their cadence from the raise; after downtime only one catch-up is sent.
    mutating func repeatAlertIfDue(now: Int64, into actions: inout [MonitorAction]) {
        guard incident != nil, let due = nextRealert, due <= now, let every = spec.realertEvery else { return }
        condition = condition.updating { $0.repeats += 1 }
        nextRealert = due + every * ((now - due) / every + 1)
        if let open = incident { actions.append(.repeatAlert(open)) }
    }

    mutating func raise(
        _ kind: IncidentKind, occurrence: Int64?, run: RunRecord?, reason: String, at now: Int64,
        into actions: inout [MonitorAction]
    ) {
        switch condition {
        case .clear:
            let opened = Incident(
                job: spec.name, kind: kind, since: now, occurrence: occurrence, lastRun: run, reason: reason,
                previousState: state(at: now))
            if holdForMaintenance(opened, at: now) { return }
            condition = .alerting(opened)
            nextRealert = spec.realertEvery.map { now + $0 }
            actions.append(.raiseAlert(opened))
        case .alerting(var open), .recovering(var open, _):
            // One problem per incident, already paged: a recovery starts over, silently. But an
            // inhibited one was never paged, and this problem is not the one that explained it:
            // page it now.
            guard open.inhibitedBy != nil else {
                condition = .alerting(open)
                return
            }
            if open.inhibitedBy == Self.inMaintenance, spec.maintenanceEnd(covering: now) != nil {
                condition = .alerting(open)   // still inside the window: still held
                return
            }
            open.inhibitedBy = nil
            maintenanceUntil = nil
            (open.kind, open.since, open.occurrence, open.lastRun, open.reason) = (kind, now, occurrence, run, reason)
            if holdForMaintenance(open, at: now) { return }
            condition = .alerting(open)
            nextRealert = spec.realertEvery.map { now + $0 }
            actions.append(.raiseAlert(open))
        }
    }

    /// A config error is ended by a good definition, not a run; an overdue incident stays
    /// open while another overdue run is still going; a slow or fast one, until a run's
    /// duration is back inside the range (`outOfRange` false).
    mutating func resolve(recoveredBy run: RunRecord, outOfRange: Bool, at now: Int64, into actions: inout [MonitorAction]) {
        guard let open = incident, open.kind != .configError else { return }
        if open.kind == .slow || open.kind == .fast, outOfRange { return }
        if open.kind == .overdue, runningRuns.keys.contains(where: overdueRunIDs.contains) { return }
        switch condition {
        case .clear: return
        case .alerting where spec.resolveAfter > 1:
            condition = .recovering(open, successes: 1)
        case .recovering(_, let successes) where successes + 1 < spec.resolveAfter:
            condition = .recovering(open, successes: successes + 1)
        case .alerting, .recovering:
            close(open, endedBy: run, at: now, into: &actions)
        }
    }

    /// A failed run while recovering: the incident is still open and was paged, so it goes
    /// back to alerting without a new page, and the count of successes starts over.
    mutating func relapse() {
        if case .recovering(let open, _) = condition { condition = .alerting(open) }
    }

    /// A lost run reported its finish after all: the lost incident ends once no other run of
    /// the job is still lost.
    mutating func resolveLost(endedBy run: RunRecord, at now: Int64, into actions: inout [MonitorAction]) {
        guard let open = incident, open.kind == .lost, !runningRuns.values.contains(where: { $0.lostAt != nil }) else { return }
        close(open, endedBy: run, at: now, into: &actions)
    }

    /// The one way an incident ends: stamped (with the run that ended it, if one did), and
    /// announced.
    mutating func close(_ open: Incident, endedBy run: RunRecord?, at now: Int64, into actions: inout [MonitorAction]) {
        var closed = open
        closed.resolvedAt = now
        if let run { closed.lastRun = run }
        condition = .clear
        nextRealert = nil
        maintenanceUntil = nil
        // Never paged: nothing to resolve, and no open-and-resolve to count towards flapping.
        if open.inhibitedBy == Self.inMaintenance { return }
        if open.inhibitedBy == nil { noteResolved(at: now) }
        actions.append(.resolveAlert(closed))
    }

    mutating func endPauseIfDue(_ now: Int64) {
        guard let until = pause?.until, until <= now else { return }
        endPause(at: until)
    }

    /// Occurrences scheduled while paused are excused; watching restarts at the resume.
    mutating func endPause(at t: Int64) {
        pause = nil
        expectedOccurrence = occurrenceAfterPause(endingAt: t)
        if incident != nil { nextRealert = spec.realertEvery.map { t + $0 } }
    }

    /// A report without `scheduled_for` (a host without the job file, a ping) belongs to the
    /// latest occurrence if it started within that occurrence's grace.
    func occurrenceInGrace(startingAt t: Int64) -> Int64? {
        spec.schedule?.occurrence(startingAtMs: t, graceMs: spec.grace, jitter: spec.jitter)
    }

    /// Why the monitor counts this finished run as a failure, or nil for a success.
    public func failureReason(of run: RunRecord) -> String? {
        switch run.outcome {
        case .success?, nil:
            if let minimum = spec.minRuntime, let duration = run.durationMs, duration < minimum {
                return "too short: finished in \(span(duration)), under min_runtime \(span(minimum))"
            }
            return nil
        case .replaced?: return nil   // the replacing run is the one judged
        case .failure?:
            if let reason = run.reason { return reason }
            if let signal = run.signal { return "killed by signal \(signal)" }
            return "exit code \(run.exitCode.map(String.init) ?? "unknown")"
        case .timeout?: return "killed after exceeding its max_runtime"
        case .lockLost?: return "stopped after losing its lease"
        case .killed?: return "killed" + (run.signal.map { " by signal \($0)" } ?? "")
        }
    }
}
