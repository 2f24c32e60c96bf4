import JobwatchCore
import RedisLease

/// Gets `jobrun`'s events to the monitor, whatever is down.
///
/// Transport: with `report: redis` (the default) an XADD on the Redis connections the run
/// already holds; when Redis does not take it, or with `report: http`, a POST to
/// `monitor_url`; when that fails too, the spool. After one Redis failure this reporter stops
/// trying Redis, so a run with Redis gone pays its timeouts once, not per event.
///
/// Order: an event never overtakes an older spooled one. While the spool holds anything, a
/// new event is appended to it and the whole spool is delivered in order (unless another
/// process is delivering it already: then that process, or the next run, sends it).
public final class RunReporter {
    /// How to reach Redis for XADD: the single master, the Sentinel master, or a Redlock
    /// quorum's masters, the first (where `jobmond` keeps its state) first.
    public enum RedisRoute {
        /// Connections the lease already opened, in the order to try: no extra connect.
        case connections([RedisConnection])
        /// Connect on first use (runs without a lease, `jobctl flush`).
        case topology(RedisTopology)
        /// Known to be down: go straight to HTTP.
        case unreachable
    }

    public var redis: RedisRoute
    public let spool: Spool
    private let transport: ReportTransport
    private let keyPrefix: String
    private let replicaAcks: Int
    private let replicaTimeoutMs: Int
    private let http: HTTPEventTransport
    private let info: (String) -> Void
    private let warning: (String) -> Void

    public init(config: GlobalConfig, redis: RedisRoute, info: @escaping (String) -> Void = { _ in },
                warning: @escaping (String) -> Void) {
        self.redis = redis
        transport = config.report
        keyPrefix = config.keyPrefix
        replicaAcks = (try? RedisTopology.parse(config.redis)).map(config.replicaAcks(for:)) ?? 0
        replicaTimeoutMs = Int(config.redisWaitTimeout.milliseconds)
        http = HTTPEventTransport(monitorURL: config.monitorURL, token: config.token)
        spool = Spool(directory: config.spoolDir, warn: warning)
        self.info = info
        self.warning = warning
    }

    /// Delivers `event` now if it can, else spools it. Never throws and never blocks for
    /// longer than the transports' timeouts.
    public func report(_ event: RunEvent) {
        if !spool.isEmpty, (try? spool.write(event)) != nil {
            let r = flush(wait: false, host: event.host)
            if r.delivered > 0 { info("delivered \(r.delivered) spooled report(s)") }
            if r.remaining > 0 { info("\(r.remaining) report(s) still spooled in \(spool.directory)\(r.failure.map { ": \($0)" } ?? "")") }
            return
        }
        var unconfirmed: String?
        switch deliver(event, unconfirmed: &unconfirmed) {
        case .delivered:
            guard let unconfirmed else { return }
            // Delivered, but a failover could still lose it: one more copy goes through the
            // spool (the monitor applies a run's start and finish once, however often they come).
            do {
                let path = try spool.write(event)
                info("the \(event.kind.rawValue) report of \(event.job) is in Redis but \(unconfirmed); a copy is spooled as \(path)")
            } catch {
                warning("the \(event.kind.rawValue) report of \(event.job) is in Redis but \(unconfirmed), and cannot be spooled: \(error)")
            }
        case .rejected(let why):
            warning("the monitor refused the \(event.kind.rawValue) report of \(event.job): \(why)")
            try? spool.keepRejected(event)
        case .failed(let why):
            do {
                let path = try spool.write(event)
                info("cannot report \(event.kind.rawValue) of \(event.job) now (\(why)); spooled as \(path)")
            } catch {
                warning("the \(event.kind.rawValue) report of \(event.job) is lost: cannot deliver it (\(why)) nor spool it (\(error))")
            }
        }
    }

    /// Delivers the spool, oldest first; see `Spool.deliverAll`.
    /// A spooled event that reaches Redis unconfirmed is not spooled again: that is the copy.
    /// Then tells the monitor how many reports still wait on `host` (`publishSpoolDepth`).
    public func flush(wait: Bool, host: String) -> Spool.FlushResult {
        let result = spool.deliverAll(wait: wait) { event in
            var unconfirmed: String?
            return deliver(event, unconfirmed: &unconfirmed)
        }
        if !result.busy { publishSpoolDepth(host: host, remaining: result.remaining) }
        return result
    }

    /// `<prefix>mon:spool` holds, per host, how many reports wait in its spool (jobmond exports
    /// it as `jobwatch_spool_depth`); a host whose spool is empty has no entry. Written only
    /// after a flush, so a run that found its spool empty pays nothing, and only when Redis
    /// answers: a host cut off from Redis cannot say (its jobs go missed or lost instead).
    private func publishSpoolDepth(host: String, remaining: Int) {
        guard let master = redisMasters().first else { return }
        let key = keyPrefix + "mon:spool"
        _ = try? master.command(remaining > 0 ? ["HSET", key, host, String(remaining)] : ["HDEL", key, host])
    }

    /// `unconfirmed` says why, when Redis took the event but no replica acknowledged it.
    /// A master that fails is not tried again by this reporter; the next one in the route is.
    func deliver(_ event: RunEvent, unconfirmed: inout String?) -> Delivery {
        var problems: [String] = []
        while transport == .redis, let master = redisMasters().first {
            let stream = RedisEventTransport(master: master, keyPrefix: keyPrefix, replicaAcks: replicaAcks,
                                            replicaTimeoutMs: replicaTimeoutMs)
            switch stream.deliver(event) {
            case .delivered: return .delivered
            case .unconfirmed(let why):
                unconfirmed = why
                return .delivered
            case .failed(let why):
                problems.append(why)
                let rest = Array(redisMasters().dropFirst())
                redis = rest.isEmpty ? .unreachable : .connections(rest)
            }
        }
        let redisProblem = problems.isEmpty ? nil : problems.joined(separator: "; ")
        let result = http.deliver(event)
        if case .failed(let why) = result, let redisProblem {
            return .failed("Redis: \(redisProblem); HTTP: \(why)")
        }
        return result
    }

    private func redisMasters() -> [RedisConnection] {
        switch redis {
        case .connections(let masters):
            return masters
        case .unreachable:
            return []
        case .topology(let topology):
            // One attempt each: reporting must not wait out the lease's retry budget.
            let masters = topology.reportConnections(timeoutMs: 1000, attempts: 1)
            redis = .connections(masters)
            return masters
        }
    }
}
