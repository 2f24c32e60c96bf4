extension JobMonitor {
    /// What the monitor holds against a job: every event that opens, recovers or ends an
    /// incident moves between these cases, and `state(at:)` reads them in one switch.
    ///
    /// Two things sit beside it on purpose. A pause (`pause`) covers whatever is underneath:
    /// an incident stays open, silently, and is there again when the pause ends. And with
    /// nothing open, `new`, `up`, `running` and `late` are read from the runs and the clock
    /// (`activity(at:)`): `late` is never scheduled, so it cannot be a stored transition.
    ///
    /// The incident cases are `indirect`: 100,000 jobs keep one pointer each, not an inline
    /// incident (see `Boxed`).
    public enum State: Sendable, Equatable {
        /// Nothing open.
        case clear
        /// An incident is open: paged, or inhibited by something paged once for many jobs.
        indirect case alerting(Incident)
        /// The open incident has had `successes` consecutive successful runs, fewer than
        /// `resolve_after`: still open, shown as `recovering`.
        indirect case recovering(Incident, successes: Int)

        public var incident: Incident? {
            switch self {
            case .clear: return nil
            case .alerting(let open), .recovering(let open, _): return open
            }
        }

        /// The same case with its incident changed: a repeat counted, an inhibition noted.
        func updating(_ change: (inout Incident) -> Void) -> State {
            switch self {
            case .clear: return self
            case .alerting(var open):
                change(&open)
                return .alerting(open)
            case .recovering(var open, let successes):
                change(&open)
                return .recovering(open, successes: successes)
            }
        }
    }

    /// The open incident, in whichever case holds it.
    public var incident: Incident? { condition.incident }

    /// The state shown for `now` (SPEC §3.1).
    public func state(at now: Int64) -> JobState {
        if isPaused(at: now) { return .paused }
        switch condition {
        case .clear: return activity(at: now)
        case .alerting(let open): return open.kind.jobState ?? activity(at: now)
        case .recovering: return .recovering
        }
    }

    /// With nothing open: whether it ran, runs, or is awaited past its scheduled time.
    func activity(at now: Int64) -> JobState {
        // Late is shown, never scheduled: a wake-up at every scheduled time would double the
        // timer load for a state that never alerts.
        if let expected = awaitedOccurrence(at: now), now >= spec.expectedStart(of: expected) { return .late }
        // A lost run stays listed (its late finish is still recognised) but runs nowhere.
        if runningRuns.values.contains(where: { $0.lostAt == nil }) { return .running }
        return lastRun == nil ? .new : .up
    }
}
