import Foundation
import HTTPClient
import JobwatchCore
import Logging
import RedisLease
import Reporting
import ServiceLifecycle
import Synchronization

/// Delivers the leader's alerts: reads `<prefix>mon:outbox` (group `dispatch`) and POSTs each
/// entry's body to its channel, acknowledging it only once the channel took it, so an alert
/// survives restarts and failovers until delivered (docs/monitor-design.md, "Alert delivery").
///
/// Each channel has its own lane that sends in stream order — a resolve never overtakes its
/// trigger — while one slow or failing channel never holds up the others. Only the leader
/// sends; a replica that loses the lease drops its lanes and the entries stay pending for the
/// next leader, which claims them when it takes over.
public final class AlertDispatcher: Service, Sendable {
    private let environment: MonitorEnvironment
    private let leadership: Leadership
    private let reader: RedisWorker
    private let settings: Mutex<DeliverySettings>

    static let group = "dispatch"
    static let pollMs = 1000

    public init(environment: MonitorEnvironment, leadership: Leadership) {
        self.environment = environment
        self.leadership = leadership
        // XREADGROUP BLOCK holds its connection; the timeout must outlast the block.
        reader = environment.makeWorker("redis-dispatch", timeoutMs: Self.pollMs + 4000)
        settings = Mutex(DeliverySettings(environment.monitor, logger: environment.logger))
    }

    /// SIGHUP: new channel URLs, keys and retry timings apply to the next attempt.
    public func reload(_ monitor: MonitorConfig) {
        let fresh = DeliverySettings(monitor, logger: environment.logger)
        settings.withLock { $0 = fresh }
    }

    var currentSettings: DeliverySettings { settings.withLock { $0 } }

    /// Sends during each term this replica leads (`Leadership.eachTerm`), until shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.leadership.eachTerm {
                while !Task.isCancelled {
                    do {
                        try await self.leadTerm()
                    } catch is CancellationError {
                        return
                    } catch {
                        self.environment.logger.warning("alert dispatch: \(error)")
                        try? await Task.sleep(nanoseconds: 1_000_000_000)
                    }
                }
            }
        }
    }

    /// One stretch as leader: claim what earlier leaders left pending, then follow the
    /// stream, until the term ends (this task is cancelled; the lanes, its children, too).
    private func leadTerm() async throws {
        let outbox = environment.store.outbox
        let me = environment.replica
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            var lanes: [String: ChannelLane] = [:]
            defer { lanes.values.forEach { $0.inbox.close() } }
            func enqueue(_ entries: [StreamEntry]) {
                for item in entries {
                    let entry = OutboxEntry(item)
                    if lanes[entry.channel] == nil {
                        let lane = ChannelLane(channel: entry.channel, dispatcher: self)
                        lanes[entry.channel] = lane
                        tasks.addTask { await lane.drain() }
                    }
                    lanes[entry.channel]!.inbox.append(entry)
                }
            }
            let pending = try await reader.run { c in
                let claimed = try Self.claimPending(c, outbox: outbox, consumer: me)
                _ = try MonitorStore.forgetIdleConsumers(c, stream: outbox, group: Self.group, keeping: me)
                return claimed
            }
            enqueue(pending)
            var trimmedAt: Int64 = 0
            while !Task.isCancelled {
                let now = environment.clock()
                if now - trimmedAt >= Self.trimEveryMs {
                    // Housekeeping: a failure is logged and retried in an hour, never allowed to
                    // hold up delivery.
                    trimmedAt = now
                    let cutoff = now - Int64(environment.monitor.historyDays) * 86_400_000
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
            lanes.values.forEach { $0.inbox.close() }
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

    /// Removes delivered alerts older than `olderThanMs` (epoch ms) from the outbox; returns how
    /// many. An alert owed to a channel that has been failing for longer stays until delivered.
    static func trimDelivered(_ c: RedisConnection, outbox: String, olderThanMs: Int64) throws -> Int {
        try MonitorStore.trimConsumed(c, stream: outbox, group: group, olderThanMs: olderThanMs)
    }

    // MARK: What lanes call back into

    var logger: Logger { environment.logger }

    /// `result`: `sent` or `refused` when a channel answered for good, counted for `/metrics`
    /// in the same transaction as the acknowledgement (so a crash between them cannot count an
    /// alert twice or not at all); nil for an entry with nothing left to send.
    func acknowledge(_ entries: [OutboxEntry], result: String?) async {
        guard !entries.isEmpty else { return }
        let store = environment.store
        let ack = ["XACK", store.outbox, Self.group] + entries.map(\.id)
        let tally = result.map { result in
            entries.map { ["XADD", store.tally, "MAXLEN", "~", MonitorStore.tallyLength, "*", "type", "alert",
                           "channel", $0.channel, "kind", $0.kind, "event", $0.event, "result", result] }
        } ?? []
        do {
            let replies = try await environment.shared.run { c in try c.pipeline([["MULTI"], ack] + tally + [["EXEC"]]) }
            if let failed = replies.first(where: \.isError) { throw RedisError(.server, "\(failed)") }
        } catch {
            // Unacknowledged, the entries are re-sent by the next leader: at-least-once, as documented.
            logger.warning("alert dispatch: XACK of \(entries.count) alert(s) failed: \(error)")
        }
    }

    /// `mon:delivery` keeps the last problem per job for `jobctl status`; a later success on
    /// the same channel clears it.
    func record(problem: DeliveryProblem?, jobs: [String], channel: String) async {
        let key = environment.store.delivery
        guard !jobs.isEmpty else { return }
        do {
            if let problem {
                _ = try await environment.shared.command(["HSET", key] + jobs.flatMap { [$0, problem.json] })
            } else {
                _ = try await environment.shared.run { c in
                    let old = try c.command(["HMGET", key] + jobs).array ?? []
                    let cleared = zip(jobs, old).filter { $1.string.flatMap(DeliveryProblem.channel(ofJSON:)) == channel }.map(\.0)
                    if !cleared.isEmpty { _ = try c.command(["HDEL", key] + cleared) }
                }
            }
        } catch {
            logger.warning("alert dispatch: cannot record delivery state of \(jobs.count) job(s): \(error)")
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
    /// The job's last run's host ("" when none), for `group_by: [host]`.
    let host: String
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
        host = f["host"] ?? ""
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
    /// How the Slack and webhook channels that group (`group_burst` > 0) render digests.
    var grouping: [String: AlertDigest.Grouping] = [:]
    /// Each channel's storm control; a channel without an entry sends each alert alone.
    var storm: [String: StormControl.Settings] = [:]
    let statusPageURL: String?
    let retryInitialMs: Int64
    let retryMaxMs: Int64

    init(_ monitor: MonitorConfig, logger: Logger) {
        retryInitialMs = max(1, monitor.retryInitial.milliseconds)
        retryMaxMs = max(retryInitialMs, monitor.retryMax.milliseconds)
        statusPageURL = monitor.publicURL
        for (name, channel) in monitor.channels {
            let grouped = channel.kind != .pagerduty && channel.groupBurst > 0
            if grouped {
                grouping[name] = AlertDigest.Grouping(kind: channel.kind, burst: channel.groupBurst,
                                                      intervalMs: channel.groupInterval.milliseconds, groupBy: channel.groupBy)
            }
            storm[name] = StormControl.Settings(
                burst: grouped ? channel.groupBurst : 0, waitMs: channel.groupWait.milliseconds,
                intervalMs: channel.groupInterval.milliseconds, repeatIntervalMs: channel.repeatInterval.milliseconds)
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
