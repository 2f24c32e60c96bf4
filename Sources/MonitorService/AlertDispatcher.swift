import Foundation
import HTTPClient
import JobwatchCore
import Logging
import RedisLease
import Reporting
import ServiceLifecycle

/// Delivers the leader's alerts: reads `<prefix>mon:outbox` (group `dispatch`) and POSTs each
/// entry's body to its channel, acknowledging it only once the channel took it, so an alert
/// survives restarts and failovers until delivered (docs/monitor-design.md, "Alert delivery").
///
/// Each channel has its own lane that sends in stream order — a resolve never overtakes its
/// trigger — while one slow or failing channel never holds up the others. Only the leader
/// sends; a replica that loses the lease drops its lanes and the entries stay pending for the
/// next leader, which claims them when it takes over.
public final class AlertDispatcher: Service, @unchecked Sendable {
    private let environment: MonitorEnvironment
    private let leadership: Leadership
    private let reader: RedisWorker
    private let lock = NSLock()
    private var settings: DeliverySettings

    static let group = "dispatch"
    static let pollMs = 1000

    public init(environment: MonitorEnvironment, leadership: Leadership) {
        self.environment = environment
        self.leadership = leadership
        // XREADGROUP BLOCK holds its connection; the timeout must outlast the block.
        reader = environment.makeWorker("redis-dispatch", timeoutMs: Self.pollMs + 4000)
        settings = DeliverySettings(environment.config.monitor, logger: environment.logger)
    }

    /// SIGHUP: new channel URLs, keys and retry timings apply to the next attempt.
    public func reload(_ monitor: MonitorConfig) {
        let fresh = DeliverySettings(monitor, logger: environment.logger)
        lock.withLock { settings = fresh }
    }

    var currentSettings: DeliverySettings { lock.withLock { settings } }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                guard self.leadership.isLeader else {
                    try await Task.sleep(nanoseconds: 200_000_000)
                    continue
                }
                do {
                    try await self.leadTerm()
                } catch is CancellationError {
                    return
                } catch {
                    self.environment.logger.warning("alert dispatch: \(error)")
                    try await Task.sleep(nanoseconds: 1_000_000_000)
                }
            }
        }
    }

    /// One stretch as leader: claim what earlier leaders left pending, then follow the
    /// stream, until the lease is lost.
    private func leadTerm() async throws {
        let outbox = environment.store.outbox
        let me = environment.replica
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            var lanes: [String: AsyncStream<OutboxEntry>.Continuation] = [:]
            defer { lanes.values.forEach { $0.finish() } }
            func enqueue(_ entries: [StreamEntry]) {
                for item in entries {
                    let entry = OutboxEntry(item)
                    if lanes[entry.channel] == nil {
                        let (stream, continuation) = AsyncStream<OutboxEntry>.makeStream()
                        lanes[entry.channel] = continuation
                        let lane = ChannelLane(channel: entry.channel, dispatcher: self)
                        tasks.addTask { await lane.drain(stream) }
                    }
                    lanes[entry.channel]!.yield(entry)
                }
            }
            let pending = try await reader.run { c in try Self.claimPending(c, outbox: outbox, consumer: me) }
            enqueue(pending)
            var trimmedAt: Int64 = 0
            while leadership.isLeader, !Task.isCancelled {
                let now = environment.clock()
                if now - trimmedAt >= Self.trimEveryMs {
                    // Housekeeping: a failure is logged and retried in an hour, never allowed to
                    // hold up delivery.
                    trimmedAt = now
                    let cutoff = now - Int64(environment.config.monitor.historyDays) * 86_400_000
                    do {
                        let removed = try await reader.run { c in try Self.trimDelivered(c, outbox: outbox, olderThanMs: cutoff) }
                        if removed > 0 { logger.info("alert dispatch: trimmed \(removed) delivered alerts older than history_days") }
                    } catch {
                        logger.warning("alert dispatch: trimming the outbox: \(error)")
                    }
                }
                let reply = try await reader.command([
                    "XREADGROUP", "GROUP", Self.group, me, "COUNT", "100", "BLOCK", String(Self.pollMs),
                    "STREAMS", outbox, ">",
                ])
                if case .error(let message) = reply {
                    if message.hasPrefix("NOGROUP") { _ = try await reader.run { c in try Self.claimPending(c, outbox: outbox, consumer: me) } }
                    else { throw RedisError(.server, message) }
                }
                enqueue(StreamEntry.entries(ofRead: reply))
            }
            lanes.values.forEach { $0.finish() }
            lanes.removeAll()
            try await tasks.waitForAll()
        }
    }

    /// Creates the group if needed (from the stream's start: alerts written before the
    /// first dispatcher ran are still owed) and takes over every pending entry: only the
    /// leader dispatches, so whoever held them is gone or no longer sending.
    static func claimPending(_ c: RedisConnection, outbox: String, consumer: String) throws -> [StreamEntry] {
        let created = try c.command(["XGROUP", "CREATE", outbox, group, "0", "MKSTREAM"])
        if case .error(let message) = created, !message.hasPrefix("BUSYGROUP") { throw RedisError(.server, message) }
        var claimed: [StreamEntry] = []
        var cursor = "0-0"
        repeat {
            let reply = try c.command(["XAUTOCLAIM", outbox, group, consumer, "0", cursor, "COUNT", "1000"])
            if case .error(let message) = reply { throw RedisError(.server, message) }
            let page = StreamEntry.entries(ofAutoclaim: reply)
            claimed += page.entries
            cursor = page.cursor
        } while cursor != "0-0"
        return claimed.sorted { OutboxEntry.idOrder($0.id, $1.id) }
    }

    static let trimEveryMs: Int64 = 3_600_000

    /// KEYS: outbox   ARGV: group, cutoff stream id. Trims entries below the cutoff, but never
    /// one the group has not read yet or still has pending (an alert owed to a channel that
    /// has been failing for longer than history_days stays until it is delivered).
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

    /// Removes delivered alerts older than `olderThanMs` (epoch ms) from the outbox; returns how many.
    static func trimDelivered(_ c: RedisConnection, outbox: String, olderThanMs: Int64) throws -> Int {
        let reply = try c.evaluate(trimScript, keys: [outbox], args: [group, "\(max(0, olderThanMs))-0"])
        if case .error(let message) = reply { throw RedisError(.server, "trimming the outbox: \(message)") }
        return reply.integer.map(Int.init) ?? 0
    }

    // MARK: What lanes call back into

    var isLeader: Bool { leadership.isLeader }
    var logger: Logger { environment.logger }

    /// `result`: `sent` or `refused` when a channel answered for good, counted for `/metrics`
    /// in the same transaction as the acknowledgement (so a crash between them cannot count an
    /// alert twice or not at all); nil for an entry with nothing left to send.
    func acknowledge(_ entry: OutboxEntry, result: String?) async {
        let store = environment.store
        let ack = ["XACK", store.outbox, Self.group, entry.id]
        do {
            if let result {
                let tally = ["XADD", store.tally, "MAXLEN", "~", MonitorStore.tallyLength, "*", "type", "alert",
                             "channel", entry.channel, "kind", entry.kind, "event", entry.event, "result", result]
                let replies = try await environment.shared.run { c in try c.pipeline([["MULTI"], ack, tally, ["EXEC"]]) }
                if let failed = replies.first(where: \.isError) { throw RedisError(.server, "\(failed)") }
            } else {
                _ = try await environment.shared.command(ack)
            }
        } catch {
            // Unacknowledged, the entry is re-sent by the next leader: at-least-once, as documented.
            logger.warning("alert dispatch: XACK \(entry.id) failed: \(error)")
        }
    }

    /// `mon:delivery` keeps the last problem per job for `jobctl status`; a later success on
    /// the same channel clears it.
    func record(problem: DeliveryProblem?, job: String, channel: String) async {
        let key = environment.store.delivery
        do {
            if let problem {
                _ = try await environment.shared.command(["HSET", key, job, problem.json])
            } else {
                _ = try await environment.shared.run { c in
                    if let old = try c.command(["HGET", key, job]).string, DeliveryProblem.channel(ofJSON: old) == channel {
                        _ = try c.command(["HDEL", key, job])
                    }
                }
            }
        } catch {
            logger.warning("alert dispatch: cannot record delivery state of \(job): \(error)")
        }
    }
}

/// One `mon:outbox` entry: `channel`, `type`, `job`, `event`, `body` (JSON).
struct OutboxEntry: Sendable {
    let id: String
    let channel: String
    let job: String
    let event: String
    /// The incident's kind (`missed`, `failed`, `lost`…); `unknown` in entries written before
    /// it was recorded.
    let kind: String
    let body: String
    /// Nil when the entry was trimmed away while pending: nothing left to send.
    let isDeleted: Bool

    init(_ entry: StreamEntry) {
        id = entry.id
        let f = entry.fields ?? [:]
        channel = f["channel"] ?? ""
        job = f["job"] ?? ""
        event = f["event"] ?? ""
        kind = f["kind"] ?? "unknown"
        body = f["body"] ?? ""
        isDeleted = entry.fields == nil
    }

    /// Stream ids are `ms-seq`; compared as numbers, not text.
    static func idOrder(_ a: String, _ b: String) -> Bool {
        func parts(_ id: String) -> (UInt64, UInt64) {
            let p = id.split(separator: "-")
            return (UInt64(p.first ?? "") ?? 0, UInt64(p.count > 1 ? p[1] : "") ?? 0)
        }
        return parts(a) < parts(b)
    }
}

/// Why a channel refused an alert for good, as `jobctl status` shows it.
struct DeliveryProblem: Sendable {
    let channel: String
    let event: String
    let status: Int?
    let error: String
    let at: Int64

    var json: String {
        let object: [String: Any] = [
            "channel": channel, "event": event, "status": status.map { $0 as Any } ?? NSNull(), "error": error,
            "at": Timestamp.format(ms: at),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func channel(ofJSON text: String) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["channel"] as? String
    }
}

/// Sends one channel's alerts in order, retrying each until the channel takes it or refuses
/// it for good.
struct ChannelLane: Sendable {
    let channel: String
    let dispatcher: AlertDispatcher

    enum Verdict: Equatable {
        case delivered
        case retry(afterMs: Int64, String)
        case permanent(status: Int?, String)
    }

    func drain(_ stream: AsyncStream<OutboxEntry>) async {
        let sender = Sender(label: "jobmond.alerts.\(channel)")
        for await entry in stream {
            guard await deliver(entry, with: sender) else { return }
        }
    }

    /// False once this replica must stop sending (lease lost, shutdown); the entry stays
    /// pending in Redis for the next leader.
    private func deliver(_ entry: OutboxEntry, with sender: Sender) async -> Bool {
        let logger = dispatcher.logger
        if entry.isDeleted {
            await dispatcher.acknowledge(entry, result: nil)
            return true
        }
        var failures = 0
        while true {
            guard dispatcher.isLeader, !Task.isCancelled else { return false }
            let settings = dispatcher.currentSettings
            let verdict: Verdict
            if let target = settings.channels[channel] {
                verdict = Self.verdict(await sender.post(url: target.url, body: Array(entry.body.utf8)), now: Timestamp.nowMs())
            } else {
                verdict = .permanent(status: nil, settings.unusable[channel] ?? "no channel \"\(channel)\" in monitor.channels")
            }
            let about = "\(entry.event) for \(entry.job) to \(channel)"
            switch verdict {
            case .delivered:
                logger.info("alert delivered: \(about)")
                await dispatcher.acknowledge(entry, result: "sent")
                await dispatcher.record(problem: nil, job: entry.job, channel: channel)
                return true
            case .permanent(let status, let why):
                logger.error("alert refused, not retried: \(about): \(why)")
                let problem = DeliveryProblem(channel: channel, event: entry.event, status: status, error: why, at: Timestamp.nowMs())
                await dispatcher.record(problem: problem, job: entry.job, channel: channel)
                await dispatcher.acknowledge(entry, result: "refused")
                return true
            case .retry(let hinted, let why):
                let backoff = min(settings.retryMaxMs, settings.retryInitialMs << min(failures, 30))
                let wait = hinted > 0 ? hinted : backoff
                failures += 1
                logger.warning("alert not delivered (attempt \(failures)), retrying in \(wait) ms: \(about): \(why)")
                guard await pause(ms: wait) else { return false }
            }
        }
    }

    /// Sleeps in short steps so a lost lease or a shutdown is noticed within half a second.
    private func pause(ms: Int64) async -> Bool {
        var left = ms
        while left > 0 {
            let step = min(left, 500)
            do { try await Task.sleep(nanoseconds: UInt64(step) * 1_000_000) } catch { return false }
            left -= step
            guard dispatcher.isLeader else { return false }
        }
        return true
    }

    /// 2xx delivered; 429 waits for `Retry-After` (default 30 s); 408, 5xx and no answer back
    /// off; any other status (400 bad payload, 403/404 revoked webhook...) cannot succeed
    /// by repetition. `.retry(afterMs: 0, ...)` means "use the backoff".
    static func verdict(_ result: Result<HTTPSession.Response, Error>, now: Int64) -> Verdict {
        switch result {
        case .failure(let error):
            return .retry(afterMs: 0, "\(error)")
        case .success(let response):
            let excerpt = String(response.text.prefix(300))
            switch response.status {
            case 200..<300: return .delivered
            case 429:
                let hinted = response.headers["retry-after"].flatMap { retryAfterMs($0, now: now) } ?? 30_000
                return .retry(afterMs: max(1, hinted), "HTTP 429 (rate limited) \(excerpt)")
            case 408, 500..<600: return .retry(afterMs: 0, "HTTP \(response.status) \(excerpt)")
            default: return .permanent(status: response.status, "HTTP \(response.status) \(excerpt)")
            }
        }
    }

    /// `Retry-After: 120` or an HTTP date; capped at an hour so a bogus value cannot stall a
    /// channel for days.
    static func retryAfterMs(_ value: String, now: Int64) -> Int64? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int64(text), seconds >= 0 { return min(seconds * 1000, 3_600_000) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return min(max(0, Int64(date.timeIntervalSince1970 * 1000) - now), 3_600_000)
    }
}

/// libcurl blocks: each lane posts from its own serial queue, off the async thread pool, over
/// one kept-alive connection.
final class Sender: @unchecked Sendable {
    private let queue: DispatchQueue
    private var session: HTTPSession?

    init(label: String) { queue = DispatchQueue(label: label) }

    func post(url: String, body: [UInt8]) async -> Result<HTTPSession.Response, Error> {
        await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result {
                    if self.session == nil { self.session = try HTTPSession(connectTimeout: 5, timeout: 15, bodyLimit: 64 * 1024) }
                    return try self.session!.send("POST", url: url, headers: ["Content-Type: application/json"], body: body)
                })
            }
        }
    }
}

/// The channels with their secrets read, and the retry timings (`monitor:` section).
struct DeliverySettings: Sendable {
    /// Where each channel's alerts go. The body in the outbox is complete (PagerDuty's
    /// routing key included), so only the URL is needed here.
    struct Target: Sendable {
        let url: String
    }

    static let pagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

    var channels: [String: Target] = [:]
    /// Channels whose secret could not be read, and why.
    var unusable: [String: String] = [:]
    let retryInitialMs: Int64
    let retryMaxMs: Int64

    init(_ monitor: MonitorConfig, logger: Logger) {
        retryInitialMs = max(1, monitor.retryInitial.milliseconds)
        retryMaxMs = max(retryInitialMs, monitor.retryMax.milliseconds)
        for (name, channel) in monitor.channels {
            do {
                let secret = try channel.target.resolve()
                switch channel.kind {
                case .pagerduty: channels[name] = Target(url: channel.url ?? Self.pagerDutyURL)
                case .slack, .webhook: channels[name] = Target(url: secret)
                }
            } catch {
                logger.error("channel \(name): \(error)")
                unusable[name] = "channel \(name): \(error)"
            }
        }
    }
}
