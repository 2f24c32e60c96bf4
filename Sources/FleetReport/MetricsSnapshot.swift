import MonitorCore

/// What `GET /metrics` exposes, as plain values the monitor reads from Redis. The daemon
/// owns a swift-prometheus `PrometheusCollectorRegistry`; it keeps the previous snapshot and
/// applies `updates(since:)` to it, so this target stays free of the registry's state and
/// every exposed number is decided here, in a unit test.
public struct MetricsSnapshot: Sendable, Equatable {
    public var jobs: [Job]
    /// Alert deliveries given up on, per channel, since the monitor's data began (monotonic).
    public var alertDeliveryFailures: [String: Int64]
    /// Alerts channels answered for good, by channel, incident kind and result (`sent`,
    /// `refused`): monotonic totals.
    public var alertsTotal: [AlertKey: Int64]
    /// Alerts in the outbox not yet answered for good by their channel.
    public var outboxDepth: Int64?
    /// Whether the replica answering holds the leader lease.
    public var isLeader: Bool?
    /// Events in the report stream not yet applied by the leader (unread plus unacknowledged).
    public var eventsBacklog: Int64?
    /// Reports waiting in each host's spool, as the host last said (`<prefix>mon:spool`); a
    /// host with an empty spool is absent.
    public var spoolDepth: [String: Int64]

    public struct AlertKey: Sendable, Hashable, Comparable {
        public var channel: String
        public var kind: String
        public var result: String

        public init(channel: String, kind: String, result: String) {
            self.channel = channel
            self.kind = kind
            self.result = result
        }

        public static func < (a: AlertKey, b: AlertKey) -> Bool {
            (a.channel, a.kind, a.result) < (b.channel, b.kind, b.result)
        }
    }

    public struct Job: Sendable, Equatable {
        public var name: String
        public var state: JobState
        /// Epoch milliseconds of the last successful run's finish.
        public var lastSuccess: Int64?
        /// Monotonic totals (the monitor's counters, not the trimmed history).
        public var missedTotal: Int64
        public var failedTotal: Int64
        /// Finished runs by outcome (`success`, `failure`, `timeout`…).
        public var runsTotal: [String: Int64]
        /// Runs finished since the previous snapshot; each is observed into the histogram
        /// once, by id.
        public var finishedRuns: [FinishedRun]

        public init(
            name: String, state: JobState, lastSuccess: Int64?, missedTotal: Int64, failedTotal: Int64,
            runsTotal: [String: Int64] = [:], finishedRuns: [FinishedRun]
        ) {
            self.name = name
            self.state = state
            self.lastSuccess = lastSuccess
            self.missedTotal = missedTotal
            self.failedTotal = failedTotal
            self.runsTotal = runsTotal
            self.finishedRuns = finishedRuns
        }
    }

    public struct FinishedRun: Sendable, Equatable {
        public var runID: String
        public var durationMs: Int64

        public init(runID: String, durationMs: Int64) {
            self.runID = runID
            self.durationMs = durationMs
        }
    }

    public init(jobs: [Job], alertDeliveryFailures: [String: Int64],
                alertsTotal: [AlertKey: Int64] = [:], outboxDepth: Int64? = nil, isLeader: Bool? = nil,
                eventsBacklog: Int64? = nil, spoolDepth: [String: Int64] = [:]) {
        self.jobs = jobs
        self.alertDeliveryFailures = alertDeliveryFailures
        self.alertsTotal = alertsTotal
        self.outboxDepth = outboxDepth
        self.isLeader = isLeader
        self.eventsBacklog = eventsBacklog
        self.spoolDepth = spoolDepth
    }
}

public struct MetricLabel: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

extension [MetricLabel] {
    /// The shape swift-prometheus's `make…(name:labels:)` takes.
    public var pairs: [(String, String)] { map { ($0.name, $0.value) } }
}

/// One change to apply to the registry, in the words of swift-prometheus's API.
public enum MetricUpdate: Sendable, Equatable {
    /// `makeGauge(name:labels:help:).set(to:)`
    case setGauge(String, [MetricLabel], Double)
    /// `makeCounter(name:labels:help:).increment(by:)`
    case incrementCounter(String, [MetricLabel], Int64)
    /// `makeDurationHistogram(name:labels:buckets:help:).record(_:)`
    case observe(String, [MetricLabel], durationMs: Int64)
    /// `unregisterGauge/Counter/DurationHistogram` for every series of a job that is gone.
    case removeJob(String)
}

/// The metric catalogue: names, help texts, histogram buckets.
public enum JobwatchMetrics {
    /// One series per state, 1 for the current one: `jobwatch_job_state{state="failed"} == 1`
    /// alerts without knowing an enum's numbering, and `sum by (state)` counts the fleet.
    public static let state = "jobwatch_job_state"
    public static let lastSuccess = "jobwatch_job_last_success_timestamp_seconds"
    public static let runDuration = "jobwatch_job_run_duration_seconds"
    public static let missed = "jobwatch_job_missed_runs_total"
    public static let failed = "jobwatch_job_failed_runs_total"
    public static let runs = "jobwatch_job_runs_total"
    public static let alerts = "jobwatch_alerts_total"
    public static let outboxDepth = "jobwatch_alert_outbox_depth"
    public static let leader = "jobwatch_monitor_leader"
    public static let eventsBacklog = "jobwatch_events_backlog"
    public static let deliveryFailures = "jobwatch_alert_delivery_failures_total"
    public static let spoolDepth = "jobwatch_spool_depth"

    public static let help: [String: String] = [
        state: "Current monitor state of the job (1 for the current state, 0 otherwise).",
        lastSuccess: "Unix time of the job's last successful run.",
        runDuration: "Duration of finished runs.",
        missed: "Times the job became missed (no start by scheduled time plus grace; missed occurrences in a row count once).",
        failed: "Runs that failed, timed out, lost their lock, were killed or finished under min_runtime.",
        runs: "Finished runs, by result.",
        alerts: "Alerts a channel answered for good, by channel, incident kind and result (sent, refused).",
        outboxDepth: "Alerts waiting to be delivered.",
        leader: "1 when this jobmond replica holds the leader lease (sum over replicas: 1).",
        eventsBacklog: "Run reports and control entries in the stream not yet applied by the leader.",
        deliveryFailures: "Alert deliveries given up on after permanent errors.",
        spoolDepth: "Run reports waiting in a host's spool, as the host last said after delivering it (0 once it is empty).",
    ]

    /// Cron jobs run from about a second to several hours: 1s … 6h.
    public static let runDurationBucketsMs: [Int64] = [
        1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 21_600,
    ].map { $0 * 1000 }
}

extension MetricsSnapshot {
    /// What to change in the registry to go from `previous` (nil: an empty registry) to this.
    /// Counters only move up: a total that shrank (history rebuilt) is left where it was.
    public func updates(since previous: MetricsSnapshot?) -> [MetricUpdate] {
        let before = Dictionary((previous?.jobs ?? []).map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        var updates: [MetricUpdate] = []
        for job in jobs {
            let labels = [MetricLabel(name: "job", value: job.name)]
            let old = before[job.name]
            for state in JobState.allCases {
                let value: Double = state == job.state ? 1 : 0
                if old == nil || (state == job.state) != (state == old!.state) {
                    updates.append(.setGauge(JobwatchMetrics.state, labels + [MetricLabel(name: "state", value: state.rawValue)], value))
                }
            }
            if let success = job.lastSuccess, success != old?.lastSuccess {
                updates.append(.setGauge(JobwatchMetrics.lastSuccess, labels, Double(success) / 1000))
            }
            if job.missedTotal > old?.missedTotal ?? 0 {
                updates.append(.incrementCounter(JobwatchMetrics.missed, labels, job.missedTotal - (old?.missedTotal ?? 0)))
            }
            if job.failedTotal > old?.failedTotal ?? 0 {
                updates.append(.incrementCounter(JobwatchMetrics.failed, labels, job.failedTotal - (old?.failedTotal ?? 0)))
            }
            for (result, total) in job.runsTotal.sorted(by: { $0.key < $1.key }) where total > old?.runsTotal[result] ?? 0 {
                updates.append(.incrementCounter(JobwatchMetrics.runs, labels + [MetricLabel(name: "result", value: result)],
                                                 total - (old?.runsTotal[result] ?? 0)))
            }
            let seen = Set(old?.finishedRuns.map(\.runID) ?? [])
            for run in job.finishedRuns where !seen.contains(run.runID) {
                updates.append(.observe(JobwatchMetrics.runDuration, labels, durationMs: run.durationMs))
            }
        }
        let current = Set(jobs.map(\.name))
        updates += (previous?.jobs ?? []).filter { !current.contains($0.name) }.map { .removeJob($0.name) }
        for (channel, total) in alertDeliveryFailures.sorted(by: { $0.key < $1.key }) {
            let delta = total - (previous?.alertDeliveryFailures[channel] ?? 0)
            if delta > 0 {
                updates.append(.incrementCounter(JobwatchMetrics.deliveryFailures, [MetricLabel(name: "channel", value: channel)], delta))
            }
        }
        for (key, total) in alertsTotal.sorted(by: { $0.key < $1.key }) where total > previous?.alertsTotal[key] ?? 0 {
            let labels = [MetricLabel(name: "channel", value: key.channel), MetricLabel(name: "kind", value: key.kind),
                          MetricLabel(name: "result", value: key.result)]
            updates.append(.incrementCounter(JobwatchMetrics.alerts, labels, total - (previous?.alertsTotal[key] ?? 0)))
        }
        if let depth = outboxDepth, depth != previous?.outboxDepth {
            updates.append(.setGauge(JobwatchMetrics.outboxDepth, [], Double(depth)))
        }
        if let isLeader, isLeader != previous?.isLeader {
            updates.append(.setGauge(JobwatchMetrics.leader, [], isLeader ? 1 : 0))
        }
        if let backlog = eventsBacklog, backlog != previous?.eventsBacklog {
            updates.append(.setGauge(JobwatchMetrics.eventsBacklog, [], Double(backlog)))
        }
        // A host whose spool emptied keeps its series, at 0, so a rule sees it drain.
        let hosts = Set(spoolDepth.keys).union(previous?.spoolDepth.keys ?? [:].keys)
        for host in hosts.sorted() where spoolDepth[host] != previous?.spoolDepth[host] {
            updates.append(.setGauge(JobwatchMetrics.spoolDepth, [MetricLabel(name: "host", value: host)], Double(spoolDepth[host] ?? 0)))
        }
        return updates
    }
}
