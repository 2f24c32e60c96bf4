import JobwatchCore
@testable import MonitorService
import RedisLease

/// Input: which reply (`XREADGROUP` or `XAUTOCLAIM`), then entries: each an id and field/value
/// elements — known field names and values, arbitrary or huge bytes, integers, nulls — or a
/// trimmed entry, or an element that is not an entry at all.
///
/// Properties: decoding never traps; every well-formed entry keeps its id, in order (so it is
/// acknowledged, even when unusable); a decoded event keeps the monitor's rules: a valid job
/// name, a run id for starts and finishes, a host, no negative duration, a positive lease,
/// and the stream's own values where the entry had them. The generic decoder (`StreamEntry`,
/// other streams) reads the same ids.
public func fuzzStreamEntry(_ data: UnsafeRawBufferPointer) {
    var input = FuzzInput(data)
    let autoclaim = input.bool()
    let now: Int64 = 1_780_000_000_000
    var items: [RESPReply] = []
    var ids: [String] = []
    while !input.isEmpty && items.count < 16 {
        switch input.byte() % 8 {
        case 0:
            let id = input.bytes(upTo: 40)
            items.append(.array([.bulk(id), .null]))
            ids.append(String(decoding: id, as: UTF8.self))
        case 1:
            items.append(element(&input))
        default:
            let id = input.bytes(upTo: 40)
            let fields = (0..<input.byte() % 24).map { _ in element(&input) }
            items.append(.array([.bulk(id), .array(fields)]))
            ids.append(String(decoding: id, as: UTF8.self))
            checkDecoded(fields)
        }
    }
    let reply: RESPReply = autoclaim ? .array([.bulk("0-0"), .array(items), .array([])]) : .array([.array([.bulk("jw:events"), .array(items)])])
    let entries = reply.withView { view in
        autoclaim ? EventEntry.entries(ofAutoclaim: view, now: now) : EventEntry.entries(ofRead: view, now: now)
    }
    let generic = reply.withView { view in
        autoclaim ? StreamEntry.entries(ofAutoclaim: view.decoded).entries : StreamEntry.entries(ofRead: view.decoded)
    }
    check(entries.map(\.id) == ids, "ids \(entries.map(\.id)), expected \(ids)")
    check(generic.map(\.id) == ids, "generic decoder ids \(generic.map(\.id)), expected \(ids)")
}

private let knownWords = [
    "type", "job", "run_id", "host", "ts", "started_at", "scheduled_for", "finished_at", "until", "exit_code", "signal",
    "duration_ms", "fence", "lease_ms", "outcome", "output_tail", "pid", "command", "reason", "holder",
    "start", "finish", "skip", "pause", "resume", "define", "reload", "success", "failure", "timeout",
    "nightly-backup", "r-1", "web-01", "", "0", "-1", "9223372036854775807", "-9223372036854775808", "99999999999999999999",
    "2026-03-29T01:30:00.123Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999+23:59", "1970-01-01T00:00:00-23:59",
]

private func element(_ input: inout FuzzInput) -> RESPReply {
    switch input.byte() % 8 {
    case 0, 1, 2: return .bulk(knownWords[Int(input.byte()) % knownWords.count])
    case 3, 4: return .bulk(input.bytes(upTo: 255))
    case 5: return .bulk(input.bytes(upTo: 70_000))
    case 6: return .integer(input.int64())
    default: return .null
    }
}

/// One entry's fields through `MonitorEvent(fields:now:)`, checked against the monitor's rules.
private func checkDecoded(_ fields: [RESPReply]) {
    let now: Int64 = 1_780_000_000_000
    let event = RESPReply.array(fields).withView { MonitorEvent(fields: $0, now: now) }
    func label() -> String { "\(String(describing: event)) from \(fields.map(\.shown))" }
    // The entry as text, the last of a repeated field winning; integers and nulls read as "".
    var text: [String: String] = [:]
    for i in stride(from: 0, to: fields.count - 1, by: 2) {
        guard case .bulk(let name) = fields[i] else { continue }
        if case .bulk(let value) = fields[i + 1] { text[String(decoding: name, as: UTF8.self)] = String(decoding: value, as: UTF8.self) }
        else { text[String(decoding: name, as: UTF8.self)] = "" }
    }
    let host = text["host"].flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
    guard let event else { return }
    if let job = event.job { check(JobName.isValid(job) && job == text["job"], "job name not the entry's valid one: \(label())") }
    switch event {
    case .start(_, let runID, let eventHost, _, _, _, let leaseMs):
        check(text["type"] == "start" && runID == text["run_id"] && !runID.isEmpty && eventHost == host,
              "a start without the entry's run id or host: \(label())")
        check(leaseMs.map { $0 > 0 } ?? true, "a lease of no length: \(label())")
    case .finish(_, let runID, let eventHost, _, _, _, let durationMs, _, _, _):
        check(text["type"] == "finish" && runID == text["run_id"] && !runID.isEmpty && eventHost == host,
              "a finish without the entry's run id or host: \(label())")
        check(durationMs >= 0, "a negative duration: \(label())")
    case .skip(_, let eventHost, _):
        check(text["type"] == "skip" && eventHost == host, "a skip without the entry's host: \(label())")
    case .pause, .resume, .define, .reload:
        check(text["type"].map { ["pause", "resume", "define", "reload"].contains($0) } ?? false, "a control event from \(label())")
    }
}

extension RESPReply {
    /// Short enough for a failure message.
    var shown: String {
        switch self {
        case .bulk(let bytes): return "\"" + String(decoding: bytes.prefix(80), as: UTF8.self) + (bytes.count > 80 ? "…(\(bytes.count))" : "") + "\""
        case .integer(let value): return ":\(value)"
        case .null: return "nil"
        case .array(let items): return "[" + items.map(\.shown).joined(separator: ", ") + "]"
        }
    }
}
