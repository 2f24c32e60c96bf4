import CronSchedule
import MonitorCore

/// What became of one scheduled occurrence; the report counts these and the status page's
/// timeline draws them.
public enum OccurrenceOutcome: String, Codable, Sendable, CaseIterable {
    /// Started within grace and succeeded (late or not).
    case ran
    /// Started after the on-time slack but within grace, and succeeded.
    case late
    /// Started within grace and ended in failure, timeout, lost lock or kill.
    case failed
    /// Started within grace and has not finished.
    case running
    /// No start by scheduled time + grace.
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
        return schedule.occurrences(from: first, through: last).map { $0 * 1000 }
    }

    /// The occurrence a run belongs to: what `jobrun` said it was for, else the latest
    /// scheduled instant at or before its start (the monitor's own rule).
    static func occurrence(of run: RunRecord, _ spec: JobSpec) -> Int64? {
        if let scheduled = run.scheduledFor { return scheduled }
        return spec.schedule?.previous(atOrBefore: TimeWords.seconds(run.startedAt)).map { $0 * 1000 }
    }

    static func classify(
        _ instants: [Int64], spec: JobSpec, runs: [RunRecord], spans: [StateSpan], now: Int64
    ) -> [Occurrence] {
        var firstRun: [Int64: RunRecord] = [:]
        for run in runs {
            guard let at = occurrence(of: run, spec) else { continue }
            if let seen = firstRun[at], seen.startedAt <= run.startedAt { continue }
            firstRun[at] = run
        }
        var pauses = spans.filter { $0.state == .paused }[...]
        return instants.map { at in
            while let pause = pauses.first, pause.end <= at { pauses.removeFirst() }
            if let pause = pauses.first, pause.start <= at {
                return Occurrence(at: at, outcome: .paused, startedLate: false)
            }
            guard let run = firstRun[at], run.startedAt <= at + spec.grace else {
                return Occurrence(at: at, outcome: at + spec.grace > now ? .pending : .missed, startedLate: false)
            }
            let late = run.startedAt > at + onTimeSlack
            switch run.outcome {
            case nil: return Occurrence(at: at, outcome: .running, startedLate: late)
            case .success?: return Occurrence(at: at, outcome: late ? .late : .ran, startedLate: late)
            case .failure?, .timeout?, .lockLost?, .killed?: return Occurrence(at: at, outcome: .failed, startedLate: late)
            }
        }
    }
}
