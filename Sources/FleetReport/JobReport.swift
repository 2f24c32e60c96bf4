import MonitorCore

/// One job's line of the weekly report (SPEC §3.2 `report.jobs[]`).
public struct JobReport: Codable, Sendable, Equatable {
    public var job: String
    /// Scheduled occurrences in the period, leaving out those that fell while paused.
    public var expected: Int
    /// Every run started in the period, scheduled or not.
    public var runs: Int
    public var succeeded: Int
    /// Runs that ended in failure, timeout, lost lock or kill.
    public var failed: Int
    /// Expected occurrences with no start by scheduled time + jitter offset + grace.
    public var missed: Int
    /// Occurrences whose run started more than a minute after its (jittered) start but within grace.
    public var late: Int
    /// Runs that went past `max_runtime` (still running ones included).
    public var overdue: Int
    /// `succeeded / (finished runs + missed)`: a missed run is work that did not get done,
    /// so a job that never starts scores 0 rather than a perfect rate over no runs. 1 when
    /// nothing was due and nothing ran.
    public var successRate: Double
    public var durationMs: DurationStats
    /// Seconds spent in `missed`, `failed` or `overdue` within the period.
    public var downtimeS: Int64
    /// Of the missed occurrences, failed runs and overdue runs above, those that fell inside a
    /// maintenance window (SPEC §6): recorded, and alerted only if still open at its end.
    public var inMaintenance: Int

    public struct DurationStats: Codable, Sendable, Equatable {
        public var p50: Int64?
        public var p95: Int64?
        public var max: Int64?

        public init(p50: Int64?, p95: Int64?, max: Int64?) {
            self.p50 = p50
            self.p95 = p95
            self.max = max
        }

        /// Nearest-rank percentiles: always a duration some run really took.
        init(_ durations: [Int64]) {
            let sorted = durations.sorted()
            func rank(_ p: Int) -> Int64? {
                sorted.isEmpty ? nil : sorted[Swift.max(0, (p * sorted.count + 99) / 100 - 1)]
            }
            self.init(p50: rank(50), p95: rank(95), max: sorted.last)
        }

        // Nulls are written out so every report has the same shape.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(p50, forKey: .p50)
            try c.encode(p95, forKey: .p95)
            try c.encode(max, forKey: .max)
        }
    }

    public var hasProblems: Bool { missed > 0 || failed > 0 || overdue > 0 }

    private enum CodingKeys: String, CodingKey {
        case job, expected, runs, succeeded, failed, missed, late, overdue
        case successRate = "success_rate", durationMs = "duration_ms", downtimeS = "downtime_s"
        case inMaintenance = "in_maintenance"
    }

    // `in_maintenance` is read as 0 from reports of monitors that predate it.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        job = try c.decode(String.self, forKey: .job)
        expected = try c.decode(Int.self, forKey: .expected)
        runs = try c.decode(Int.self, forKey: .runs)
        succeeded = try c.decode(Int.self, forKey: .succeeded)
        failed = try c.decode(Int.self, forKey: .failed)
        missed = try c.decode(Int.self, forKey: .missed)
        late = try c.decode(Int.self, forKey: .late)
        overdue = try c.decode(Int.self, forKey: .overdue)
        successRate = try c.decode(Double.self, forKey: .successRate)
        durationMs = try c.decode(DurationStats.self, forKey: .durationMs)
        downtimeS = try c.decode(Int64.self, forKey: .downtimeS)
        inMaintenance = try c.decodeIfPresent(Int.self, forKey: .inMaintenance) ?? 0
    }
}

extension JobReport {
    /// The job over `[from, to)`; `now` decides which deadlines have passed (a report that
    /// ends now must not call a run missed while its grace is still running).
    public init(_ history: JobHistory, from: Int64, to: Int64, now: Int64) {
        self.init(history, spans: history.stateSpans(from: from, to: to), from: from, to: to, now: now)
    }

    init(_ history: JobHistory, spans: [StateSpan], from: Int64, to: Int64, now: Int64) {
        let spec = history.spec
        var expected = 0
        var missed = 0
        var late = 0
        var inMaintenance = 0
        let inWindow = { (t: Int64) in !spec.maintenance.isEmpty && spec.maintenanceEnd(covering: t) != nil }
        OccurrenceMatching.classify(
            OccurrenceMatching.scheduled(spec, from: max(from, history.watchedSince ?? from), to: to),
            spec: spec, runs: history.runs, spans: spans, now: now
        ) { occurrence in
            if occurrence.outcome != .paused { expected += 1 }
            if occurrence.outcome == .missed {
                missed += 1
                if inWindow(spec.startDeadline(of: occurrence.at)) { inMaintenance += 1 }
            }
            if occurrence.startedLate { late += 1 }
        }
        // One pass over the runs, keeping only numbers: a week of a minute-level job is ten
        // thousand records, too many to copy into filtered arrays. Fields are read one by one
        // for the same reason: binding a whole record would copy it and retain its strings.
        let runs = history.runs
        var started = 0
        var finished = 0
        var succeeded = 0
        var overdue = 0
        var durations: [Int64] = []
        durations.reserveCapacity(runs.count)
        for i in runs.indices {
            let startedAt = runs[i].startedAt
            guard startedAt >= from && startedAt < to else { continue }
            let duration = runs[i].durationMs
            started += 1
            if let limit = spec.maxRuntime, (duration ?? (now - startedAt)) > limit {
                overdue += 1
                if inWindow(startedAt + limit) { inMaintenance += 1 }
            }
            // A replaced run is neither: the run that replaced it is counted instead.
            guard let outcome = runs[i].outcome, outcome != .replaced else { continue }
            finished += 1
            if outcome == .success {
                succeeded += 1
            } else if inWindow(runs[i].finishedAt ?? startedAt) {
                inMaintenance += 1
            }
            if let duration { durations.append(duration) }
        }
        let denominator = finished + missed
        let downtime = spans.map { span in
            StateSpan(state: span.state, since: span.since, start: span.start, end: min(span.end, max(span.start, now)))
        }.time(in: downStates)

        job = spec.name
        self.expected = expected
        self.runs = started
        self.succeeded = succeeded
        failed = finished - succeeded
        self.missed = missed
        self.late = late
        self.overdue = overdue
        successRate = denominator == 0 ? 1 : (Double(succeeded) / Double(denominator) * 10_000).rounded() / 10_000
        durationMs = DurationStats(durations)
        downtimeS = downtime / 1000
        self.inMaintenance = inMaintenance
    }
}
