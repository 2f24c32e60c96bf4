import Synchronization

/// A zone's UTC offsets as a flat table of transitions, so that "what is the offset at t"
/// and "which instant is this wall time" are binary searches instead of Calendar calls.
///
/// Segment `i` is the half-open interval `[transitions[i-1], transitions[i])` and has
/// `offsets[i]`; segment 0 extends to the distant past, the last one to the distant future.
final class ZoneRules: Sendable {
    let identifier: String
    let transitions: [Int64]
    let offsets: [Int64]
    /// Per transition, the wall-clock window it skips or repeats: `[T + min, T + max)` of
    /// the offsets either side.
    private let windowStart: [Int64]
    private let windowEnd: [Int64]

    /// The POSIX rule is expanded up to this year; later instants keep the last offset.
    static let lastTabulatedYear: Int64 = 2500

    init(identifier: String, tzif: TZif) {
        var transitions: [Int64] = []
        var offsets = [tzif.initialOffset]
        func append(_ change: (at: Int64, offset: Int64)) {
            guard change.offset != offsets.last!, change.at > (transitions.last ?? .min) else { return }
            transitions.append(change.at)
            offsets.append(change.offset)
        }
        tzif.transitions.forEach(append)
        if let rule = PosixTimeZoneRule(tzif.footer) {
            let firstYear = Civil.date(fromDays: Civil.floorDiv(transitions.last ?? 0, Civil.secondsPerDay)).year
            for year in firstYear...max(firstYear, Self.lastTabulatedYear) {
                rule.transitions(year: year).forEach(append)
            }
        }
        self.identifier = identifier
        self.transitions = transitions
        self.offsets = offsets
        windowStart = transitions.indices.map { transitions[$0] + min(offsets[$0], offsets[$0 + 1]) }
        windowEnd = transitions.indices.map { transitions[$0] + max(offsets[$0], offsets[$0 + 1]) }
    }

    /// The index of the segment containing instant `t`.
    func segment(containing t: Int64) -> Int {
        var low = 0
        var high = transitions.count
        while low < high {
            let mid = (low + high) / 2
            if transitions[mid] <= t { low = mid + 1 } else { high = mid }
        }
        return low
    }

    func offset(at t: Int64) -> Int64 {
        offsets[segment(containing: t)]
    }

    /// The instant Debian cron runs a fixed-time job whose wall time is `local`: the first
    /// of two repeated instants, or the end of the gap for a wall time that is skipped.
    func firstInstant(forWallTime local: Int64) -> Int64 {
        var low = 0
        var high = windowStart.count
        while low < high {
            let mid = (low + high) / 2
            if windowStart[mid] <= local { low = mid + 1 } else { high = mid }
        }
        guard low > 0 else { return local - offsets[0] }
        let k = low - 1
        guard local < windowEnd[k] else { return local - offsets[k + 1] }
        return offsets[k + 1] > offsets[k] ? transitions[k] : local - offsets[k]
    }

    static func named(_ identifier: String) -> ZoneRules? {
        cache.rules(for: identifier)
    }

    private static let cache = ZoneCache()
}

/// Parsing a zone costs a file read and a few hundred transitions; schedules share the
/// result, and the monitor builds thousands of schedules from a handful of zones.
private final class ZoneCache: Sendable {
    private let zones = Mutex<[String: ZoneRules]>([:])

    func rules(for identifier: String) -> ZoneRules? {
        zones.withLock { zones in
            if let cached = zones[identifier] { return cached }
            guard let tzif = TZif.load(zoneID: identifier) else { return nil }
            let rules = ZoneRules(identifier: identifier, tzif: tzif)
            zones[identifier] = rules
            return rules
        }
    }
}

/// Whether `identifier` names a zone in the system's tz database — the same files schedules
/// are evaluated with, so a zone that validates is a zone that works.
public func isKnownTimeZone(_ identifier: String) -> Bool {
    ZoneRules.named(identifier) != nil
}

/// The UTC offsets of a zone over `[start, end]`: the offset in force at `start`, then one
/// entry per change. Nil for a zone the tz database does not know.
public func utcOffsets(zone identifier: String, from start: Int64, through end: Int64) -> [(start: Int64, offset: Int64)]? {
    guard let rules = ZoneRules.named(identifier) else { return nil }
    var segment = rules.segment(containing: start)
    var result = [(start: start, offset: rules.offsets[segment])]
    while segment < rules.transitions.count, rules.transitions[segment] <= end {
        result.append((rules.transitions[segment], rules.offsets[segment + 1]))
        segment += 1
    }
    return result
}
