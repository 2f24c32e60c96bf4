import JobwatchCore
import RedisLease
import Reporting

/// One run's reports to the monitor, built from what `JobRun` knows at each step.
///
/// Timing: nothing is sent before the child is spawned, so reporting never delays its exec;
/// `start` goes out right after the spawn (it needs the pid), `finish` once the output has
/// drained (it needs the tail) and before the lease is released, so that on the shared
/// stream a run's finish always precedes the start of the next holder of the lock.
final class RunReports {
    private let reporter: RunReporter
    private let job: String
    private let runID: String
    private let host: String

    init(settings: RunSettings, runID: String, diagnostics: Diagnostics) {
        reporter = RunReporter(config: settings.config, redis: .topology(settings.topology),
                               info: { diagnostics.info($0) }, warning: { diagnostics.warning($0) })
        job = settings.job.name
        self.runID = runID
        host = settings.host
    }

    /// Reports travel on the lease's own connections: no second connect per run. The monitor's
    /// master (a quorum's first) comes first; a master the lease could not reach is not tried.
    func useRedis(_ client: LeaseClient) {
        let reachable = client.masters.filter(\.isConnected)
        reporter.redis = reachable.isEmpty ? .unreachable : .connections(reachable)
    }

    /// Redis already failed this run: don't wait out its timeouts again for each report.
    func redisUnreachable() { reporter.redis = .unreachable }

    func skipped(_ reason: RunEvent.SkipReason, holder: String, scheduledFor: Int64?) {
        reporter.report(.skip(job: job, runID: runID, host: host, reason: reason, holder: holder, scheduledFor: scheduledFor))
    }

    /// `leaseMs`: the lease's length when the run holds one (a cronlock-mode lock is no lease
    /// the monitor can watch).
    func started(pid: Int32, scheduledFor: Int64?, fence: Int64, command: String, leaseMs: Int64?) {
        reporter.report(.start(job: job, runID: runID, host: host, pid: pid, startedAtMs: Timestamp.nowMs(),
                               scheduledFor: scheduledFor, fence: fence, command: command, leaseMs: leaseMs))
    }

    /// The command could not be started (not found, not executable): the monitor hears of a
    /// run that failed at once, exit 127 like a shell's, with the reason as its output.
    func couldNotStart(because reason: String, scheduledFor: Int64?, fence: Int64, command: String) {
        reporter.report(.start(job: job, runID: runID, host: host, pid: 0, startedAtMs: Timestamp.nowMs(),
                               scheduledFor: scheduledFor, fence: fence, command: command, leaseMs: nil))
        reporter.report(.finish(job: job, runID: runID, host: host, exitCode: 127, signal: nil, durationMs: 0,
                                outcome: "failure", outputTail: "jobrun: \(reason)\n"))
    }

    func finished(_ result: RunResult, tail: OutputTail) {
        var signal: Int32?
        if case .signaled(let s) = result.ending.termination { signal = s }
        reporter.report(.finish(job: job, runID: runID, host: host, exitCode: result.exitCode, signal: signal,
                                durationMs: result.ending.durationMs, outcome: result.outcome, outputTail: tail.text,
                                attemptExitCodes: result.attemptExitCodes, reason: result.reason))
    }
}
