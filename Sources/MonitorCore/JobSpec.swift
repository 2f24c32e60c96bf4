import CronSchedule
import JobwatchCore

/// What the monitor needs to know about a job, with every duration in milliseconds so the
/// state machine never converts units on its hot path.
public struct JobSpec: Sendable, Equatable {
    public var name: String
    /// Nil for a job that only runs by hand or by an outside trigger: it is never missed.
    public var schedule: Schedule?
    public var timezone: String
    public var grace: Int64
    public var maxRuntime: Int64?
    public var minRuntime: Int64?
    public var alertAfterFailures: Int
    public var realertEvery: Int64?
    public var channels: [String]
    /// SPEC §6: each occurrence's start is due its own offset after the scheduled time.
    public var jitter: Jitter?
    /// `anomaly:`; nil keeps no durations at all.
    public var anomaly: AnomalyRule?
    /// `resolve_after`: consecutive successes that end an open incident.
    public var resolveAfter: Int
    /// The job's own `maintenance:` windows and the fleet-wide ones that cover it.
    public var maintenance: [Window]

    /// A maintenance window: each occurrence of `schedule` (in its own zone) starts one.
    public struct Window: Sendable, Equatable {
        public var schedule: Schedule
        public var duration: Int64

        public init(schedule: Schedule, duration: Int64) {
            self.schedule = schedule
            self.duration = duration
        }
    }

    public init(
        name: String, schedule: Schedule?, timezone: String, grace: Int64 = 300_000,
        maxRuntime: Int64? = nil, minRuntime: Int64? = nil, alertAfterFailures: Int = 1,
        realertEvery: Int64? = nil, channels: [String] = [], jitter: Jitter? = nil, anomaly: AnomalyRule? = nil,
        resolveAfter: Int = 1, maintenance: [Window] = []
    ) {
        self.name = name
        self.schedule = schedule
        self.timezone = timezone
        self.grace = grace
        self.maxRuntime = maxRuntime
        self.minRuntime = minRuntime
        self.alertAfterFailures = max(1, alertAfterFailures)
        self.realertEvery = realertEvery
        self.channels = channels
        self.jitter = jitter
        self.anomaly = anomaly
        self.resolveAfter = max(1, resolveAfter)
        self.maintenance = maintenance
    }

    /// `defaultChannels` is `monitor.default_alerts`, used when the file names no `alerts:`;
    /// `fleetMaintenance` is `monitor.maintenance`, whose schedules run in `fleetTimezone`.
    public init(
        _ definition: JobDefinition, defaultChannels: [String], fleetMaintenance: [MaintenanceWindow] = [],
        fleetTimezone: String = "UTC"
    ) {
        // Both were checked when their files loaded.
        let own = definition.maintenance.compactMap { w in
            (try? Schedule(w.schedule, timeZone: definition.timezone)).map { Window(schedule: $0, duration: w.duration.milliseconds) }
        }
        let fleet = fleetMaintenance.filter { $0.applies(toJobTagged: definition.tags) }.compactMap { w in
            (try? Schedule(w.schedule, timeZone: fleetTimezone)).map { Window(schedule: $0, duration: w.duration.milliseconds) }
        }
        // `0s` means "off" for min_runtime and realert_every, as operators write it.
        self.init(
            name: definition.name, schedule: definition.schedule, timezone: definition.timezone,
            grace: definition.grace.milliseconds, maxRuntime: definition.maxRuntime?.milliseconds,
            minRuntime: definition.minRuntime.map(\.milliseconds).flatMap { $0 > 0 ? $0 : nil },
            alertAfterFailures: definition.alertAfterFailures,
            realertEvery: definition.realertEvery.map(\.milliseconds).flatMap { $0 > 0 ? $0 : nil },
            channels: definition.alerts ?? defaultChannels, jitter: definition.jitter, anomaly: definition.anomaly,
            resolveAfter: definition.resolveAfter, maintenance: own + fleet)
    }

    /// The first occurrence strictly after `t`, both in epoch milliseconds.
    func occurrence(after t: Int64) -> Int64? {
        schedule?.next(after: t.floorDividedBySecond).map { $0 * 1000 }
    }

    // Every rule about when a start is due goes through the three below, so the monitor's
    // deadlines, the API's `next_expected`, the report and `jobctl next --job` agree.

    /// When the start of the occurrence scheduled at `occurrence` is due (both epoch ms): the
    /// scheduled time plus its jitter offset. Later than this, the job is `late`.
    public func expectedStart(of occurrence: Int64) -> Int64 {
        occurrence + (jitter?.offset(of: occurrence.floorDividedBySecond) ?? 0) * 1000
    }

    /// No start by this instant (epoch ms) and the occurrence is missed.
    public func startDeadline(of occurrence: Int64) -> Int64 {
        expectedStart(of: occurrence) + grace
    }

    /// The first occurrence (epoch ms) whose deadline is still ahead at `t`.
    func firstOccurrence(withDeadlineAfter t: Int64) -> Int64? {
        schedule?.firstOccurrence(startingAfter: (t - grace).floorDividedBySecond, jitter: jitter).map { $0 * 1000 }
    }

    /// The longest a start may follow its scheduled time and still count (ms): the widest
    /// jitter offset plus grace.
    public var startWindow: Int64 {
        grace + (jitter.map { $0.seconds - 1 } ?? 0) * 1000
    }
}

extension JobSpec: Codable {
    // A `Schedule` is stored as its expression and rebuilt, so a restart re-parses exactly
    // what the operator wrote.
    private enum CodingKeys: String, CodingKey {
        case name, schedule, timezone, grace = "grace_ms", maxRuntime = "max_runtime_ms"
        case minRuntime = "min_runtime_ms", alertAfterFailures = "alert_after_failures"
        case realertEvery = "realert_every_ms", channels, jitter = "jitter_ms", anomaly, resolveAfter = "resolve_after", maintenance
    }

    private enum WindowKeys: String, CodingKey { case schedule, timezone, duration = "duration_ms" }

    private enum AnomalyKeys: String, CodingKey { case slower, faster, baseline }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let timezone = try c.decode(String.self, forKey: .timezone)
        var schedule: Schedule?
        if let expression = try c.decodeIfPresent(String.self, forKey: .schedule) {
            do { schedule = try Schedule(expression, timeZone: timezone) } catch {
                throw DecodingError.dataCorruptedError(forKey: .schedule, in: c, debugDescription: "\(error)")
            }
        }
        let name = try c.decode(String.self, forKey: .name)
        self.init(
            name: name, schedule: schedule, timezone: timezone,
            grace: try c.decode(Int64.self, forKey: .grace),
            maxRuntime: try c.decodeIfPresent(Int64.self, forKey: .maxRuntime),
            minRuntime: try c.decodeIfPresent(Int64.self, forKey: .minRuntime),
            alertAfterFailures: try c.decode(Int.self, forKey: .alertAfterFailures),
            realertEvery: try c.decodeIfPresent(Int64.self, forKey: .realertEvery),
            channels: try c.decode([String].self, forKey: .channels),
            jitter: try c.decodeIfPresent(Int64.self, forKey: .jitter).map { Jitter(job: name, seconds: max(1, $0 / 1000)) },
            anomaly: try Self.decodeAnomaly(c),
            resolveAfter: try c.decodeIfPresent(Int.self, forKey: .resolveAfter) ?? 1,
            maintenance: try Self.decodeMaintenance(c))
    }

    private static func decodeMaintenance(_ c: KeyedDecodingContainer<CodingKeys>) throws -> [Window] {
        guard c.contains(.maintenance) else { return [] }
        var list = try c.nestedUnkeyedContainer(forKey: .maintenance)
        var windows: [Window] = []
        while !list.isAtEnd {
            let w = try list.nestedContainer(keyedBy: WindowKeys.self)
            let expression = try w.decode(String.self, forKey: .schedule)
            do {
                windows.append(Window(schedule: try Schedule(expression, timeZone: try w.decode(String.self, forKey: .timezone)),
                                      duration: try w.decode(Int64.self, forKey: .duration)))
            } catch let error as DecodingError {
                throw error
            } catch {
                throw DecodingError.dataCorruptedError(forKey: .schedule, in: w, debugDescription: "\(error)")
            }
        }
        return windows
    }

    private static func decodeAnomaly(_ c: KeyedDecodingContainer<CodingKeys>) throws -> AnomalyRule? {
        guard c.contains(.anomaly) else { return nil }
        let a = try c.nestedContainer(keyedBy: AnomalyKeys.self, forKey: .anomaly)
        func multiplier(_ key: AnomalyKeys) throws -> Multiplier? {
            guard let text = try a.decodeIfPresent(String.self, forKey: key) else { return nil }
            guard let value = Multiplier(parsing: text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: a, debugDescription: "not a multiplier: \(text)")
            }
            return value
        }
        return AnomalyRule(slower: try multiplier(.slower), faster: try multiplier(.faster),
                           baseline: try a.decode(Int.self, forKey: .baseline))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(schedule?.expression, forKey: .schedule)
        try c.encode(timezone, forKey: .timezone)
        try c.encode(grace, forKey: .grace)
        try c.encodeIfPresent(maxRuntime, forKey: .maxRuntime)
        try c.encodeIfPresent(minRuntime, forKey: .minRuntime)
        try c.encode(alertAfterFailures, forKey: .alertAfterFailures)
        try c.encodeIfPresent(realertEvery, forKey: .realertEvery)
        try c.encode(channels, forKey: .channels)
        try c.encodeIfPresent(jitter.map { $0.seconds * 1000 }, forKey: .jitter)
        if let anomaly {
            var a = c.nestedContainer(keyedBy: AnomalyKeys.self, forKey: .anomaly)
            try a.encodeIfPresent(anomaly.slower?.description, forKey: .slower)
            try a.encodeIfPresent(anomaly.faster?.description, forKey: .faster)
            try a.encode(anomaly.baseline, forKey: .baseline)
        }
        if resolveAfter != 1 { try c.encode(resolveAfter, forKey: .resolveAfter) }
        if !maintenance.isEmpty {
            var list = c.nestedUnkeyedContainer(forKey: .maintenance)
            for window in maintenance {
                var w = list.nestedContainer(keyedBy: WindowKeys.self)
                try w.encode(window.schedule.expression, forKey: .schedule)
                try w.encode(window.schedule.timeZoneID, forKey: .timezone)
                try w.encode(window.duration, forKey: .duration)
            }
        }
    }
}

extension Int64 {
    var floorDividedBySecond: Int64 { self >= 0 ? self / 1000 : -((-self + 999) / 1000) }
}
