import CronSchedule
import JobwatchCore
import MonitorCore
import RedisLease

/// Public API of this file:
///
///     public enum MonitorEvent: Sendable, Equatable   // one `<prefix>events` entry, decoded
///         case start(job:, runID:, host:, startedAt: Int64, scheduledFor: Int64?, fence: Int64?, leaseMs: Int64?)
///         case finish(job:, runID:, host:, finishedAt: Int64, exitCode: Int?, signal: Int?,
///                     durationMs: Int64, outcome: RunOutcome, outputTail: String?, details: RunDetails)
///         case skip(job:, host:, at: Int64)
///         case pause(job:, until: Int64?, at: Int64); case resume(job:, at: Int64)
///         case define(job:); case reload
///         init?(fields: RedisReplyView, now: Int64)   // one entry's [f, v, …], read in place
///         var job: String?
///
///     struct EventEntry { id: String; event: MonitorEvent? }   // what the applier reads
///     static func EventEntry.entries(ofRead:now:) / entries(ofAutoclaim:now:)
///
///     public struct StreamEntry: Sendable { id: String; fields: [String: String]? }  // other streams
///     static func StreamEntry.entries(ofRead:) / entries(ofAutoclaim:)
///
/// Field names and forms are `Sources/Reporting/RunEvent.swift`'s: times RFC 3339 UTC with
/// milliseconds, numbers in decimal, null as the empty string.
public enum MonitorEvent: Sendable, Equatable {
    case start(job: String, runID: String, host: String, startedAt: Int64, scheduledFor: Int64?, fence: Int64?, leaseMs: Int64?)
    case finish(job: String, runID: String, host: String, finishedAt: Int64, exitCode: Int?, signal: Int?,
                durationMs: Int64, outcome: RunOutcome, outputTail: String?, details: RunDetails = RunDetails())
    case skip(job: String, host: String, at: Int64)
    case pause(job: String, until: Int64?, at: Int64)
    case resume(job: String, at: Int64)
    case define(job: String)
    case reload

    /// Nil for an entry the monitor cannot use (unknown type, bad job name, missing run id):
    /// it is acknowledged and dropped, since redelivering it would never make it valid.
    /// `now` stands in for a missing or unreadable timestamp. Decoded from the reply in place,
    /// one pass over the fields: this runs for every report the monitor applies.
    init?(fields view: RedisReplyView, now: Int64) {
        var f = RawEventFields()
        for i in stride(from: 0, to: view.count - 1, by: 2) {
            guard let name = view[i], let value = view[i + 1] else { continue }
            f.take(name, value)
        }
        guard let type = f.type else { return nil }
        if type == .reload {
            self = .reload
            return
        }
        guard let job = f.job, JobName.isValid(job) else { return nil }
        let ts = f.ts ?? now
        let host = f.host.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
        let runID = f.runID ?? ""
        switch type {
        case .start:
            guard !runID.isEmpty else { return nil }
            self = .start(job: job, runID: runID, host: host, startedAt: f.startedAt ?? ts,
                          scheduledFor: f.scheduledFor, fence: f.fence, leaseMs: f.leaseMs)
        case .finish:
            guard !runID.isEmpty else { return nil }
            self = .finish(job: job, runID: runID, host: host, finishedAt: f.finishedAt ?? ts,
                           exitCode: f.exitCode, signal: f.signal, durationMs: f.durationMs ?? 0,
                           outcome: f.outcome ?? (f.exitCode == 0 ? .success : .failure), outputTail: f.outputTail,
                           details: RunDetails(attemptExitCodes: f.attemptExitCodes, reason: f.reason))
        case .skip: self = .skip(job: job, host: host, at: ts)
        case .pause: self = .pause(job: job, until: f.until, at: ts)
        case .resume: self = .resume(job: job, at: ts)
        case .define: self = .define(job: job)
        case .reload: self = .reload
        }
    }

    public var job: String? {
        switch self {
        case .start(let job, _, _, _, _, _, _), .finish(let job, _, _, _, _, _, _, _, _, _), .skip(let job, _, _),
             .pause(let job, _, _), .resume(let job, _), .define(let job):
            return job
        case .reload: return nil
        }
    }

    /// Epoch milliseconds of an RFC 3339 time.
    static func millis(_ text: String?) -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        return parseRFC3339Milliseconds(text)
    }
}

/// The fields of one event entry, in `RunEvent.swift`'s names and forms: times RFC 3339 UTC
/// with milliseconds, numbers in decimal, null as the empty string. Fields the monitor does
/// not use (`pid`, `command`) are skipped without being read.
private struct RawEventFields {
    enum Kind { case start, finish, skip, pause, resume, define, reload }

    var type: Kind?
    var job, runID, host, outputTail, reason: String?
    var attemptExitCodes: [Int]?
    var ts, startedAt, scheduledFor, finishedAt, until: Int64?
    var exitCode, signal: Int?
    var durationMs, fence, leaseMs: Int64?
    var outcome: RunOutcome?

    mutating func take(_ name: RedisReplyView, _ value: RedisReplyView) {
        if name.equals("type") { type = Self.kind(value) }
        else if name.equals("job") { job = value.text }
        else if name.equals("run_id") { runID = value.text }
        else if name.equals("host") { host = value.text }
        else if name.equals("ts") { ts = Self.time(value) }
        else if name.equals("started_at") { startedAt = Self.time(value) }
        else if name.equals("scheduled_for") { scheduledFor = Self.time(value) }
        else if name.equals("finished_at") { finishedAt = Self.time(value) }
        else if name.equals("until") { until = Self.time(value) }
        else if name.equals("exit_code") { exitCode = value.integer.map(Int.init) }
        else if name.equals("signal") { signal = value.integer.map(Int.init) }
        else if name.equals("duration_ms") { durationMs = value.integer.flatMap { $0 >= 0 ? $0 : nil } }
        else if name.equals("fence") { fence = value.integer }
        else if name.equals("lease_ms") { leaseMs = value.integer.flatMap { $0 > 0 ? $0 : nil } }
        else if name.equals("outcome") { outcome = RunOutcome(rawValue: value.text) }
        else if name.equals("output_tail") { outputTail = value.bytes.isEmpty ? nil : value.text }
        else if name.equals("reason") { reason = value.bytes.isEmpty ? nil : value.text }
        else if name.equals("attempt_exit_codes") { attemptExitCodes = Self.numbers(value) }
    }

    private static func kind(_ value: RedisReplyView) -> Kind? {
        if value.equals("start") { return .start }
        if value.equals("finish") { return .finish }
        if value.equals("skip") { return .skip }
        if value.equals("pause") { return .pause }
        if value.equals("resume") { return .resume }
        if value.equals("define") { return .define }
        if value.equals("reload") { return .reload }
        return nil
    }

    /// `1,1,0`: nil when empty or when any item is not a whole number.
    private static func numbers(_ value: RedisReplyView) -> [Int]? {
        let text = value.text
        guard !text.isEmpty else { return nil }
        var list: [Int] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let n = Int(item) else { return nil }
            list.append(n)
        }
        return list
    }

    private static func time(_ value: RedisReplyView) -> Int64? {
        let bytes = value.bytes
        return bytes.isEmpty ? nil : parseRFC3339Milliseconds(utf8: bytes)
    }
}

/// One `<prefix>events` entry as the applier takes it: its id, and its event, nil for an
/// entry that is unusable or was trimmed while pending (acknowledged and dropped either way).
struct EventEntry: Sendable {
    let id: String
    let event: MonitorEvent?

    /// `XREADGROUP … STREAMS key id`: `[[key, [[id, [f, v, …]], …]]]`, or null on timeout.
    static func entries(ofRead reply: RedisReplyView, now: Int64) -> [EventEntry] {
        guard let stream = reply[0], let items = stream[1] else { return [] }
        return entries(items, now: now)
    }

    /// `XAUTOCLAIM`: `[next-cursor, [[id, fields], …], [deleted ids]]`.
    static func entries(ofAutoclaim reply: RedisReplyView, now: Int64) -> [EventEntry] {
        guard let items = reply[1] else { return [] }
        var entries = Self.entries(items, now: now)
        if let deleted = reply[2] {
            for i in 0..<deleted.count { if let id = deleted[i] { entries.append(EventEntry(id: id.text, event: nil)) } }
        }
        return entries
    }

    private static func entries(_ items: RedisReplyView, now: Int64) -> [EventEntry] {
        var entries: [EventEntry] = []
        entries.reserveCapacity(items.count)
        for i in 0..<items.count {
            guard let pair = items[i], let id = pair[0] else { continue }
            entries.append(EventEntry(id: id.text, event: pair[1].flatMap { MonitorEvent(fields: $0, now: now) }))
        }
        return entries
    }
}

/// One stream entry as XREADGROUP or XAUTOCLAIM returns it; `fields` is nil for an entry
/// deleted (trimmed) while it was pending.
public struct StreamEntry: Sendable {
    public let id: String
    public let fields: [String: String]?

    /// `XREADGROUP … STREAMS key id`: `[[key, [[id, [f, v, …]], …]]]`, or null on timeout.
    static func entries(ofRead reply: RedisReply) -> [StreamEntry] {
        guard let streams = reply.array, let first = streams.first?.array, first.count == 2,
              let items = first[1].array else { return [] }
        return items.compactMap(entry)
    }

    /// `XAUTOCLAIM`: `[next-cursor, [[id, fields], …], [deleted ids]]`.
    static func entries(ofAutoclaim reply: RedisReply) -> (cursor: String, entries: [StreamEntry]) {
        guard let parts = reply.array, parts.count >= 2, let cursor = parts[0].string, let items = parts[1].array else {
            return ("0-0", [])
        }
        var entries = items.compactMap(entry)
        if parts.count >= 3, let deleted = parts[2].array {
            entries += deleted.compactMap { $0.string.map { StreamEntry(id: $0, fields: nil) } }
        }
        return (cursor, entries)
    }

    private static func entry(_ item: RedisReply) -> StreamEntry? {
        guard let pair = item.array, pair.count == 2, let id = pair[0].string else { return nil }
        guard let flat = pair[1].array else { return StreamEntry(id: id, fields: nil) }
        var fields: [String: String] = [:]
        fields.reserveCapacity(flat.count / 2)
        for i in stride(from: 0, to: flat.count - 1, by: 2) {
            if let name = flat[i].string { fields[name] = flat[i + 1].string ?? "" }
        }
        return StreamEntry(id: id, fields: fields)
    }
}
