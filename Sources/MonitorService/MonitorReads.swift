import Foundation
import JobwatchCore
import MonitorCore
import RedisLease

/// Public API of this file (the read side: every replica, straight from Redis):
///
///     public struct MonitorReads: Sendable
///         init(environment: MonitorEnvironment)
///         func jobs() async throws -> JobsResponse                       // {"jobs": [job]}
///         func job(_ name: String) async throws -> JobView?              // nil: unknown job
///         func runs(_ job: String, limit: Int) async throws -> RunsResponse?   // newest first
///         func monitor(_ name: String) async throws -> JobMonitor?
///         func reportInputs(from: Int64, to: Int64) async throws -> ReportInputs
///
/// The views are `Encodable` with SPEC §3.2's names, absent values written as `null`, times as
/// RFC 3339 UTC with milliseconds. Encode them with `JSONEncoder` (or take `jsonObject` for
/// `JSONSerialization`): they are structs, not dictionaries.
public struct MonitorReads: Sendable {
    private let environment: MonitorEnvironment

    public init(environment: MonitorEnvironment) {
        self.environment = environment
    }

    public func jobs() async throws -> JobsResponse {
        let store = environment.store
        let now = environment.clock()
        let views = try await environment.shared.run { c -> [JobView] in
            let monitors = try store.loadMonitors(c).sorted { $0.key < $1.key }
            var views: [JobView] = []
            views.reserveCapacity(monitors.count)
            // Lock lookups are pipelined a thousand jobs per round trip.
            for start in stride(from: 0, to: monitors.count, by: 1000) {
                let chunk = monitors[start..<min(start + 1000, monitors.count)]
                let locks = try Self.locks(of: chunk.map(\.key), store: store, c)
                for ((job, monitor), lock) in zip(chunk, locks) { views.append(JobView(job, monitor, lock: lock, now: now)) }
            }
            return views
        }
        return JobsResponse(jobs: views)
    }

    public func job(_ name: String) async throws -> JobView? {
        let store = environment.store
        let now = environment.clock()
        return try await environment.shared.run { c -> JobView? in
            guard let json = try c.command(["HGET", store.state, name]).string,
                  let monitor = MonitorStore.decodeMonitor(json) else { return nil }
            return JobView(name, monitor, lock: try Self.locks(of: [name], store: store, c)[0], now: now)
        }
    }

    public func monitor(_ name: String) async throws -> JobMonitor? {
        let key = environment.store.state
        let reply = try await environment.shared.command(["HGET", key, name])
        return reply.string.flatMap(MonitorStore.decodeMonitor)
    }

    public func runs(_ job: String, limit: Int) async throws -> RunsResponse? {
        let store = environment.store
        return try await environment.shared.run { c -> RunsResponse? in
            guard try c.command(["HEXISTS", store.state, job]).integer == 1 else { return nil }
            let ids = try c.command(["ZREVRANGE", store.runs(job), "0", String(max(0, limit - 1))]).array ?? []
            let runs = try Self.records(job, ids.compactMap(\.string), store: store, c)
            return RunsResponse(runs: runs.map(RunView.init))
        }
    }

    /// What the weekly report (SPEC §3.4) is computed from: every job's state, the runs that
    /// started in [from, to], and the state changes and alerts recorded in it (epoch ms).
    public func reportInputs(from: Int64, to: Int64) async throws -> ReportInputs {
        let store = environment.store
        return try await environment.shared.run { c -> ReportInputs in
            let monitors = try store.loadMonitors(c)
            var runs: [String: [RunRecord]] = [:]
            for job in monitors.keys {
                let ids = try c.command(["ZRANGEBYSCORE", store.runs(job), String(from), String(to)]).array ?? []
                if !ids.isEmpty { runs[job] = try Self.records(job, ids.compactMap(\.string), store: store, c) }
            }
            var changes: [RecordedChange] = []
            var cursor = "\(from)-0"
            while true {
                let reply = try c.command(["XRANGE", store.changes, cursor, "\(to)-18446744073709551615", "COUNT", "10000"])
                let entries = (reply.array ?? []).compactMap { item -> (String, [String: String])? in
                    guard let pair = item.array, pair.count == 2, let id = pair[0].string, let flat = pair[1].array else { return nil }
                    var fields: [String: String] = [:]
                    for i in stride(from: 0, to: flat.count - 1, by: 2) { fields[flat[i].string ?? ""] = flat[i + 1].string ?? "" }
                    return (id, fields)
                }
                changes += entries.compactMap { RecordedChange(fields: $0.1) }
                guard entries.count == 10000, let last = entries.last?.0 else { break }
                cursor = "(" + last
            }
            return ReportInputs(monitors: monitors, runs: runs, changes: changes)
        }
    }

    private static func records(_ job: String, _ ids: [String], store: MonitorStore, _ c: RedisConnection) throws -> [RunRecord] {
        guard !ids.isEmpty else { return [] }
        let values = try c.command(["MGET"] + ids.map { store.run(job, $0) }).array ?? []
        return values.compactMap { $0.string.flatMap(MonitorStore.decodeRun) }
    }

    private static func locks(of jobs: [String], store: MonitorStore, _ c: RedisConnection) throws -> [LockView?] {
        let commands = jobs.flatMap { [["GET", store.lock($0)], ["PTTL", store.lock($0)], ["GET", store.fence($0)]] }
        let replies = try c.pipeline(commands)
        return jobs.indices.map { i in
            guard let holder = replies[3 * i].string else { return nil }
            return LockView(holder: holder, ttlMs: replies[3 * i + 1].integer, fence: replies[3 * i + 2].integer)
        }
    }
}

/// RFC 3339 in UTC with milliseconds, as every API time is written.
func apiTime(_ ms: Int64?) -> String? { ms.map { Timestamp.format(ms: $0) } }

public struct JobsResponse: Encodable, Sendable {
    public var jobs: [JobView]
}

public struct RunsResponse: Encodable, Sendable {
    public var runs: [RunView]
}

public struct JobView: Encodable, Sendable {
    public var job: String
    public var state: String
    public var schedule: String?
    public var timezone: String
    public var nextExpected: String?
    public var pausedUntil: String?
    public var lastRun: RunView?
    public var lock: LockView?
    public var alert: AlertView?
    /// Runs started and not yet finished.
    public var running: Int
    public var consecutiveFailures: Int
    /// Its alert opened and resolved more than five times in 24 hours (SPEC §6).
    public var flapping: Bool

    init(_ job: String, _ monitor: JobMonitor, lock: LockView?, now: Int64) {
        self.job = job
        state = monitor.state(at: now).rawValue
        schedule = monitor.spec.schedule?.expression
        timezone = monitor.spec.timezone
        nextExpected = apiTime(monitor.expectedOccurrence.map(monitor.spec.expectedStart))
        pausedUntil = monitor.isPaused(at: now) ? apiTime(monitor.pause?.until) : nil
        // The job's latest activity: a run in progress is more current than the last finished one.
        let current = monitor.runningRuns.values.max { $0.startedAt < $1.startedAt }
        lastRun = (current.flatMap { c in monitor.lastRun.map { $0.startedAt > c.startedAt ? $0 : c } ?? c } ?? monitor.lastRun)
            .map(RunView.init)
        self.lock = lock
        alert = monitor.incident.map { AlertView(state: $0.kind.rawValue, since: apiTime($0.since) ?? "",
                                                  channels: monitor.spec.channels, reason: $0.reason) }
        running = monitor.runningRuns.count
        consecutiveFailures = monitor.consecutiveFailures
        flapping = monitor.isFlapping(at: now)
    }

    private enum CodingKeys: String, CodingKey {
        case job, state, schedule, timezone, nextExpected = "next_expected", pausedUntil = "paused_until"
        case lastRun = "last_run", lock, alert, running, consecutiveFailures = "consecutive_failures", flapping
    }

    // Spelled out so that absent values are `null`, as SPEC §3.2 shows them, not missing keys.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(job, forKey: .job)
        try c.encode(state, forKey: .state)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(timezone, forKey: .timezone)
        try c.encode(nextExpected, forKey: .nextExpected)
        try c.encode(pausedUntil, forKey: .pausedUntil)
        try c.encode(lastRun, forKey: .lastRun)
        try c.encode(lock, forKey: .lock)
        try c.encode(alert, forKey: .alert)
        try c.encode(running, forKey: .running)
        try c.encode(consecutiveFailures, forKey: .consecutiveFailures)
        try c.encode(flapping, forKey: .flapping)
    }
}

public struct LockView: Encodable, Sendable {
    public var holder: String
    public var ttlMs: Int64?
    public var fence: Int64?

    private enum CodingKeys: String, CodingKey { case holder, ttlMs = "ttl_ms", fence }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(holder, forKey: .holder)
        try c.encode(ttlMs, forKey: .ttlMs)
        try c.encode(fence, forKey: .fence)
    }
}

public struct AlertView: Encodable, Sendable {
    /// The incident's kind: `missed`, `failed`, `overdue` or `config_error`.
    public var state: String
    public var since: String
    public var channels: [String]
    public var reason: String
}

public struct RunView: Encodable, Sendable {
    public var runID: String
    public var host: String
    public var scheduledFor: String?
    public var startedAt: String
    public var finishedAt: String?
    public var durationMs: Int64?
    public var exitCode: Int?
    public var signal: Int?
    public var outcome: String?
    public var fence: Int64?
    public var attempts: Int?
    public var attemptExitCodes: [Int]?
    public var reason: String?

    public init(_ run: RunRecord) {
        runID = run.runID
        host = run.host
        scheduledFor = apiTime(run.scheduledFor)
        startedAt = apiTime(run.startedAt) ?? ""
        finishedAt = apiTime(run.finishedAt)
        durationMs = run.durationMs
        exitCode = run.exitCode
        signal = run.signal
        outcome = run.outcome?.rawValue
        fence = run.fence
        attempts = run.attempts
        attemptExitCodes = run.attemptExitCodes
        reason = run.reason
    }

    private enum CodingKeys: String, CodingKey {
        case runID = "run_id", host, scheduledFor = "scheduled_for", startedAt = "started_at"
        case finishedAt = "finished_at", durationMs = "duration_ms", exitCode = "exit_code", signal, outcome, fence
        case attempts, attemptExitCodes = "attempt_exit_codes", reason
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(runID, forKey: .runID)
        try c.encode(host, forKey: .host)
        try c.encode(scheduledFor, forKey: .scheduledFor)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(durationMs, forKey: .durationMs)
        try c.encode(exitCode, forKey: .exitCode)
        try c.encode(signal, forKey: .signal)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(fence, forKey: .fence)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(attemptExitCodes, forKey: .attemptExitCodes)
        try c.encode(reason, forKey: .reason)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(attemptExitCodes, forKey: .attemptExitCodes)
        try c.encode(reason, forKey: .reason)
    }
}

/// One `mon:changes` entry: a state change (`alert` empty) or an alert sent
/// (`trigger`|`repeat`|`resolve`, `to` the incident's kind, or `up` on resolve).
public struct RecordedChange: Sendable {
    public var job: String
    public var from: String
    public var to: String
    public var at: Int64
    public var reason: String
    public var alert: String?

    init?(fields f: [String: String]) {
        guard let job = f["job"], let from = f["from"], let to = f["to"], let at = f["at"].flatMap({ Int64($0) }) else { return nil }
        self.job = job
        self.from = from
        self.to = to
        self.at = at
        reason = f["reason"] ?? ""
        alert = f["alert"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

public struct ReportInputs: Sendable {
    public var monitors: MonitorTable
    public var runs: [String: [RunRecord]]
    public var changes: [RecordedChange]
}

extension Encodable {
    /// The same JSON as a `JSONSerialization` object, for code that builds responses that way.
    public var jsonObject: Any {
        let data = (try? JSONEncoder().encode(self)) ?? Data("{}".utf8)
        return (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) ?? [:]
    }
}
