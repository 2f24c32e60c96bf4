import FleetReport
import Foundation
import MonitorCore

/// The recorded history (`mon:state`, `mon:runs:<job>`, `mon:changes`) turned into the inputs
/// of FleetReport: `[JobHistory]` for the weekly report, `[StatusRow]` for the status page.
/// Every replica can do this: it only reads Redis.
public struct FleetHistory: Sendable {
    private let reads: MonitorReads
    private let clock: @Sendable () -> Int64

    /// The status page's timeline strip covers this much.
    public static let statusWindowMs: Int64 = 7 * 86_400_000

    public init(environment: MonitorEnvironment) {
        reads = MonitorReads(environment: environment)
        clock = environment.clock
    }

    /// Every job over `[from, to)`. Changes and runs are read through now, not just to `to`:
    /// a job with no change since the period began was in its present state all along, and
    /// an occurrence near the end is matched with a run that started within grace after it.
    public func histories(from: Int64, to: Int64) async throws -> [JobHistory] {
        let now = clock()
        let inputs = try await reads.reportInputs(from: from, to: max(now, to))
        let changes = Self.stateChanges(inputs.changes)
        return inputs.monitors.sorted { $0.key < $1.key }.map { job, monitor in
            let jobChanges = changes[job] ?? []
            return JobHistory(
                spec: monitor.spec, runs: inputs.runs[job] ?? [], changes: jobChanges,
                stateAtStart: jobChanges.isEmpty ? monitor.recordedState : nil, watchedSince: monitor.firstSeen)
        }
    }

    /// The report for `[from, to)`; `timeZone` is where the summary line reads its times.
    public func report(from: Int64, to: Int64, timeZone: String) async throws -> FleetReport {
        let histories = try await histories(from: from, to: to)
        return FleetReport(histories, from: from, to: to, now: clock(), timeZone: timeZone)
    }

    /// Every job with the last seven days of runs and changes, as `statusPage` wants them.
    public func statusRows() async throws -> [StatusRow] {
        let now = clock()
        let inputs = try await reads.reportInputs(from: now - Self.statusWindowMs, to: now)
        let changes = Self.stateChanges(inputs.changes)
        return inputs.monitors.map { job, monitor in
            let current = monitor.runningRuns.values.max { $0.startedAt < $1.startedAt }
            let latest = [current, monitor.lastRun].compactMap { $0 }.max { $0.startedAt < $1.startedAt }
            return StatusRow(
                spec: monitor.spec, state: monitor.state(at: now), lastRun: latest,
                nextExpected: monitor.expectedOccurrence.map(monitor.spec.expectedStart), runs: inputs.runs[job] ?? [], changes: changes[job] ?? [],
                flapping: monitor.isFlapping(at: now))
        }
    }

    /// `mon:changes` also records alerts sent (`alert` set, `to` an incident kind); only the
    /// state changes describe where the job was, oldest first per job.
    static func stateChanges(_ recorded: [RecordedChange]) -> [String: [StateChange]] {
        var byJob: [String: [StateChange]] = [:]
        for change in recorded where change.alert == nil {
            guard let from = JobState(rawValue: change.from), let to = JobState(rawValue: change.to) else { continue }
            byJob[change.job, default: []].append(StateChange(from: from, to: to, at: change.at, reason: change.reason))
        }
        return byJob.mapValues { $0.sorted { $0.at < $1.at } }
    }
}
