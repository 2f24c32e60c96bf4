import CronSchedule
import MonitorCore

/// What became of one scheduled occurrence; the report counts these and the status page's
/// timeline draws them.
public enum OccurrenceOutcome: String, Codable, Sendable, CaseIterable {
    /// Started within grace and succeeded (late or not).
    case ran
    /// Started after the on-time slack (counted from its jittered start) but within grace, and
    /// succeeded.
    case late
    /// Started within grace and ended in failure, timeout, lost lock or kill.
    case failed
    /// Started within grace and has not finished.
    case running
    /// No start by scheduled time + jitter offset + grace.
    case missed
    /// Its deadline is still ahead.
    case pending
    /// Falls in a paused interval: not expected at all.
    case paused
}

struct Occurrence: Equatable {
    var at: Int64
    var outcome: OccurrenceOutcome
    var startedLate: Bool
}

enum OccurrenceMatching {
    /// Cron starts jobs on the minute and `jobrun` takes a lock first, so a start within a
    /// minute of the scheduled time is on time; later than that (but within grace) is late.
    static let onTimeSlack: Int64 = 60_000

    /// The scheduled instants in `[from, to)`, in epoch milliseconds.
    static func scheduled(_ spec: JobSpec, from: Int64, to: Int64) -> [Int64] {
        guard let schedule = spec.schedule, to > from else { return [] }
        let first = TimeWords.seconds(from + 999)
        let last = TimeWords.seconds(to - 1)
        guard first <= last else { return [] }
        // Scaled in place: a minute-level job has ten thousand instants a week.
        var instants = schedule.occurrences(from: first, through: last)
        for index in instants.indices { instants[index] *= 1000 }
        return instants
    }

    /// The occurrence a run belongs to: what `jobrun` said it was for, else the latest
    /// scheduled instant at or before its start (the monitor's own rule).
    static func occurrence(scheduledFor: Int64?, startedAt: Int64, _ spec: JobSpec) -> Int64? {
        if let scheduledFor { return scheduledFor }
        return spec.schedule?.previous(atOrBefore: TimeWords.seconds(startedAt)).map { $0 * 1000 }
    }

    /// The part of a run that decides its occurrence's outcome.
    private struct Start {
        var startedAt: Int64
        var outcome: RunOutcome?
    }

    /// For each of `instants` (ascending), the earliest start among the runs that belong to it.
    /// Runs come in start order, so each one's occurrence is almost always the previous run's
    /// or the next one: the two lists are merged, and only a run out of order costs a bisection.
    private static func firstStarts(_ instants: [Int64], spec: JobSpec, runs: [RunRecord]) -> [Start?] {
        var starts = [Start?](repeating: nil, count: instants.count)
        var cursor = 0
        // Fields are read one by one: binding a whole record would copy it and retain its strings.
        for i in runs.indices {
            let startedAt = runs[i].startedAt
            guard let at = occurrence(scheduledFor: runs[i].scheduledFor, startedAt: startedAt, spec) else { continue }
            cursor = lowerBound(at, in: instants, near: cursor)
            guard cursor < instants.count, instants[cursor] == at else { continue }
            if let seen = starts[cursor], seen.startedAt <= startedAt { continue }
            starts[cursor] = Start(startedAt: startedAt, outcome: runs[i].outcome)
        }
        return starts
    }

    /// The index of the first element of `sorted` at or after `t`, trying `hint` and the
    /// index after it before bisecting.
    private static func lowerBound(_ t: Int64, in sorted: [Int64], near hint: Int) -> Int {
        func isLowerBound(_ i: Int) -> Bool {
            (i == sorted.count || sorted[i] >= t) && (i == 0 || sorted[i - 1] < t)
        }
        if isLowerBound(hint) { return hint }
        if hint < sorted.count, isLowerBound(hint + 1) { return hint + 1 }
        var low = 0
        var high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] < t { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// What became of each of `instants` (ascending), handed to `body` in order: the report
    /// only counts them, so none is stored.
    static func classify(
        _ instants: [Int64], spec: JobSpec, runs: [RunRecord], spans: [StateSpan], now: Int64,
        _ body: (Occurrence) -> Void
    ) {
        let starts = firstStarts(instants, spec: spec, runs: runs)
        var pauses = spans.filter { $0.state == .paused }[...]
        for (index, at) in instants.enumerated() {
            while let pause = pauses.first, pause.end <= at { pauses.removeFirst() }
            if let pause = pauses.first, pause.start <= at {
                body(Occurrence(at: at, outcome: .paused, startedLate: false))
                continue
            }
            let deadline = spec.startDeadline(of: at)
            guard let start = starts[index], start.startedAt <= deadline else {
                body(Occurrence(at: at, outcome: deadline > now ? .pending : .missed, startedLate: false))
                continue
            }
            let late = start.startedAt > spec.expectedStart(of: at) + onTimeSlack
            switch start.outcome {
            case nil: body(Occurrence(at: at, outcome: .running, startedLate: late))
            // A run replaced by the next occurrence ran; the replacing run is judged on its own.
            case .success?, .replaced?: body(Occurrence(at: at, outcome: late ? .late : .ran, startedLate: late))
            case .failure?, .timeout?, .lockLost?, .killed?: body(Occurrence(at: at, outcome: .failed, startedLate: late))
            }
        }
    }

    /// The same as a list, for the timeline strip, which draws each one.
    static func classify(
        _ instants: [Int64], spec: JobSpec, runs: [RunRecord], spans: [StateSpan], now: Int64
    ) -> [Occurrence] {
        var occurrences: [Occurrence] = []
        occurrences.reserveCapacity(instants.count)
        classify(instants, spec: spec, runs: runs, spans: spans, now: now) { occurrences.append($0) }
        return occurrences
    }
}
