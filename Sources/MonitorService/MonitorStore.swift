import Foundation
import JobwatchCore
import Logging
import MonitorCore
import RedisLease
import Reporting

/// Public API of this file (shared with the HTTP API, AlertDispatcher and `jobctl`):
///
///     public struct MonitorEnvironment: Sendable
///         init(config: GlobalConfig, replica: String = MonitorEnvironment.defaultReplica(),
///              logger: Logger, clock: @escaping @Sendable () -> Int64 = Timestamp.nowMs)
///         var config: GlobalConfig; var prefix: String; var replica: String
///         var logger: Logger; var clock: @Sendable () -> Int64
///         var shared: RedisWorker          // reads and XADDs from HTTP handlers
///         func makeWorker(_ name: String, timeoutMs: Int = 1000) -> RedisWorker  // a private connection
///         var store: MonitorStore
///
///     public struct MonitorStore: Sendable
///         init(prefix: String)
///         events, state, defs, changes, outbox, delivery, leader, tally: String   // key names
///         func run(_ job: String, _ runID: String) -> String; func runs(_ job: String) -> String
///         func pauseEntry(job: String, until: Int64?, at: Int64) -> [String]  // XADD arguments
///         func resumeEntry(job: String, at: Int64) -> [String]
///         func defineEntry(job: String, at: Int64) -> [String]   // after HSET mon:defs job yaml
///         func reloadEntry(at: Int64) -> [String]                 // jobs.d changed on disk
///         static func encode(_ monitor: JobMonitor) -> String; static func decodeMonitor(_ json: String) -> JobMonitor?
///         func loadMonitors(_ c: RedisConnection, unreadable: ((String) -> Void)? = nil) throws -> MonitorTable
///
/// Control entries (`pause`, `resume`, `define`, `reload`) go through `<prefix>events` like
/// run reports, so the single writer applies them in order with everything else and a
/// blocked leader wakes at once; the HTTP API never touches job state itself.
public struct MonitorEnvironment: Sendable {
    public var config: GlobalConfig
    public var prefix: String { config.keyPrefix }
    /// The consumer name in the `jobmond` group and the leader lease's owner value.
    public var replica: String
    public var logger: Logger
    /// Epoch milliseconds; the real clock in production and tests alike.
    public var clock: @Sendable () -> Int64
    /// For HTTP handlers: short commands, pipelined across concurrent requests.
    public let shared: RedisWorker

    public init(config: GlobalConfig, replica: String = MonitorEnvironment.defaultReplica(), logger: Logger,
                clock: @escaping @Sendable () -> Int64 = { Timestamp.nowMs() }) {
        self.config = config
        self.replica = replica
        self.logger = logger
        self.clock = clock
        shared = Self.worker(config: config, name: "redis-shared", timeoutMs: 1000)
    }

    public var store: MonitorStore { MonitorStore(prefix: prefix) }

    /// A connection of its own, for work that blocks (XREADGROUP BLOCK) or must never wait
    /// behind others (the lease renewal).
    public func makeWorker(_ name: String, timeoutMs: Int = 1000) -> RedisWorker {
        Self.worker(config: config, name: name, timeoutMs: timeoutMs)
    }

    public static func defaultReplica() -> String {
        "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Monitor state lives on one master: a quorum's first master, or Sentinel's current one
    /// (the connection follows failovers itself).
    private static func worker(config: GlobalConfig, name: String, timeoutMs: Int) -> RedisWorker {
        RedisWorker(name: name) {
            let password = try config.redisPassword?.resolve()
            return try RedisTopology.parse(config.redis).withPassword(password).primaryConnection(timeoutMs: timeoutMs)
        }
    }
}

/// The monitor's Redis key layout (docs/monitor-design.md) and the codecs of what it stores.
public struct MonitorStore: Sendable {
    public let prefix: String

    public init(prefix: String) { self.prefix = prefix }

    public var events: String { prefix + "events" }
    public var state: String { prefix + "mon:state" }
    public var defs: String { prefix + "mon:defs" }
    public var changes: String { prefix + "mon:changes" }
    public var outbox: String { prefix + "mon:outbox" }
    public var delivery: String { prefix + "mon:delivery" }
    public var leader: String { prefix + "mon:leader" }
    /// One entry per run the leader finished applying and per alert a channel took or refused:
    /// what `/metrics` counts, exactly (`FleetMetrics`).
    public var tally: String { prefix + "mon:tally" }
    /// When a leader last wrote (epoch ms, at least every 5 s): how long no monitor ran.
    public var alive: String { prefix + "mon:alive" }
    static let tallyLength = "100000"
    public func run(_ job: String, _ runID: String) -> String { prefix + "mon:run:\(job):\(runID)" }
    public func runs(_ job: String) -> String { prefix + "mon:runs:\(job)" }
    public func lock(_ job: String) -> String { LeaseKeys(prefix: prefix, job: job).lock }
    public func fence(_ job: String) -> String { LeaseKeys(prefix: prefix, job: job).fence }

    static let group = "jobmond"

    public func pauseEntry(job: String, until: Int64?, at: Int64) -> [String] {
        control("pause", job: job, at: at) + ["until", until.map { Timestamp.format(ms: $0) } ?? ""]
    }

    public func resumeEntry(job: String, at: Int64) -> [String] { control("resume", job: job, at: at) }

    /// Written after `HSET mon:defs <job> <yaml>` so the leader re-reads that definition.
    public func defineEntry(job: String, at: Int64) -> [String] { control("define", job: job, at: at) }

    public func reloadEntry(at: Int64) -> [String] { control("reload", job: "", at: at) }

    private func control(_ type: String, job: String, at: Int64) -> [String] {
        ["XADD", events, "MAXLEN", "~", "1000000", "*", "type", type, "job", job, "ts", Timestamp.format(ms: at)]
    }

    /// Written by hand (`StateJSON.swift`): the leader encodes every touched job per batch.
    public static func encode(_ monitor: JobMonitor) -> String { monitor.json }

    public static func encodeRun(_ run: RunRecord) -> String { run.json }

    // JSONDecoder is a class; one per thread keeps it off the allocation path of every read.

    public static func decodeMonitor(_ json: String) -> JobMonitor? {
        try? threadDecoder().decode(JobMonitor.self, from: Data(json.utf8))
    }

    public static func decodeRun(_ json: String) -> RunRecord? {
        try? threadDecoder().decode(RunRecord.self, from: Data(json.utf8))
    }

    private static func threadDecoder() -> JSONDecoder {
        let key = "jobwatch.monitor.decoder"
        if let d = Thread.current.threadDictionary[key] as? JSONDecoder { return d }
        let d = JSONDecoder()
        Thread.current.threadDictionary[key] = d
        return d
    }

    /// Every job's state, by HSCAN so 100,000 jobs never arrive as one giant reply. A state
    /// that cannot be decoded is skipped and named to `unreadable`.
    public func loadMonitors(_ c: RedisConnection, unreadable: ((String) -> Void)? = nil) throws -> MonitorTable {
        let jobs = try c.command(["HLEN", state]).integer ?? 0
        var monitors = MonitorTable(minimumCapacity: Int(jobs))
        var cursor = "0"
        repeat {
            let reply = try c.command(["HSCAN", state, cursor, "COUNT", "1000"])
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let items = parts[1].array else {
                throw RedisError(.protocolViolation, "unexpected HSCAN reply: \(reply)")
            }
            cursor = next
            for i in stride(from: 0, to: items.count - 1, by: 2) {
                guard let job = items[i].string, let json = items[i + 1].string else { continue }
                if let monitor = Self.decodeMonitor(json) { monitors[job] = monitor } else { unreadable?(job) }
            }
        } while cursor != "0"
        return monitors
    }
}

/// Everything one batch changes, written by `writeAsLeader` in one MULTI/EXEC guarded by a
/// WATCH on the leader lease, so a replica that lost the lease mid-batch writes nothing. The
/// batch is acknowledged only once its writes committed without an error: a crash in between
/// re-delivers it, and the idempotent core applies it again without effect.
struct BatchWrites {
    let store: MonitorStore
    let historyMs: Int64
    let now: Int64
    /// Written in Redis's wire format as the batch is applied; `transaction(monitors:)` adds
    /// the state entries last.
    private(set) var writes = RESPBuffer()
    private(set) var dirtyJobs: Set<String> = []
    private(set) var acks: [String] = []
    private(set) var alertCount = 0
    private var trimmedJobs: Set<String> = []
    private var runs: [RunKey: PendingRun] = [:]

    /// `expectedEvents`: how many reports the batch holds, to size its buffer once.
    init(store: MonitorStore, historyMs: Int64, now: Int64, expectedEvents: Int = 0) {
        self.store = store
        self.historyMs = historyMs
        self.now = now
        writes = RESPBuffer(reservingCapacity: expectedEvents * 1_024)
    }

    var isEmpty: Bool { writes.count == 0 && runs.isEmpty && dirtyJobs.isEmpty && acks.isEmpty }

    mutating func touched(_ job: String) { dirtyJobs.insert(job) }
    mutating func ack(_ id: String) { acks.append(id) }

    /// The run's record and its place in the job's history, both kept `history_days`, written
    /// once per batch in their newest form: a run that starts and finishes within one batch
    /// (a backlog being caught up) is one SET. A finish whose start was recorded is already
    /// listed: only its record changes.
    mutating func run(_ job: String, _ run: RunRecord, finished: Bool, listed: Bool = false) {
        let key = RunKey(job: job, runID: run.runID)
        runs[key] = PendingRun(record: run, needsIndex: runs[key]?.needsIndex == true || !listed)
        // Trimming the index at one finish in sixteen (by the run id's hash: no random-number
        // syscall per event) keeps that command off the common path; the index then outlives
        // its records by a few runs, whose ids readers skip (their records have expired).
        if finished, run.runID.hashValue & 15 == 0, trimmedJobs.insert(job).inserted {
            writes.command("ZREMRANGEBYSCORE", 3)
            writes.argument(store.runs(job))
            writes.argument("-inf")
            writes.argument("(" + String(now - historyMs))
        }
    }

    private struct RunKey: Hashable {
        let job: String
        let runID: String
    }

    private struct PendingRun {
        let record: RunRecord
        let needsIndex: Bool
    }

    mutating func change(_ job: String, from: String, to: String, at: Int64, reason: String, alert: String) {
        writes.command("XADD", 17)
        for argument in [store.changes, "MINID", "~"] { writes.argument(argument) }
        writes.argument(now - historyMs)
        for argument in ["*", "job", job, "from", from, "to", to, "at"] { writes.argument(argument) }
        writes.argument(at)
        for argument in ["reason", reason, "alert", alert] { writes.argument(argument) }
    }

    /// `kind`: the channel's type; `incident`: the alert's kind (`missed`, `failed`, `lost`…).
    mutating func delivery(channel: String, kind: String, incident: String, job: String, event: String, body: String) {
        alertCount += 1
        let arguments = [store.outbox, "*", "channel", channel, "type", kind, "kind", incident, "job", job, "event", event,
                         "body", body]
        writes.command("XADD", arguments.count)
        for argument in arguments { writes.argument(argument) }
    }

    /// The leader's heartbeat, `mon:alive`.
    mutating func alive() {
        writes.command("SET", 2)
        writes.argument(store.alive)
        writes.argument(now)
    }

    /// A run the core has just finished (once per run id: a repeated finish changes nothing and
    /// is not counted), for `/metrics`; committed with the batch that applied it.
    mutating func finished(_ job: String, runID: String, outcome: String, durationMs: Int64?) {
        let arguments = [store.tally, "MAXLEN", "~", MonitorStore.tallyLength, "*", "type", "run", "job", job, "run_id", runID,
                         "outcome", outcome, "duration_ms", durationMs.map(String.init) ?? ""]
        writes.command("XADD", arguments.count)
        for argument in arguments { writes.argument(argument) }
    }

    /// Writes everything in one MULTI/EXEC, only while `owner` holds the leader lease: WATCH on
    /// the lease key makes EXEC refuse to run if the key changed since it was read. The lease's
    /// own renewal changes it too, so a refused EXEC looks again and retries while the lease is
    /// still ours. Returns false when it is not (nothing is written).
    ///
    /// (A Lua script could check and write in one step, but Redis spent two thirds of such a
    /// script's time in its `redis.call` loop; MULTI runs the same commands natively.)
    static func writeAsLeader(_ c: RedisConnection, _ batch: (writes: RESPBuffer, acks: [[String]]),
                              leaderKey: String, owner: String) throws -> Bool {
        for _ in 0..<10 {
            let check = try c.pipeline([["WATCH", leaderKey], ["GET", leaderKey]])
            if case .error(let message) = check[1] { throw RedisError(.server, "reading the leader lease: \(message)") }
            guard check[1].string == owner else {
                _ = try c.command(["UNWATCH"])
                return false
            }
            if try commit(c, batch.writes) {
                for reply in try c.pipeline(batch.acks) where reply.isError {
                    throw RedisError(.server, "acknowledging a batch: \(reply)")
                }
                return true
            }
            // The lease key changed between WATCH and EXEC: look again.
        }
        throw RedisError(.server, "persisting a batch: the leader key kept changing")
    }

    /// MULTI, the writes, EXEC. False when EXEC refused to run (the WATCHed key changed).
    /// Redis runs every queued command even after one fails: such a batch is an error, left
    /// unacknowledged so it is applied again, and the reason said loudly.
    private static func commit(_ c: RedisConnection, _ writes: RESPBuffer) throws -> Bool {
        let multi = RESPBuffer([["MULTI"]])
        let exec = RESPBuffer([["EXEC"]])
        let last = writes.count + 1
        var executed = false
        try c.pipeline([multi, writes, exec], resendOnReconnect: false) { index, reply in
            if index == 0, reply.isError { throw RedisError(.server, "persisting a batch: MULTI answered \(reply.text)") }
            if index < last {
                // Each queued command answers QUEUED; an error here (a command Redis rejects
                // outright) makes EXEC abort, which says so below.
                return
            }
            if reply.isNull { return }
            if reply.isError { throw RedisError(.server, "persisting a batch: EXEC answered \(reply.text)") }
            guard reply.isArray else { throw RedisError(.protocolViolation, "persisting a batch: EXEC answered neither results nor null") }
            for i in 0..<reply.count {
                if let result = reply[i], result.isError { throw RedisError(.server, "persisting a batch: \(result.text)") }
            }
            executed = true
        }
        return executed
    }

    /// The batch's writes with every touched job's state, then its acknowledgements; state
    /// entries and acks are chunked to keep each command and reply small.
    mutating func transaction(monitors: MonitorTable) -> (writes: RESPBuffer, acks: [[String]]) {
        // In any order: the transaction applies them at once.
        for (key, pending) in runs {
            writes.command("SET", 4)
            writes.argument(store.run(key.job, key.runID))
            writes.argument(MonitorStore.encodeRun(pending.record))
            writes.argument("PX")
            writes.argument(historyMs)
            if pending.needsIndex {
                writes.command("ZADD", 3)
                writes.argument(store.runs(key.job))
                writes.argument(pending.record.startedAt)
                writes.argument(key.runID)
            }
        }
        let jobs = Array(dirtyJobs)
        for start in stride(from: 0, to: jobs.count, by: 500) {
            let chunk = jobs[start..<min(start + 500, jobs.count)].compactMap { job in
                monitors.read(job) { (job, MonitorStore.encode($0)) }
            }
            guard !chunk.isEmpty else { continue }
            writes.command("HSET", 1 + 2 * chunk.count)
            writes.argument(store.state)
            for (job, json) in chunk {
                writes.argument(job)
                writes.argument(json)
            }
        }
        let acknowledgements = stride(from: 0, to: acks.count, by: 1000).map { start in
            ["XACK", store.events, MonitorStore.group] + acks[start..<min(start + 1000, acks.count)]
        }
        return (writes, acknowledgements)
    }
}
