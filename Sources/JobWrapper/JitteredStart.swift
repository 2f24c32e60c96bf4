import CProcess
import CronSchedule
import JobwatchCore
#if canImport(Glibc)
import Glibc
#endif

/// SPEC §6 `jitter` on the host. Cron starts `jobrun` on every host at the scheduled time;
/// before claiming the occurrence, `jobrun` waits for that occurrence's offset, which every
/// host and the monitor compute alike (`Jitter`). The occurrence is found with the same
/// jitter-aware window the claim uses, so a `jobrun` that cron started late waits only what
/// is left, and one started after the jittered start does not wait at all.
enum JitteredStart {
    /// Returns nil once the start is due, or the signal (TERM, INT, HUP, QUIT) that ended the
    /// wait: the job has not started, so there is nothing to forward it to.
    static func wait(for job: JobDefinition, diagnostics: Diagnostics) -> Int32? {
        guard let jitter = job.jitter, let schedule = job.schedule else { return nil }
        let now = Timestamp.nowMs()
        guard let occurrence = schedule.occurrence(startingAtMs: now, graceMs: job.grace.milliseconds, jitter: jitter) else {
            return nil
        }
        let due = jitter.start(of: occurrence / 1000) * 1000
        guard due > now else { return nil }
        diagnostics.info("occurrence \(rfc3339(occurrence / 1000, timeZone: job.timezone)) starts at \(rfc3339(due / 1000, timeZone: job.timezone)) (jitter \(Timespan(seconds: jitter.seconds))): waiting \(Timespan(milliseconds: due - now))")
        // Short steps on the wall clock: the instant is shared with other hosts and the monitor.
        while case let left = due - Timestamp.nowMs(), left > 0 {
            let signal = jw_wait_signal(Int(min(left, 1000)))
            if signal != 0 && signal != SIGCHLD { return signal }
        }
        return nil
    }
}
