/// SPEC §6 flapping: a job whose alert opened and resolved more than five times in 24 hours
/// is flagged `flapping`. The alert that makes it so is followed by one notice; from then on its
/// alerts are held to one per `realert_every` (4 h when repeats are off): each held alert
/// replaces the one held before, so what goes out at the next slot is the latest word — a
/// trigger if the job is down again, a resolve if it is up. When fewer than six of its alerts
/// resolved in the last 24 hours it is no longer flapping, and what is held goes out then.
extension JobMonitor {
    public struct Flapping: Codable, Sendable, Equatable {
        public var since: Int64
        /// When a held alert may next go out.
        public var nextAlert: Int64
        /// The latest alert held back.
        public var held: HeldAlert?
    }

    public struct HeldAlert: Codable, Sendable, Equatable {
        public var event: AlertEvent
        public var incident: Incident

        var action: MonitorAction {
            switch event {
            case .trigger: return .raiseAlert(incident)
            case .repeat: return .repeatAlert(incident)
            case .resolve: return .resolveAlert(incident)
            case .flapping: return .flappingNotice(incident)
            }
        }
    }

    /// Opened and resolved this many times within `flapWindow`: flapping.
    public static let flapCycles = 6
    public static let flapWindow: Int64 = 24 * 3_600_000
    static let flapAlertEveryWithoutRepeats: Int64 = 4 * 3_600_000

    var flapAlertEvery: Int64 { spec.realertEvery ?? Self.flapAlertEveryWithoutRepeats }

    /// When the oldest of the last six resolves leaves the 24-hour window.
    var flappingEndsAt: Int64? {
        resolvedTimes.count == Self.flapCycles ? resolvedTimes[0] + Self.flapWindow : nil
    }

    public func isFlapping(at now: Int64) -> Bool {
        flapping != nil && flappingEndsAt.map { now < $0 } ?? false
    }

    /// Remembers when an incident closed, only the last six.
    mutating func noteResolved(at now: Int64) {
        resolvedTimes.append(now)
        if resolvedTimes.count > Self.flapCycles { resolvedTimes.removeFirst(resolvedTimes.count - Self.flapCycles) }
    }

    /// Holds back this event's alerts while flapping, and lets the held one out when its slot
    /// comes or the flapping ends. Runs last in every event (`settle`).
    mutating func governFlapping(now: Int64, into actions: inout [MonitorAction]) {
        let inWindow = flappingEndsAt.map { now < $0 } ?? false
        guard var current = flapping else {
            guard inWindow, let resolved = actions.last(where: { if case .resolveAlert = $0 { true } else { false } }),
                  case .resolveAlert(let closed) = resolved else { return }
            // The sixth resolve in 24 hours: it goes out, then the notice. The notice leaves
            // PagerDuty's incident open, so the resolve is held for the next slot.
            actions.append(.flappingNotice(closed))
            flapping = Flapping(since: now, nextAlert: now + flapAlertEvery, held: HeldAlert(event: .resolve, incident: closed))
            return
        }
        let alerts = actions.filter { $0.alert != nil }
        guard inWindow else {
            flapping = nil
            if alerts.isEmpty, let held = current.held { actions.append(held.action) }
            return
        }
        if now >= current.nextAlert {
            if alerts.isEmpty, let held = current.held { actions.append(held.action) }
            if !alerts.isEmpty || current.held != nil {
                current.nextAlert = now + flapAlertEvery
                current.held = nil
            }
        } else if let last = alerts.last?.alert {
            current.held = HeldAlert(event: last.event, incident: last.incident)
            actions.removeAll { $0.alert != nil }
        }
        flapping = current
    }

    /// Deadlines the flapping needs: the held alert's slot, and the end of the flapping.
    var flappingDeadlines: [Int64] {
        guard let flapping else { return [] }
        return (flapping.held != nil ? [flapping.nextAlert] : []) + (flappingEndsAt.map { [$0] } ?? [])
    }
}
