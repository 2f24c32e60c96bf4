/// What the caller must do after an event; the state machine itself does no I/O.
public enum MonitorAction: Sendable, Equatable {
    /// Send the first alert of a new incident to the job's channels.
    case raiseAlert(Incident)
    /// `realert_every` elapsed with the incident still open.
    case repeatAlert(Incident)
    case resolveAlert(Incident)
    /// The job just became flapping (SPEC §6): say so once; its alerts are held from now on.
    case flappingNotice(Incident)
    /// Call `deadlinePassed(now:)` at this time; nil: nothing to wake up for.
    case scheduleDeadline(at: Int64?)
    case record(StateChange)
}
