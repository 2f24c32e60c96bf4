import JobwatchCore

/// SPEC §6 anomalies: a run's duration judged against the median of the job's recent
/// successes. Jobs without `anomaly:` keep no durations and pay nothing here.
extension JobMonitor {
    /// The median of the kept durations, once there are enough to judge by; nil for a median
    /// of zero, against which every run would be slow. Kept up to date in `recentDurations`'
    /// observer: every event reads it (its deadline), only a success changes it.
    var medianDuration: Int64? { spec.anomaly == nil ? nil : baselineMedian }

    static func median(of durations: [Int64]) -> Int64? {
        guard durations.count >= AnomalyRule.minimumBaseline else { return nil }
        let sorted = durations.sorted()
        let middle = sorted.count / 2
        let median = sorted.count % 2 == 1 ? sorted[middle] : sorted[middle - 1] / 2 + sorted[middle] / 2
        return median > 0 ? median : nil
    }

    /// How long a run may go before it is slow; nil when nothing would make it so.
    var slowAfter: Int64? {
        guard let slower = spec.anomaly?.slower, let median = medianDuration else { return nil }
        return slower.of(median)
    }

    /// Whether a successful run of this duration is outside the range the median allows.
    func durationAnomaly(_ durationMs: Int64) -> IncidentKind? {
        guard let rule = spec.anomaly, let median = medianDuration else { return nil }
        if let slower = rule.slower, durationMs >= slower.of(median) { return .slow }
        if let faster = rule.faster, durationMs < faster.of(median) { return .fast }
        return nil
    }

    /// Remembers a successful run's duration, the oldest forgotten past `baseline`.
    mutating func keepDuration(_ durationMs: Int64) {
        guard let rule = spec.anomaly else { return }
        var kept = recentDurations   // one assignment: one median
        kept.append(max(0, durationMs))
        if kept.count > rule.baseline { kept.removeFirst(kept.count - rule.baseline) }
        recentDurations = kept
    }

    /// A definition that drops `anomaly:` forgets the durations; a smaller `baseline` keeps the newest.
    mutating func trimDurations(to rule: AnomalyRule?) {
        guard let rule else {
            recentDurations = []
            slowRunIDs = []
            return
        }
        if recentDurations.count > rule.baseline { recentDurations.removeFirst(recentDurations.count - rule.baseline) }
    }

    /// Runs going longer than `slower` × the median: each raises `slow` once, while it runs.
    mutating func noteSlowRuns(now: Int64, into actions: inout [MonitorAction]) -> [String] {
        guard let limit = slowAfter, let median = medianDuration, let slower = spec.anomaly?.slower else { return [] }
        let slow = runningRuns.values
            .filter { $0.lostAt == nil && !slowRunIDs.contains($0.runID) && $0.startedAt + limit <= now }
            .sorted { ($0.startedAt, $0.runID) < ($1.startedAt, $1.runID) }
        return slow.map { run in
            slowRunIDs.insert(run.runID)
            let elapsed = now - run.startedAt
            let reason = "running \(span(elapsed)), \(Self.ratio(elapsed, median)) its median \(span(median)) (slower: \(slower))"
            raise(.slow, occurrence: run.scheduledFor, run: run, reason: reason, at: now, into: &actions)
            return "run \(run.runID) on \(run.host) " + reason
        }
    }

    /// The reason of a `fast` incident for a run that took `durationMs`.
    func fastReason(_ durationMs: Int64) -> String {
        guard let median = medianDuration, let faster = spec.anomaly?.faster else { return "finished fast" }
        return "finished in \(span(durationMs)), \(Self.ratio(durationMs, median)) its median \(span(median)) (faster: \(faster))"
    }

    /// `3.1×`: one decimal, rounded.
    static func ratio(_ part: Int64, _ whole: Int64) -> String {
        let (scaled, overflow) = part.multipliedReportingOverflow(by: 10)
        guard !overflow, whole > 0 else { return "many times" }
        let tenths = scaled / whole + (scaled % whole * 2 >= whole ? 1 : 0)
        return "\(tenths / 10).\(tenths % 10)×"
    }
}
