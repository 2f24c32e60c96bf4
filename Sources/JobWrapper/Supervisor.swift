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
    /// `concurrency: replace`: a later occurrence may take the lease over.
    let replaceable: Bool
}

/// How a supervised run ended, before it is mapped to an exit code and a report.
struct RunEnding {
    enum Cause: Equatable {
        case finished
        case timedOut
        case leaseLost(String)
        /// A new occurrence took the lease over (`concurrency: replace`).
        case replaced
        case forwardedSignal(Int32)
    }

    let termination: ChildProcess.Termination
    let cause: Cause
    let durationMs: Int64

    var exitCode: Int32 {
        switch cause {
        case .timedOut: return ExitCode.timedOut
        case .leaseLost, .replaced: return ExitCode.leaseLost
        case .finished, .forwardedSignal: return termination.shellStatus
        }
    }

    var outcome: String {
        switch cause {
        case .timedOut: return "timeout"
        case .leaseLost: return "lock_lost"
        case .replaced: return "replaced"
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
/// place, in order, with no async-signal-safety traps. One supervisor holds the lease for the
/// whole run: every attempt, and the pauses between them.
struct Supervisor {
    var lease: HeldLease?
    let timeoutMs: Int64?
    let killAfterMs: Int64
    let diagnostics: Diagnostics
    private var renewAt: Int64?

    init(lease: HeldLease?, timeoutMs: Int64?, killAfterMs: Int64, diagnostics: Diagnostics) {
        self.lease = lease
        self.timeoutMs = timeoutMs
        self.killAfterMs = killAfterMs
        self.diagnostics = diagnostics
        if let l = lease, case .renewAt(let t) = l.timeline.firstRenewal { renewAt = t }
    }

    /// Supervises one attempt until its command exits. `timeoutMs` applies to each attempt.
    mutating func run(_ child: ChildProcess, startedAt: Int64) -> RunEnding {
        var cause = RunEnding.Cause.finished
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
            if let why = renewIfDue(now: now) { stop(why, now: monotonicMs()) }
            let wake = [renewAt, timeoutAt.flatMap { killAt == nil ? $0 : nil }, killAt == Int64.max ? nil : killAt]
                .compactMap { $0 }.min()
            let signal = waitForSignal(until: wake)
            if signal != 0 {
                if cause == .finished { cause = .forwardedSignal(signal) }
                child.signalGroup(signal)
            }
        }
    }

    /// `retry_delay` between attempts, the lease still held and renewed. Returns what ends the
    /// run instead of another attempt (the lease lost or taken over, a signal), or nil.
    mutating func pause(forMs delayMs: Int64) -> RunEnding.Cause? {
        let until = monotonicMs() + delayMs
        while true {
            let now = monotonicMs()
            if now >= until { return nil }
            if let why = renewIfDue(now: now) { return why }
            let signal = waitForSignal(until: min(renewAt ?? until, until))
            if signal != 0 { return .forwardedSignal(signal) }
        }
    }

    /// Renews the lease when due; the cause to stop the command for, if it was lost.
    private mutating func renewIfDue(now: Int64) -> RunEnding.Cause? {
        guard let r = renewAt, now >= r, var l = lease else { return nil }
        let action: LeaseTimeline.Action
        do {
            switch try l.client.renew(keys: l.keys, owner: l.owner, ttlMs: l.timeline.ttlMs, replaceable: l.replaceable) {
            case .renewed: action = l.timeline.renewed(sentAt: now)
            case .lost: action = l.timeline.renewRefused()
            case .replaced: action = l.timeline.renewReplaced()
            }
        } catch {
            action = l.timeline.renewUnreachable(now: monotonicMs(), error: "\(error)")
        }
        lease = l
        switch action {
        case .renewAt(let t):
            renewAt = t
        case .replaced:
            renewAt = nil
            diagnostics.warning("a new occurrence of \(l.keys.job) took over its lease (concurrency: replace); stopping this run")
            return .replaced
        case .leaseLost(let reason):
            renewAt = nil
            if l.policy == .stop {
                diagnostics.error("lease on \(l.keys.lock) lost (\(reason)); stopping the job")
                return .leaseLost(reason)
            }
            diagnostics.error("lease on \(l.keys.lock) lost (\(reason)); on_lock_lost: continue, the job keeps running")
        case .release, .none:
            renewAt = nil
        }
        return nil
    }

    /// Sleeps until `wake` (at most a second) or a signal; returns a signal to forward, or 0.
    private func waitForSignal(until wake: Int64?) -> Int32 {
        let waitMs = min(max((wake ?? Int64.max) - monotonicMs(), 0), 1000)
        let signal = jw_wait_signal(Int(waitMs))
        switch signal {
        case SIGTERM, SIGINT, SIGHUP, SIGQUIT:
            diagnostics.info("forwarding signal \(signal) to the job's process group")
            return signal
        default:
            return 0   // SIGCHLD or a timer: the caller re-checks everything
        }
    }
}
