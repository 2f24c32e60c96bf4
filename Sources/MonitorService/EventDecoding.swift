import CronSchedule
import JobwatchCore
import MonitorCore
import RedisLease

/// Public API of this file:
///
///     public enum MonitorEvent: Sendable, Equatable   // one `<prefix>events` entry, decoded
///         case start(job:, runID:, host:, startedAt: Int64, scheduledFor: Int64?, fence: Int64?)
///         case finish(job:, runID:, host:, finishedAt: Int64, exitCode: Int?, signal: Int?,
///                     durationMs: Int64, outcome: RunOutcome, outputTail: String?)
///         case skip(job:, host:, at: Int64)
///         case pause(job:, until: Int64?, at: Int64); case resume(job:, at: Int64)
///         case define(job:); case reload
///         init?(fields: [String: String], now: Int64)
///         var job: String?
///
///     public struct StreamEntry: Sendable { id: String; fields: [String: String]? }
///     static func StreamEntry.entries(ofRead:) / entries(ofAutoclaim:)
///
/// Field names and forms are `Sources/Reporting/RunEvent.swift`'s: times RFC 3339 UTC with
/// milliseconds, numbers in decimal, null as the empty string.
public enum MonitorEvent: Sendable, Equatable {
    case start(job: String, runID: String, host: String, startedAt: Int64, scheduledFor: Int64?, fence: Int64?)
    case finish(job: String, runID: String, host: String, finishedAt: Int64, exitCode: Int?, signal: Int?,
                durationMs: Int64, outcome: RunOutcome, outputTail: String?)
    case skip(job: String, host: String, at: Int64)
    case pause(job: String, until: Int64?, at: Int64)
    case resume(job: String, at: Int64)
    case define(job: String)
    case reload

    /// Nil for an entry the monitor cannot use (unknown type, bad job name, missing run id):
    /// it is acknowledged and dropped, since redelivering it would never make it valid.
    /// `now` stands in for a missing or unreadable timestamp.
    public init?(fields f: [String: String], now: Int64) {
        guard let type = f["type"] else { return nil }
        if type == "reload" {
            self = .reload
            return
        }
        guard let job = f["job"], JobName.isValid(job) else { return nil }
        let ts = Self.millis(f["ts"]) ?? now
        let host = f["host"].flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
        let runID = f["run_id"] ?? ""
        switch type {
        case "start":
            guard !runID.isEmpty else { return nil }
            self = .start(job: job, runID: runID, host: host, startedAt: Self.millis(f["started_at"]) ?? ts,
                          scheduledFor: Self.millis(f["scheduled_for"]), fence: f["fence"].flatMap { Int64($0) })
        case "finish":
            guard !runID.isEmpty else { return nil }
            let outcome = f["outcome"].flatMap(RunOutcome.init(rawValue:))
            let exitCode = f["exit_code"].flatMap { Int($0) }
            self = .finish(job: job, runID: runID, host: host, finishedAt: Self.millis(f["finished_at"]) ?? ts,
                           exitCode: exitCode, signal: f["signal"].flatMap { Int($0) },
                           durationMs: f["duration_ms"].flatMap { Int64($0) } ?? 0,
                           outcome: outcome ?? (exitCode == 0 ? .success : .failure),
                           outputTail: f["output_tail"].flatMap { $0.isEmpty ? nil : $0 })
        case "skip": self = .skip(job: job, host: host, at: ts)
        case "pause": self = .pause(job: job, until: Self.millis(f["until"]), at: ts)
        case "resume": self = .resume(job: job, at: ts)
        case "define": self = .define(job: job)
        default: return nil
        }
    }

    public var job: String? {
        switch self {
        case .start(let job, _, _, _, _, _), .finish(let job, _, _, _, _, _, _, _, _), .skip(let job, _, _),
             .pause(let job, _, _), .resume(let job, _), .define(let job):
            return job
        case .reload: return nil
        }
    }

    /// Epoch milliseconds of an RFC 3339 time, keeping the fraction `parseRFC3339` drops.
    static func millis(_ text: String?) -> Int64? {
        guard let text, !text.isEmpty, let seconds = parseRFC3339(text) else { return nil }
        guard let dot = text.firstIndex(of: ".") else { return seconds * 1000 }
        var ms: Int64 = 0
        var digits = 0
        for c in text[text.index(after: dot)...] {
            guard let d = c.wholeNumberValue, c.isASCII else { break }
            if digits < 3 { ms = ms * 10 + Int64(d) }
            digits += 1
        }
        for _ in min(digits, 3)..<3 { ms *= 10 }
        return seconds * 1000 + ms
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
