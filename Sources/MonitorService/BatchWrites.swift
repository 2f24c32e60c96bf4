import MonitorCore
import RedisLease

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
    /// `host`: the job's last run's (or the silent host), for channels grouped by host.
    mutating func delivery(channel: String, kind: String, incident: String, job: String, event: String, host: String?, body: String) {
        alertCount += 1
        let arguments = [store.outbox, "*", "channel", channel, "type", kind, "kind", incident, "job", job, "event", event,
                         "host", host ?? "", "body", body]
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
    /// `failed`: the monitor counts the run as a failure, which a success shorter than
    /// `min_runtime` is too.
    mutating func finished(_ job: String, runID: String, outcome: String, failed: Bool, durationMs: Int64?) {
        let arguments = [store.tally, "MAXLEN", "~", MonitorStore.tallyLength, "*", "type", "run", "job", job, "run_id", runID,
                         "outcome", outcome, "failed", failed ? "1" : "0", "duration_ms", durationMs.map(String.init) ?? ""]
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
            let watched = c.generation
            if case .error(let message) = check[1] { throw RedisError(.server, "reading the leader lease: \(message)") }
            guard check[1].string == owner else {
                _ = try c.command(["UNWATCH"])
                return false
            }
            if try commit(c, batch.writes, onConnection: watched) {
                for reply in try c.pipeline(batch.acks) where reply.isError {
                    throw RedisError(.server, "acknowledging a batch: \(reply)")
                }
                return true
            }
            // The lease key changed between WATCH and EXEC: look again.
        }
        throw RedisError(.server, "persisting a batch: the leader key kept changing")
    }

    /// MULTI, the writes, EXEC, on the connection that holds the WATCH (a reconnect in between
    /// would run them unguarded: that throws instead). False when EXEC refused to run (the
    /// WATCHed key changed). Redis runs every queued command even after one fails: such a batch
    /// is an error, left unacknowledged so it is applied again, and the reason said loudly.
    private static func commit(_ c: RedisConnection, _ writes: RESPBuffer, onConnection watched: Int) throws -> Bool {
        let multi = RESPBuffer([["MULTI"]])
        let exec = RESPBuffer([["EXEC"]])
        let last = writes.count + 1
        var executed = false
        try c.pipeline([multi, writes, exec], resendOnReconnect: false, onConnection: watched) { index, reply in
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
