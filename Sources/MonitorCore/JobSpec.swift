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

    public init(
        name: String, schedule: Schedule?, timezone: String, grace: Int64 = 300_000,
        maxRuntime: Int64? = nil, minRuntime: Int64? = nil, alertAfterFailures: Int = 1,
        realertEvery: Int64? = nil, channels: [String] = [], jitter: Jitter? = nil
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
    }

    /// `defaultChannels` is `monitor.default_alerts`, used when the file names no `alerts:`.
    public init(_ definition: JobDefinition, defaultChannels: [String]) {
        // `0s` means "off" for min_runtime and realert_every, as operators write it.
        self.init(
            name: definition.name, schedule: definition.schedule, timezone: definition.timezone,
            grace: definition.grace.milliseconds, maxRuntime: definition.maxRuntime?.milliseconds,
            minRuntime: definition.minRuntime.map(\.milliseconds).flatMap { $0 > 0 ? $0 : nil },
            alertAfterFailures: definition.alertAfterFailures,
            realertEvery: definition.realertEvery.map(\.milliseconds).flatMap { $0 > 0 ? $0 : nil },
            channels: definition.alerts ?? defaultChannels, jitter: definition.jitter)
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
        case realertEvery = "realert_every_ms", channels, jitter = "jitter_ms"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let timezone = try c.decode(String.self, forKey: .timezone)
        var schedule: Schedule?
        if let expression = try c.decodeIfPresent(String.self, forKey: .schedule) {
            do { schedule = try Schedule(expression, timeZone: timezone) } catch {
                throw DecodingError.dataCorruptedError(forKey: .schedule, in: c, debugDescription: "\(error)")
            }
        }
        self.init(
            name: try c.decode(String.self, forKey: .name), schedule: schedule, timezone: timezone,
            grace: try c.decode(Int64.self, forKey: .grace),
            maxRuntime: try c.decodeIfPresent(Int64.self, forKey: .maxRuntime),
            minRuntime: try c.decodeIfPresent(Int64.self, forKey: .minRuntime),
            alertAfterFailures: try c.decode(Int.self, forKey: .alertAfterFailures),
            realertEvery: try c.decodeIfPresent(Int64.self, forKey: .realertEvery),
            channels: try c.decode([String].self, forKey: .channels))
        jitter = try c.decodeIfPresent(Int64.self, forKey: .jitter).map { Jitter(job: name, seconds: max(1, $0 / 1000)) }
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
    }
}

extension Int64 {
    var floorDividedBySecond: Int64 { self >= 0 ? self / 1000 : -((-self + 999) / 1000) }
}
