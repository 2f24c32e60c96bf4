import CronSchedule
import FleetReport
import Foundation
import Hummingbird
import MonitorCore
import NIOCore
import Prometheus
import RedisLease

/// The fleet-visibility routes of SPEC §3.2: `GET /` (status page), `GET /metrics` and
/// `GET /api/v1/report`. All read Redis only, so every replica serves them.
public struct FleetRoutes: Sendable {
    let environment: MonitorEnvironment
    let auth: Authenticator
    let history: FleetHistory
    let metrics: FleetMetrics

    /// The longest report period served: a year of minute-level history is already far more
    /// than one request should compute.
    static let maxPeriodMs: Int64 = 366 * 86_400_000
    static let defaultPeriodMs: Int64 = 7 * 86_400_000

    public init(environment: MonitorEnvironment, auth: Authenticator) {
        self.environment = environment
        self.auth = auth
        history = FleetHistory(environment: environment)
        metrics = FleetMetrics(environment: environment)
    }

    public func add(to router: Router<MonitorRequestContext>) {
        router.get("/") { request, _ in
            if !environment.monitor.publicStatusPage { try auth.require(.read, request) }
            let html = statusPage(jobs: try await history.statusRows(), now: environment.clock(),
                                  publicURL: environment.monitor.publicURL)
            var response = Self.response(html, contentType: "text/html; charset=utf-8")
            // The page shows text hosts and jobs wrote (escaped); should anything slip through,
            // the browser still runs no script, loads nothing and cannot be framed.
            response.headers[.contentSecurityPolicy] = Self.statusPagePolicy
            response.headers[.xContentTypeOptions] = "nosniff"
            return response
        }
        // Prometheus scrapers carry no token; the metrics hold no secrets (names and numbers).
        router.get("/metrics") { _, _ in
            Self.response(try await metrics.scrape(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/api/v1/report") { request, _ in
            try auth.require(.read, request)
            let (from, to) = try Self.period(request.uri.queryParameters.get("from"), request.uri.queryParameters.get("to"),
                                             now: environment.clock())
            let report = try await history.report(from: from, to: to, timeZone: environment.monitor.report.timezone)
            return Self.response(report.rendered(as: .json), contentType: "application/json; charset=utf-8")
        }
    }

    /// `from`/`to` as RFC 3339; `to` defaults to now and `from` to seven days before `to`.
    static func period(_ fromText: String?, _ toText: String?, now: Int64) throws -> (Int64, Int64) {
        func instant(_ name: String, _ text: String?) throws -> Int64? {
            guard let text else { return nil }
            guard let ms = MonitorEvent.millis(text) else {
                throw APIError.badRequest("\(name): expected an RFC 3339 time like 2026-03-02T09:00:00Z, got \"\(text)\"")
            }
            return ms
        }
        let to = try instant("to", toText) ?? now
        let from = try instant("from", fromText) ?? to - defaultPeriodMs
        guard rfc3339Instants.contains(from) else { throw APIError.badRequest("from: needed when to is within 7 days of year 0000") }
        guard from < to else { throw APIError.badRequest("from must be before to") }
        guard to - from <= maxPeriodMs else { throw APIError.badRequest("the period may be at most 366 days") }
        return (from, to)
    }

    static let statusPagePolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static func response(_ text: String, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// `GET /metrics`: a swift-prometheus registry brought up to date from Redis on each scrape
/// (a scrape every 15 s or so is the natural clock; nothing runs between scrapes).
///
/// Counts are exact: the leader writes one `mon:tally` entry per run it finishes applying, in
/// the same transaction, and the dispatcher one per alert a channel answered for good, with
/// its acknowledgement; each replica reads the entries after the last one it counted. Missed
/// occurrences are counted from `mon:changes` the same way. A restarted replica starts from
/// what the streams still hold (100,000 tally entries, `history_days` of changes), which
/// Prometheus's `rate()` treats as a counter reset.
actor FleetMetrics {
    private let environment: MonitorEnvironment
    private let registry = PrometheusCollectorRegistry()
    private var previous: MetricsSnapshot?
    /// What to unregister when a job disappears.
    private var series: [String: [ObjectIdentifier: Series]] = [:]
    private var changesCursor = "-"
    private var tallyCursor = "-"
    private var missed: [String: Int64] = [:]
    private var failed: [String: Int64] = [:]
    private var runs: [String: [String: Int64]] = [:]
    private var alerts: [MetricsSnapshot.AlertKey: Int64] = [:]
    private var deliveryFailures: [String: Int64] = [:]
    private var lastSuccess: [String: Int64] = [:]
    /// Jobs whose last success has been looked up in their recorded runs.
    private var lookedUp: Set<String> = []

    private enum Series {
        case gauge(Gauge), counter(Counter), histogram(DurationHistogram)
    }

    init(environment: MonitorEnvironment) { self.environment = environment }

    func scrape() async throws -> String {
        let store = environment.store
        let (changesCursor, tallyCursor) = (self.changesCursor, self.tallyCursor)
        let replica = environment.replica
        let (monitors, changes, tally, outboxDepth, leader, backlog, spool) = try await environment.shared.run { c in
            (try store.loadMonitors(c), try Self.entries(of: store.changes, after: changesCursor, c),
             try Self.entries(of: store.tally, after: tallyCursor, c),
             try Self.backlog(of: store.outbox, group: AlertDispatcher.group, c),
             try c.command(["GET", store.leader]).string, try Self.backlog(of: store.events, group: MonitorStore.group, c),
             try Self.spoolDepths(store.spool, c))
        }
        for (_, fields) in changes.entries where fields["to"] == JobState.missed.rawValue && (fields["alert"] ?? "").isEmpty {
            missed[fields["job"] ?? "", default: 0] += 1
        }
        self.changesCursor = changes.last ?? changesCursor
        let finished = count(tally.entries)
        self.tallyCursor = tally.last ?? tallyCursor
        try await learnLastSuccesses(monitors)
        var jobs: [MetricsSnapshot.Job] = []
        for (name, monitor) in monitors.sorted(by: { $0.key < $1.key }) {
            if let run = monitor.lastRun, run.outcome == .success, let at = run.finishedAt { lastSuccess[name] = at }
            jobs.append(.init(name: name, state: monitor.state(at: environment.clock()), lastSuccess: lastSuccess[name],
                              missedTotal: missed[name] ?? 0, failedTotal: failed[name] ?? 0, runsTotal: runs[name] ?? [:],
                              finishedRuns: finished[name] ?? []))
        }
        let snapshot = MetricsSnapshot(jobs: jobs, alertDeliveryFailures: deliveryFailures,
                                       alertsTotal: alerts, outboxDepth: outboxDepth, isLeader: leader == replica,
                                       eventsBacklog: backlog, spoolDepth: spool)
        snapshot.updates(since: previous).forEach(apply)
        previous = snapshot
        return registry.emitToString()
    }

    /// `<prefix>mon:spool`: host → reports waiting, written by the hosts themselves; a value
    /// that is not a count is skipped.
    private static func spoolDepths(_ key: String, _ c: RedisConnection) throws -> [String: Int64] {
        let items = try c.command(["HGETALL", key]).array ?? []
        var depths: [String: Int64] = [:]
        for i in stride(from: 0, to: items.count - 1, by: 2) {
            if let host = items[i].string, let depth = items[i + 1].string.flatMap({ Int64($0) }), depth >= 0 { depths[host] = depth }
        }
        return depths
    }

    /// Adds new tally entries to the totals; returns the runs each job finished since the last
    /// scrape, for the duration histogram.
    private func count(_ entries: [(String, [String: String])]) -> [String: [MetricsSnapshot.FinishedRun]] {
        var finished: [String: [MetricsSnapshot.FinishedRun]] = [:]
        for (_, f) in entries {
            switch f["type"] {
            case "run":
                let (job, outcome) = (f["job"] ?? "", f["outcome"] ?? "")
                runs[job, default: [:]][outcome, default: 0] += 1
                // Entries written before `failed` was recorded: a non-success is a failure.
                if f["failed"].map({ $0 == "1" }) ?? (outcome != RunOutcome.success.rawValue) { failed[job, default: 0] += 1 }
                if let ms = f["duration_ms"].flatMap({ Int64($0) }) {
                    finished[job, default: []].append(.init(runID: f["run_id"] ?? "", durationMs: ms))
                }
            case "alert":
                let key = MetricsSnapshot.AlertKey(channel: f["channel"] ?? "", kind: f["kind"] ?? "", result: f["result"] ?? "")
                alerts[key, default: 0] += 1
                if key.result == "refused" { deliveryFailures[key.channel, default: 0] += 1 }
            default:
                continue
            }
        }
        return finished
    }

    /// A job first seen with a failed last run: its last success is in its recorded runs.
    /// Looked up once per job; after that, the job's own last runs keep it current.
    private func learnLastSuccesses(_ monitors: MonitorTable) async throws {
        let unknown = monitors.filter { !lookedUp.contains($0.key) && $0.value.lastRun.map { $0.outcome != .success } ?? false }.map(\.key)
        lookedUp.formUnion(monitors.map(\.key))
        guard !unknown.isEmpty else { return }
        let store = environment.store
        let found = try await environment.shared.run { c -> [String: Int64] in
            var found: [String: Int64] = [:]
            for job in unknown {
                let ids = (try c.command(["ZREVRANGE", store.runs(job), "0", "99"]).array ?? []).compactMap(\.string)
                guard !ids.isEmpty else { continue }
                let runs = (try c.command(["MGET"] + ids.map { store.run(job, $0) }).array ?? []).compactMap { $0.string.flatMap(MonitorStore.decodeRun) }
                found[job] = runs.first { $0.outcome == .success }?.finishedAt
            }
            return found
        }
        lastSuccess.merge(found) { old, _ in old }
    }

    /// Entries of a stream its consumer group has not finished with: not yet read (the group's
    /// lag) plus read and not acknowledged; the whole stream before the group exists.
    private static func backlog(of stream: String, group name: String, _ c: RedisConnection) throws -> Int64? {
        for group in try c.command(["XINFO", "GROUPS", stream]).array ?? [] {
            let flat = group.array ?? []
            var info: [String: RedisReply] = [:]
            for i in stride(from: 0, to: flat.count - 1, by: 2) { info[flat[i].string ?? ""] = flat[i + 1] }
            guard info["name"]?.string == name else { continue }
            guard let lag = info["lag"]?.integer else { return nil }   // Redis cannot tell after a deletion
            return lag + (info["pending"]?.integer ?? 0)
        }
        return try c.command(["XLEN", stream]).integer
    }

    private func apply(_ update: MetricUpdate) {
        switch update {
        case .setGauge(let name, let labels, let value):
            let gauge = registry.makeGauge(descriptor: Self.descriptor(name), labels: labels.pairs)
            gauge.set(to: value)
            remember(.gauge(gauge), ObjectIdentifier(gauge), labels)
        case .incrementCounter(let name, let labels, let amount):
            let counter = registry.makeCounter(descriptor: Self.descriptor(name), labels: labels.pairs)
            counter.increment(by: amount)
            remember(.counter(counter), ObjectIdentifier(counter), labels)
        case .observe(let name, let labels, let ms):
            let buckets = JobwatchMetrics.runDurationBucketsMs.map { Duration.milliseconds($0) }
            let histogram = registry.makeDurationHistogram(descriptor: Self.descriptor(name), labels: labels.pairs, buckets: buckets)
            histogram.record(.milliseconds(ms))
            remember(.histogram(histogram), ObjectIdentifier(histogram), labels)
        case .removeJob(let job):
            for item in (series.removeValue(forKey: job) ?? [:]).values {
                switch item {
                case .gauge(let g): registry.unregisterGauge(g)
                case .counter(let c): registry.unregisterCounter(c)
                case .histogram(let h): registry.unregisterDurationHistogram(h)
                }
            }
        }
    }

    private func remember(_ item: Series, _ id: ObjectIdentifier, _ labels: [MetricLabel]) {
        guard let job = labels.first(where: { $0.name == "job" })?.value else { return }
        series[job, default: [:]][id] = item
    }

    /// The catalogue's names are complete; an empty unit keeps them as they are.
    private static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: JobwatchMetrics.help[name] ?? "")
    }

    /// A stream's entries after `cursor` (exclusive; `-` for the start), in pages.
    private static func entries(of stream: String, after cursor: String, _ c: RedisConnection) throws
        -> (entries: [(String, [String: String])], last: String?) {
        var entries: [(String, [String: String])] = []
        var start = cursor == "-" ? "-" : "(" + cursor
        while true {
            let reply = try c.command(["XRANGE", stream, start, "+", "COUNT", "10000"])
            let page = (reply.array ?? []).compactMap { item -> (String, [String: String])? in
                guard let pair = item.array, pair.count == 2, let id = pair[0].string, let flat = pair[1].array else { return nil }
                var fields: [String: String] = [:]
                for i in stride(from: 0, to: flat.count - 1, by: 2) { fields[flat[i].string ?? ""] = flat[i + 1].string ?? "" }
                return (id, fields)
            }
            entries += page
            guard page.count == 10000, let last = page.last?.0 else { break }
            start = "(" + last
        }
        return (entries, entries.last?.0)
    }
}
