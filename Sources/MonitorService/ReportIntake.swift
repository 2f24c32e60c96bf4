import CronSchedule
import Foundation
import JobwatchCore
import MonitorCore
import RedisLease
import Reporting

/// Run reports that arrive over HTTP become the same `RunEvent`s `jobrun` appends to the
/// `<prefix>events` stream, and are appended there: the leader applies both the same way,
/// and a report taken while no leader runs waits in the stream. Nothing here touches job
/// state. Concurrent reports share Redis round trips (`RedisWorker` pipelines queued
/// commands), which is what keeps HTTP intake fast under load.
public struct ReportIntake: Sendable {
    let redis: RedisWorker
    let keyPrefix: String

    public init(redis: RedisWorker, keyPrefix: String) {
        self.redis = redis
        self.keyPrefix = keyPrefix
    }

    /// `POST /api/v1/jobs/{job}/runs/{run_id}/start|finish`, `POST /api/v1/jobs/{job}/skip`
    /// (`runID` nil: taken from the body, or made up). The body is `RunEvent.json()`'s shape;
    /// absent times default to now, absent optional fields to null.
    public func report(_ kind: RunEvent.Kind, job: String, runID: String?, body: [UInt8]) async throws {
        try await append(try Self.event(kind, job: job, runID: runID, body: body))
    }

    /// The event a report body describes, every field checked (`APIError` 400 naming the
    /// first bad one); `job` and `runID` are the path's, already validated.
    static func event(_ kind: RunEvent.Kind, job: String, runID: String?, body: [UInt8]) throws -> RunEvent {
        let fields = try ReportFields(json: body)
        try fields.requireMatch("job", job)
        if let runID { try fields.requireMatch("run_id", runID) }
        let id = try runID ?? fields.runID("run_id") ?? Self.newRunID(prefix: "skip")
        let host = try fields.host()
        let ts = try fields.time("ts") ?? Timestamp.now()
        let values: [RunEvent.Value]
        switch kind {
        case .start:
            values = [
                try fields.integer("pid"), .text(try fields.time("started_at") ?? ts),
                try fields.time("scheduled_for").map(RunEvent.Value.text) ?? .null,
                try fields.integer("fence"), try fields.text("command"), try fields.integer("lease_ms", atLeast: 1),
            ]
        case .finish:
            let exitCode = try fields.integer("exit_code")
            let outcome = try fields.outcome(default: exitCode == .number(0) || exitCode == .null ? .success : .failure)
            values = [
                .text(try fields.time("finished_at") ?? ts), exitCode, try fields.integer("signal"),
                try fields.integer("duration_ms", atLeast: 0).orZero, .text(outcome.rawValue),
                .text(Self.tail(try fields.text("output_tail").string ?? "")),
                try fields.integer("attempts", atLeast: 1), try fields.integers("attempt_exit_codes"),
                try fields.text("reason"),
            ]
        case .skip:
            let reason = try fields.text("reason").string ?? RunEvent.SkipReason.lockHeld.rawValue
            guard RunEvent.SkipReason(rawValue: reason) != nil else {
                throw APIError.badRequest("reason: must be lock_held or occurrence_taken, got \"\(reason)\"")
            }
            values = [.text(reason), try fields.text("holder"), try fields.time("scheduled_for").map(RunEvent.Value.text) ?? .null]
        }
        return RunEvent(kind: kind, job: job, runID: id, host: host, ts: ts, values: values)
    }

    /// `/ping/{job}[/start|/fail|/{exit_code}]`. A ping start is remembered in
    /// `<prefix>mon:ping:<job>` (for a week) so the ping that ends it finishes the same run,
    /// with its real duration; a finish without one is a run of zero length. The POST body,
    /// if any, is kept as the run's output tail, as healthchecks does.
    public func ping(job: String, signal: MonitorPing.Signal, host: String, output: [UInt8]) async throws {
        let pingKey = keyPrefix + "mon:ping:" + job
        let now = Timestamp.nowMs()
        let ts = Timestamp.format(ms: now)
        if signal == .start {
            let runID = Self.newRunID(prefix: "ping")
            _ = try await redis.command(["SET", pingKey, "\(runID) \(now)", "EX", String(7 * 86_400)])
            try await append(RunEvent(kind: .start, job: job, runID: runID, host: host, ts: ts, values: [
                .null, .text(ts), .null, .null, .text("ping"),
            ]))
            return
        }
        var runID = Self.newRunID(prefix: "ping")
        var duration: Int64 = 0
        let open = try await redis.command(["GETDEL", pingKey]).string?.split(separator: " ")
        if let open, open.count == 2, let started = Int64(open[1]) {
            runID = String(open[0])
            duration = max(0, now - started)
        }
        let exitCode: RunEvent.Value
        switch signal {
        case .success, .start: exitCode = .number(0)
        case .fail: exitCode = .null
        case .exitCode(let code): exitCode = .number(Int64(code))
        }
        let outcome: RunOutcome = exitCode == .number(0) ? .success : .failure
        try await append(RunEvent(kind: .finish, job: job, runID: runID, host: host, ts: ts, values: [
            .text(ts), exitCode, .null, .number(duration), .text(outcome.rawValue),
            .text(Self.tail(String(decoding: output, as: UTF8.self))),
        ]))
    }

    func append(_ event: RunEvent) async throws {
        let reply = try await redis.command(event.xaddArguments(keyPrefix: keyPrefix))
        if case .error(let message) = reply { throw RedisError(.server, "XADD \(keyPrefix)events: \(message)") }
    }

    /// Random enough to never collide with `jobrun`'s ids or another ping's.
    static func newRunID(prefix: String) -> String {
        prefix + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }

    /// The end of the output, at most `RunEvent.outputTailLimit` bytes, cut on a character.
    static func tail(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.count > RunEvent.outputTailLimit else { return text }
        var start = utf8.index(utf8.endIndex, offsetBy: -RunEvent.outputTailLimit)
        while start < utf8.endIndex, UTF8.isContinuation(utf8[start]) { start = utf8.index(after: start) }
        return String(text[start...])
    }
}

/// A report body's fields, each checked for its type with a reason a client can act on.
struct ReportFields {
    let object: [String: Any]

    init(json body: [UInt8]) throws {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            object = [:]
            return
        }
        guard let value = try JSONBody.parse(body) as? [String: Any] else {
            throw APIError.badRequest("body must be a JSON object")
        }
        object = value
    }

    private func present(_ name: String) -> Any? {
        guard let value = object[name], !(value is NSNull) else { return nil }
        return value
    }

    func requireMatch(_ name: String, _ expected: String) throws {
        if let value = present(name), (value as? String) != expected {
            throw APIError.badRequest("\(name): \"\(value)\" in the body does not match the path's \"\(expected)\"")
        }
    }

    func text(_ name: String) throws -> RunEvent.Value {
        guard let value = present(name) else { return .null }
        guard let s = value as? String else { throw APIError.badRequest("\(name): expected a string") }
        return .text(s)
    }

    func integer(_ name: String, atLeast minimum: Int64 = -Self.largestInteger) throws -> RunEvent.Value {
        guard let value = present(name) else { return .null }
        guard let n = (value as? NSNumber).flatMap(Self.wholeNumber), n >= minimum else {
            throw APIError.badRequest("\(name): expected an integer from \(minimum) to \(Self.largestInteger)")
        }
        return .number(n)
    }

    /// A list of integers (`attempt_exit_codes`), at most 101 (1 + the largest `retries`).
    func integers(_ name: String) throws -> RunEvent.Value {
        guard let value = present(name) else { return .null }
        guard let items = value as? [Any], !items.isEmpty, items.count <= 101 else {
            throw APIError.badRequest("\(name): expected a list of 1 to 101 integers")
        }
        var list: [Int64] = []
        for item in items {
            guard let n = (item as? NSNumber).flatMap(Self.wholeNumber) else {
                throw APIError.badRequest("\(name): expected a list of 1 to 101 integers")
            }
            list.append(n)
        }
        return .numbers(list)
    }

    /// JSON's interoperable integers (RFC 7493): whole numbers within ±(2^53 - 1), where every
    /// parser reads them exactly. Beyond, JSONSerialization itself hands over 2^63 and above
    /// wrapped to negative and large negatives rounded, so they are refused, not stored changed.
    static let largestInteger: Int64 = (1 << 53) - 1

    /// A whole number as JSON Schema counts them: `1.0` and `1e3` too, not `1.5` or `true`.
    /// JSONSerialization gives NSNumber for numbers and booleans alike; the Objective-C type
    /// code tells booleans (c, B), doubles (d, f) and integers above Int64.max (Q) apart.
    static func wholeNumber(_ n: NSNumber) -> Int64? {
        let value: Int64
        switch UInt8(bitPattern: n.objCType.pointee) {
        case UInt8(ascii: "c"), UInt8(ascii: "B"), UInt8(ascii: "Q"): return nil
        case UInt8(ascii: "d"), UInt8(ascii: "f"):
            guard let whole = Int64(exactly: n.doubleValue) else { return nil }
            value = whole
        default: value = n.int64Value
        }
        return (-largestInteger...largestInteger).contains(value) ? value : nil
    }

    /// An RFC 3339 time, normalised to the UTC-with-milliseconds form every event carries.
    func time(_ name: String) throws -> String? {
        guard let value = present(name) else { return nil }
        guard let s = value as? String, let ms = parseRFC3339Milliseconds(s) else {
            throw APIError.badRequest("\(name): expected an RFC 3339 time such as 2026-03-29T02:30:00Z")
        }
        return Timestamp.format(ms: ms)
    }

    func host() throws -> String {
        guard case .text(let host) = try text("host"), !host.isEmpty else {
            throw APIError.badRequest("host: required, a non-empty string")
        }
        return host
    }

    func runID(_ name: String) throws -> String? {
        guard case .text(let id) = try text(name) else { return nil }
        guard isValidRunID(id) else { throw APIError.badRequest(runIDMessage(id)) }
        return id
    }

    func outcome(default fallback: RunOutcome) throws -> RunOutcome {
        guard case .text(let name) = try text("outcome") else { return fallback }
        guard let outcome = RunOutcome(rawValue: name) else {
            let names = RunOutcome.allCases.map(\.rawValue).joined(separator: ", ")
            throw APIError.badRequest("outcome: must be one of \(names), got \"\(name)\"")
        }
        return outcome
    }
}

extension RunEvent.Value {
    var string: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    var orZero: RunEvent.Value { self == .null ? .number(0) : self }
}

/// Run ids become Redis keys and URL path segments, like job names.
func isValidRunID(_ id: String) -> Bool {
    !id.isEmpty && id.utf8.count <= 64 && id.utf8.allSatisfy { c in
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
    }
}

func runIDMessage(_ id: String) -> String {
    "invalid run id \"\(id)\": use 1-64 characters from A-Z a-z 0-9 _ -"
}

/// JSON request bodies, with the parser's own reason when they are not JSON.
enum JSONBody {
    static func parse(_ body: [UInt8]) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            throw APIError.badRequest("malformed JSON: \(reason(error))")
        }
    }

    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let detail = ns.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        return ns.localizedDescription
    }
}
