import Synchronization

/// A job's schedule in its time zone: when it should fire, per SPEC §5.
///
/// Two readings of a cron expression coexist, as in Debian cron and cronsim:
/// - a *fixed-time* job (neither minute nor hour field begins with `*`) is matched against
///   the wall clock and then placed on the timeline: a wall time skipped by a
///   spring-forward runs at the end of the gap, a repeated one runs at its first instant;
/// - any other job fires at every instant whose wall-clock reading matches, so an hourly
///   job runs in both copies of a repeated hour and not at all in a skipped one.
/// `every DURATION` ignores the zone: multiples of the period since the Unix epoch.
public struct Schedule: Sendable, Hashable {
    public let expression: String
    public let timeZoneID: String
    let rule: ScheduleRule
    let zone: ZoneRules

    public init(_ expression: String, timeZone: String) throws {
        rule = try RuleCache.shared.rule(for: expression)
        guard let zone = ZoneRules.named(timeZone) else { throw ScheduleError.unknownTimeZone(timeZone) }
        self.expression = expression
        self.timeZoneID = timeZone
        self.zone = zone
    }

    /// The expanded cron fields; nil for `every`.
    public var fields: CronFields? {
        if case .cron(let fields, _) = rule { return fields }
        return nil
    }

    public var isFixedTime: Bool {
        if case .cron(_, let isFixedTime) = rule { return isFixedTime }
        return false
    }

    /// Seconds between occurrences of an `every` schedule; nil for cron expressions.
    public var period: Int64? {
        if case .every(let seconds) = rule { return seconds }
        return nil
    }

    /// The first occurrence strictly after `t` (epoch seconds).
    public func next(after t: Int64) -> Int64? {
        switch rule {
        case .every(let period):
            return Civil.floorDiv(t, period) * period + period
        case .cron(let fields, true):
            return nextFixedTime(fields, after: t)
        case .cron(let fields, false):
            return nextWallClock(fields, after: t)
        }
    }

    /// The latest occurrence at or before `t`: the one a run starting at `t` belongs to.
    public func previous(atOrBefore t: Int64) -> Int64? {
        switch rule {
        case .every(let period):
            return Civil.floorDiv(t, period) * period
        case .cron(let fields, true):
            return previousFixedTime(fields, atOrBefore: t)
        case .cron(let fields, false):
            return previousWallClock(fields, atOrBefore: t)
        }
    }

    /// Occurrences in the closed interval `[start, end]`.
    public func occurrences(from start: Int64, through end: Int64) -> [Int64] {
        var result: [Int64] = []
        var cursor = next(after: start - 1)
        while let t = cursor, t <= end {
            result.append(t)
            cursor = next(after: t)
        }
        return result
    }

    public static func == (lhs: Schedule, rhs: Schedule) -> Bool {
        lhs.expression == rhs.expression && lhs.timeZoneID == rhs.timeZoneID
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(expression)
        hasher.combine(timeZoneID)
    }

    // Wall-clock jobs: within one offset segment local time is a shift of UTC, so the
    // answer is the first matching local minute that still lies inside the segment.

    private func nextWallClock(_ fields: CronFields, after t: Int64) -> Int64? {
        var segment = zone.segment(containing: t)
        var from = t + 1
        while true {
            let offset = zone.offsets[segment]
            guard let local = fields.nextMatch(atOrAfter: from + offset) else { return nil }
            if segment == zone.transitions.count || local - offset < zone.transitions[segment] {
                return local - offset
            }
            from = zone.transitions[segment]
            segment += 1
        }
    }

    private func previousWallClock(_ fields: CronFields, atOrBefore t: Int64) -> Int64? {
        var segment = zone.segment(containing: t)
        var upTo = t
        while true {
            let offset = zone.offsets[segment]
            guard let local = fields.previousMatch(atOrBefore: upTo + offset) else { return nil }
            if segment == 0 || local - offset >= zone.transitions[segment - 1] {
                return local - offset
            }
            upTo = zone.transitions[segment - 1] - 1
            segment -= 1
        }
    }

    // Fixed-time jobs: instants are a non-decreasing function of the matching wall times,
    // so walk the wall times from a safe side of `t` until the instant crosses it.

    private func nextFixedTime(_ fields: CronFields, after t: Int64) -> Int64? {
        // Mapping `t` to its own wall time never overshoots: that wall time's instant is <= t.
        var wall = t + zone.offset(at: t)
        while let candidate = fields.nextMatch(atOrAfter: wall + 1) {
            let instant = zone.firstInstant(forWallTime: candidate)
            if instant > t { return instant }
            wall = candidate
        }
        return nil
    }

    private func previousFixedTime(_ fields: CronFields, atOrBefore t: Int64) -> Int64? {
        // Past the largest nearby offset every wall time maps after `t`, even inside the
        // second copy of a repeated hour.
        let segment = zone.segment(containing: t)
        let neighbours = max(0, segment - 1)...min(zone.offsets.count - 1, segment + 1)
        var wall = t + zone.offsets[neighbours].max()!
        while let candidate = fields.previousMatch(atOrBefore: wall) {
            let instant = zone.firstInstant(forWallTime: candidate)
            if instant <= t { return instant }
            wall = candidate - 1
        }
        return nil
    }
}

/// Parsed expressions, shared: a fleet has 100,000 jobs but a few hundred distinct schedules,
/// and every copy of a `CronFields` shares its arrays with the cached one, so the monitor
/// holds each expansion once (and parses it once). Bounded, so that a stream of distinct
/// expressions (`PUT /api/v1/jobs`) cannot grow it for ever: past the bound, parses are not kept.
private final class RuleCache: Sendable {
    static let shared = RuleCache()
    static let capacity = 10_000
    private let rules = Mutex<[String: ScheduleRule]>([:])

    func rule(for expression: String) throws -> ScheduleRule {
        if let cached = rules.withLock({ $0[expression] }) { return cached }
        let rule = try CronParser.parse(expression)
        rules.withLock { if $0.count < Self.capacity { $0[expression] = rule } }
        return rule
    }
}

extension Schedule {
    /// The occurrence (epoch ms) a start at `ms` belongs to: the latest occurrence at or before
    /// it, when the start is at most `graceMs` after that occurrence's start (its scheduled time
    /// plus its `jitter` offset); nil outside every grace window. The one rule `jobrun` (which
    /// occurrence to claim, and so how long to wait for its jittered start) and the monitor
    /// (which occurrence a report without `scheduled_for` belongs to) share.
    public func occurrence(startingAtMs ms: Int64, graceMs: Int64, jitter: Jitter? = nil) -> Int64? {
        let seconds = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000)
        guard let occurrence = previous(atOrBefore: seconds),
              ms - start(of: occurrence, jitter: jitter) * 1000 <= graceMs else { return nil }
        return occurrence * 1000
    }
}
