import Foundation
import JobwatchCore
import MonitorCore
import RedisLease

/// Public API of this file (shared with the HTTP API, AlertDispatcher and the tests):
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
///
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
    /// Host → reports waiting in its spool, written by `jobrun`/`jobctl flush` (RunReporter).
    public var spool: String { prefix + "mon:spool" }
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

    /// KEYS: stream   ARGV: group, cutoff stream id. Trims entries below the cutoff, but never
    /// one the group has not read yet or still has pending.
    static let trimScript = RedisScript("""
        local function older(a, b)
          local am, as = string.match(a, '^(%d+)-(%d+)$')
          local bm, bs = string.match(b, '^(%d+)-(%d+)$')
          am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
          return am < bm or (am == bm and as < bs)
        end
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        local cutoff = ARGV[2]
        local found = false
        for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
          local info = {}
          for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
          if info['name'] == ARGV[1] then
            found = true
            if older(info['last-delivered-id'], cutoff) then cutoff = info['last-delivered-id'] end
          end
        end
        if not found then return 0 end
        local pending = redis.call('XPENDING', KEYS[1], ARGV[1])
        if pending[1] > 0 and older(pending[2], cutoff) then cutoff = pending[2] end
        return redis.call('XTRIM', KEYS[1], 'MINID', cutoff)
        """)

    /// Removes entries older than `olderThanMs` (epoch ms) that `group` has read and
    /// acknowledged; returns how many.
    static func trimConsumed(_ c: RedisConnection, stream: String, group: String, olderThanMs: Int64) throws -> Int {
        let reply = try c.evaluate(trimScript, keys: [stream], args: [group, "\(max(0, olderThanMs))-0"])
        if case .error(let message) = reply { throw RedisError(.server, "trimming \(stream): \(message)") }
        return reply.integer.map(Int.init) ?? 0
    }

    /// Every jobmond start joins the groups under a new consumer name; a leader forgets those
    /// of replicas gone for over an hour that hold nothing pending (entries a dead consumer
    /// still holds are claimed first, never dropped). Returns how many it removed.
    static func forgetIdleConsumers(_ c: RedisConnection, stream: String, group: String, keeping me: String,
                                    idleMs: Int64 = 3_600_000) throws -> Int {
        var removed = 0
        for consumer in try c.command(["XINFO", "CONSUMERS", stream, group]).array ?? [] {
            let fields = consumer.array ?? []
            var info: [String: RedisReply] = [:]
            for i in stride(from: 0, to: fields.count - 1, by: 2) { info[fields[i].string ?? ""] = fields[i + 1] }
            guard let name = info["name"]?.string, name != me, info["pending"]?.integer == 0,
                  let idle = info["idle"]?.integer, idle > idleMs else { continue }
            _ = try c.command(["XGROUP", "DELCONSUMER", stream, group, name])
            removed += 1
        }
        return removed
    }
}
