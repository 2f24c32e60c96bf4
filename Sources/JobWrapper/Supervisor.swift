import CProcess
import JobwatchCore
import RedisLease
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// A lease held while the child runs, with the means to renew it.
struct HeldLease {
    let client: LeaseClient
    let keys: LeaseKeys
    let owner: String
    var timeline: LeaseTimeline
    let policy: LockLossPolicy
}

/// How a supervised run ended, before it is mapped to an exit code and a report.
struct RunEnding {
    enum Cause: Equatable {
        case finished
        case timedOut
        case leaseLost(String)
        case forwardedSignal(Int32)
    }

    let termination: ChildProcess.Termination
    let cause: Cause
    let durationMs: Int64

    var exitCode: Int32 {
        switch cause {
        case .timedOut: return ExitCode.timedOut
        case .leaseLost: return ExitCode.leaseLost
        case .finished, .forwardedSignal: return termination.shellStatus
        }
    }

    var outcome: String {
        switch cause {
        case .timedOut: return "timeout"
        case .leaseLost: return "lock_lost"
        case .forwardedSignal: return "killed"
        case .finished:
            if case .exited(0) = termination { return "success" }
            if case .signaled = termination { return "killed" }
            return "failure"
        }
    }
}

/// Waits for the child on the main thread with all wrapper signals blocked and taken
/// synchronously (sigtimedwait), so signals, timers and lease renewals are handled in one
/// place, in order, with no async-signal-safety traps.
struct Supervisor {
    let child: ChildProcess
    var lease: HeldLease?
    let timeoutMs: Int64?
    let killAfterMs: Int64
    let diagnostics: Diagnostics

    mutating func run(startedAt: Int64) -> RunEnding {
        var cause = RunEnding.Cause.finished
        var renewAt: Int64? = nil
        if let l = lease, case .renewAt(let t) = l.timeline.firstRenewal { renewAt = t }
        let timeoutAt = timeoutMs.map { startedAt + $0 }
        var killAt: Int64? = nil

        func stop(_ why: RunEnding.Cause, now: Int64) {
            guard killAt == nil else { return }
            if cause == .finished { cause = why }
            child.signalGroup(SIGTERM)
            killAt = now + killAfterMs
        }

        while true {
            if let t = child.poll() {
                return RunEnding(termination: t, cause: cause, durationMs: monotonicMs() - startedAt)
            }
            let now = monotonicMs()
            if let t = timeoutAt, now >= t, killAt == nil {
                diagnostics.warning("\(lease?.keys.job ?? "job") exceeded its timeout of \(Timespan(milliseconds: timeoutMs!)); sending SIGTERM to its process group")
                stop(.timedOut, now: now)
            }
            if let k = killAt, now >= k {
                diagnostics.warning("still running \(Timespan(milliseconds: killAfterMs)) after SIGTERM; sending SIGKILL")
                child.signalGroup(SIGKILL)
                killAt = Int64.max
            }
            if let r = renewAt, now >= r, var l = lease {
                let action: LeaseTimeline.Action
                do {
                    switch try l.client.renew(keys: l.keys, owner: l.owner, ttlMs: l.timeline.ttlMs) {
                    case .renewed: action = l.timeline.renewed(sentAt: now)
                    case .lost: action = l.timeline.renewRefused()
                    }
                } catch {
                    action = l.timeline.renewUnreachable(now: monotonicMs(), error: "\(error)")
                }
                lease = l
                switch action {
                case .renewAt(let t): renewAt = t
                case .leaseLost(let reason):
                    renewAt = nil
                    if l.policy == .stop {
                        diagnostics.error("lease on \(l.keys.lock) lost (\(reason)); stopping the job")
                        stop(.leaseLost(reason), now: monotonicMs())
                    } else {
                        diagnostics.error("lease on \(l.keys.lock) lost (\(reason)); on_lock_lost: continue, the job keeps running")
                    }
                case .release, .none: renewAt = nil
                }
            }
            let wake = [renewAt, timeoutAt.flatMap { killAt == nil ? $0 : nil }, killAt == Int64.max ? nil : killAt]
                .compactMap { $0 }.min()
            let waitMs = min(max((wake ?? Int64.max) - monotonicMs(), 0), 1000)
            let signal = jw_wait_signal(Int(waitMs))
            switch signal {
            case SIGTERM, SIGINT, SIGHUP, SIGQUIT:
                diagnostics.info("forwarding signal \(signal) to the job's process group")
                if cause == .finished { cause = .forwardedSignal(signal) }
                child.signalGroup(signal)
            default:
                break   // SIGCHLD or a timer: the loop re-checks everything
            }
        }
    }
}
