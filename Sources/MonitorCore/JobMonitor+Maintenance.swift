/// SPEC §6 maintenance windows: a miss, failure, overdue, lost or anomaly inside one opens its
/// incident as usual (state, history, report) but pages nothing; if it is still open when the
/// window ends, it is paged then, by a deadline at the end. A resolve inside the window sends
/// nothing either. Windows come from the job's `maintenance:` and from `monitor.maintenance`.
extension JobSpec {
    /// The end of the maintenance window covering `t` (the latest, where several do); nil
    /// outside every window.
    public func maintenanceEnd(covering t: Int64) -> Int64? {
        var end: Int64?
        for window in maintenance {
            guard let start = window.schedule.previous(atOrBefore: t.floorDividedBySecond) else { continue }
            let until = start * 1000 + window.duration
            if until > t { end = max(end ?? until, until) }
        }
        return end
    }
}

extension JobMonitor {
    /// `Incident.inhibitedBy` of an incident opened inside a window: not paged (yet).
    public static let inMaintenance = "maintenance"

    /// Called by `raise`: opens `opened` held until the window covering `now` ends, or returns
    /// false outside every window (and for config errors, which no window covers).
    mutating func holdForMaintenance(_ opened: Incident, at now: Int64) -> Bool {
        guard opened.kind != .configError, let end = spec.maintenanceEnd(covering: now) else { return false }
        var held = opened
        held.inhibitedBy = Self.inMaintenance
        condition = .alerting(held)
        maintenanceUntil = end
        nextRealert = nil
        return true
    }

    /// At a window's end: an incident opened inside it and still open is paged now (a window
    /// that starts as this one ends extends the hold).
    mutating func releaseMaintenanceIfDue(now: Int64, into actions: inout [MonitorAction]) -> String? {
        guard let until = maintenanceUntil, until <= now else { return nil }
        if let next = spec.maintenanceEnd(covering: now) {
            maintenanceUntil = next
            return nil
        }
        maintenanceUntil = nil
        guard let held = incident, held.inhibitedBy == Self.inMaintenance else { return nil }
        condition = condition.updating { $0.inhibitedBy = nil }
        nextRealert = spec.realertEvery.map { now + $0 }
        if let open = incident { actions.append(.raiseAlert(open)) }
        return "maintenance window ended with \(held.kind.rawValue) unresolved"
    }
}
