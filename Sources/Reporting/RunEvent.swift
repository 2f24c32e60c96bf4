#if canImport(Glibc)
import Glibc
import JobwatchCore
#endif

/// One report from `jobrun` to the monitor: a run started, a run finished, or a host found
/// the job held elsewhere and skipped it (seen, not a run).
///
/// Every event carries `type`, `job`, `run_id`, `host` and `ts` (when the event was made,
/// RFC 3339 UTC with milliseconds, e.g. `2026-03-29T01:30:00.123Z`), then its body fields,
/// in this order:
///
/// | type | body fields |
/// |---|---|
/// | `start` | `pid`, `started_at`, `scheduled_for`, `fence`, `command`, `lease_ms` |
/// | `finish` | `finished_at`, `exit_code`, `signal`, `duration_ms`, `outcome`, `output_tail`, `attempts`, `attempt_exit_codes`, `reason` |
/// | `skip` | `reason` (`lock_held` \| `occurrence_taken`), `holder`, `scheduled_for` |
///
/// Times are RFC 3339 UTC with milliseconds; `scheduled_for` is absent (JSON `null`, empty
/// stream value) for a run outside every occurrence's grace window; `signal` likewise when
/// the command was not killed by a signal; `lease_ms` (the run's `lock_ttl`, from which the
/// monitor finds a run lost when its lease expires without a finish) likewise when the run
/// holds no lease. `attempts` and `attempt_exit_codes` (a list of numbers: comma-separated on
/// the stream, a JSON array over HTTP) are null for a job without `retries`; `reason` is null
/// unless `output_rules` failed a run that exited 0. `holder` is the lock's owner value
/// (`host:pid:run_id`) for `lock_held` and the claiming run's id for `occurrence_taken`.
/// See `xaddArguments` and `httpRequest` for the two wire forms.
public struct RunEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case start, finish, skip

        /// The body fields of this kind, in wire order.
        public var fieldNames: [String] {
            switch self {
            case .start: return ["pid", "started_at", "scheduled_for", "fence", "command", "lease_ms"]
            case .finish:
                return ["finished_at", "exit_code", "signal", "duration_ms", "outcome", "output_tail",
                        "attempts", "attempt_exit_codes", "reason"]
            case .skip: return ["reason", "holder", "scheduled_for"]
            }
        }
    }

    public enum Value: Sendable, Equatable {
        case text(String)
        case number(Int64)
        case numbers([Int64])
        case null
    }

    public struct Field: Sendable, Equatable {
        public let name: String
        public let value: Value
    }

    /// The most output a finish report carries, in UTF-8 bytes.
    public static let outputTailLimit = 64 * 1024

    public let kind: Kind
    public let job: String
    public let runID: String
    public let host: String
    public let ts: String
    /// The body fields, exactly `kind.fieldNames` in that order.
    public let fields: [Field]

    /// Builds an event from values in `kind.fieldNames` order (missing trailing ones are null).
    public init(kind: Kind, job: String, runID: String, host: String, ts: String, values: [Value]) {
        self.kind = kind
        self.job = job
        self.runID = runID
        self.host = host
        self.ts = ts
        fields = kind.fieldNames.enumerated().map { i, name in Field(name: name, value: i < values.count ? values[i] : .null) }
    }

    public static func start(job: String, runID: String, host: String, pid: Int32, startedAtMs: Int64,
                             scheduledFor: Int64?, fence: Int64, command: String, leaseMs: Int64? = nil) -> RunEvent {
        RunEvent(kind: .start, job: job, runID: runID, host: host, ts: Timestamp.now(), values: [
            .number(Int64(pid)), .text(Timestamp.format(ms: startedAtMs)),
            scheduledFor.map { .text(Timestamp.format(ms: $0 * 1000)) } ?? .null, .number(fence), .text(command),
            leaseMs.map { .number($0) } ?? .null,
        ])
    }

    /// `attemptExitCodes`: every attempt's code, for a job with `retries`; `reason`: why
    /// `output_rules` failed a run that exited 0.
    public static func finish(job: String, runID: String, host: String, exitCode: Int32, signal: Int32?,
                              durationMs: Int64, outcome: String, outputTail: String,
                              attemptExitCodes: [Int32]? = nil, reason: String? = nil) -> RunEvent {
        let now = Timestamp.nowMs()
        return RunEvent(kind: .finish, job: job, runID: runID, host: host, ts: Timestamp.format(ms: now), values: [
            .text(Timestamp.format(ms: now)), .number(Int64(exitCode)), signal.map { .number(Int64($0)) } ?? .null,
            .number(durationMs), .text(outcome), .text(Self.limitTail(outputTail)),
            attemptExitCodes.map { .number(Int64($0.count)) } ?? .null,
            attemptExitCodes.map { .numbers($0.map(Int64.init)) } ?? .null,
            reason.map { .text($0) } ?? .null,
        ])
    }

    public enum SkipReason: String, Sendable { case lockHeld = "lock_held", occurrenceTaken = "occurrence_taken" }

    public static func skip(job: String, runID: String, host: String, reason: SkipReason, holder: String,
                            scheduledFor: Int64?) -> RunEvent {
        RunEvent(kind: .skip, job: job, runID: runID, host: host, ts: Timestamp.now(), values: [
            .text(reason.rawValue), .text(holder), scheduledFor.map { .text(Timestamp.format(ms: $0 * 1000)) } ?? .null,
        ])
    }

    public func value(_ name: String) -> Value? { fields.first { $0.name == name }?.value }

    /// Keeps the last `outputTailLimit` bytes, cut at a character boundary: replacing invalid
    /// UTF-8 can make 64 KiB of raw output slightly longer as text.
    static func limitTail(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.count > outputTailLimit else { return text }
        var start = utf8.index(utf8.endIndex, offsetBy: -outputTailLimit)
        while start < utf8.endIndex, UTF8.isContinuation(utf8[start]) { start = utf8.index(after: start) }
        return String(text[start...])
    }
}
