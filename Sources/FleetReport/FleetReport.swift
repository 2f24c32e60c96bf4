import CronSchedule
import MonitorCore

/// The weekly missed-job report (SPEC §3.2 `report`, §3.4): every job over `[from, to)`,
/// jobs with problems first.
public struct FleetReport: Codable, Sendable, Equatable {
    /// Epoch milliseconds; written as RFC 3339 in UTC.
    public var from: Int64
    public var to: Int64
    public var summary: Summary
    public var jobs: [JobReport]

    public struct Summary: Codable, Sendable, Equatable {
        public var jobs: Int
        public var expected: Int
        public var runs: Int
        /// Missed occurrences and failed runs, summed over the fleet.
        public var missed: Int
        public var failed: Int
        /// Problems that fell inside maintenance windows (`JobReport.inMaintenance`), summed.
        public var inMaintenance: Int
        /// One line for people: "42 jobs, 3 missed 5 runs, 1 failing since Tue 02:30".
        public var text: String

        private enum CodingKeys: String, CodingKey {
            case jobs, expected, runs, missed, failed, inMaintenance = "in_maintenance", text
        }

        init(jobs: Int, expected: Int, runs: Int, missed: Int, failed: Int, inMaintenance: Int, text: String) {
            (self.jobs, self.expected, self.runs, self.missed, self.failed) = (jobs, expected, runs, missed, failed)
            self.inMaintenance = inMaintenance
            self.text = text
        }

        // `in_maintenance` is read as 0 from reports of monitors that predate it.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(jobs: try c.decode(Int.self, forKey: .jobs), expected: try c.decode(Int.self, forKey: .expected),
                      runs: try c.decode(Int.self, forKey: .runs), missed: try c.decode(Int.self, forKey: .missed),
                      failed: try c.decode(Int.self, forKey: .failed),
                      inMaintenance: try c.decodeIfPresent(Int.self, forKey: .inMaintenance) ?? 0,
                      text: try c.decode(String.self, forKey: .text))
        }
    }

    /// `timeZone` (`monitor.report.timezone`) is where the summary line's times are read.
    public init(_ histories: [JobHistory], from: Int64, to: Int64, now: Int64, timeZone: String) {
        var jobs: [JobReport] = []
        var failing: [Int64] = []
        var overdue: [Int64] = []
        for history in histories {
            let spans = history.stateSpans(from: from, to: to)
            jobs.append(JobReport(history, spans: spans, from: from, to: to, now: now))
            guard let last = spans.last else { continue }
            if last.state == .failed { failing.append(last.since ?? last.start) }
            if last.state == .overdue { overdue.append(last.since ?? last.start) }
        }
        self.from = from
        self.to = to
        self.jobs = jobs.sorted(by: Self.problemsFirst)
        let missedJobs = jobs.filter { $0.missed > 0 }
        let failedJobs = jobs.filter { $0.failed > 0 }
        var parts = [Self.count(jobs.count, "job")]
        if !missedJobs.isEmpty {
            parts.append("\(missedJobs.count) missed " + Self.count(missedJobs.reduce(0) { $0 + $1.missed }, "run"))
        }
        if !failedJobs.isEmpty {
            parts.append("\(failedJobs.count) failed " + Self.count(failedJobs.reduce(0) { $0 + $1.failed }, "run"))
        }
        parts += [Self.still(failing, "failing", timeZone), Self.still(overdue, "overdue", timeZone)].compactMap { $0 }
        if parts.count == 1 { parts.append("no missed or failed runs") }
        let maintained = jobs.reduce(0) { $0 + $1.inMaintenance }
        if maintained > 0 { parts.append("\(Self.count(maintained, "problem")) inside maintenance windows") }
        summary = Summary(
            jobs: jobs.count, expected: jobs.reduce(0) { $0 + $1.expected }, runs: jobs.reduce(0) { $0 + $1.runs },
            missed: jobs.reduce(0) { $0 + $1.missed }, failed: jobs.reduce(0) { $0 + $1.failed },
            inMaintenance: maintained, text: parts.joined(separator: ", "))
    }

    /// Most missed first, then most failed, then most overdue; the healthy by name.
    static func problemsFirst(_ a: JobReport, _ b: JobReport) -> Bool {
        if a.missed != b.missed { return a.missed > b.missed }
        if a.failed != b.failed { return a.failed > b.failed }
        if a.overdue != b.overdue { return a.overdue > b.overdue }
        return a.job < b.job
    }

    private static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)" + (n == 1 ? "" : "s") }

    /// "1 failing since Tue 02:30", or "3 failing, the longest since Mon 09:00".
    private static func still(_ since: [Int64], _ word: String, _ timeZone: String) -> String? {
        guard let oldest = since.min() else { return nil }
        let when = TimeWords.weekdayAndTime(oldest, timeZone: timeZone)
        return since.count == 1 ? "1 \(word) since \(when)" : "\(since.count) \(word), the longest since \(when)"
    }

    private enum CodingKeys: String, CodingKey { case from, to, summary, jobs }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func instant(_ key: CodingKeys) throws -> Int64 {
            guard let seconds = parseRFC3339(try c.decode(String.self, forKey: key)) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "not RFC 3339")
            }
            return seconds * 1000
        }
        from = try instant(.from)
        to = try instant(.to)
        summary = try c.decode(Summary.self, forKey: .summary)
        jobs = try c.decode([JobReport].self, forKey: .jobs)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rfc3339(TimeWords.seconds(from), timeZone: "UTC"), forKey: .from)
        try c.encode(rfc3339(TimeWords.seconds(to), timeZone: "UTC"), forKey: .to)
        try c.encode(summary, forKey: .summary)
        try c.encode(jobs, forKey: .jobs)
    }
}
