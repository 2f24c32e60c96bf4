/// The attempts of one run (`retries`, SPEC §6) and what they add up to: one run, one
/// finish report, judged by its last attempt.
struct Attempts {
    let retries: Int
    private(set) var endings: [RunEnding] = []
    /// Why the last attempt failed its `output_rules` despite exiting 0.
    private var reason: String?
    /// The lease lost or taken over, or a signal, while waiting to retry.
    private var endedBetween: RunEnding.Cause?

    init(retries: Int) { self.retries = retries }

    var count: Int { endings.count }

    /// `verdict`: the output rules' reason to fail the attempt, if any.
    mutating func record(_ ending: RunEnding, verdict: String?) {
        endings.append(ending)
        reason = ending.outcome == "success" ? verdict : nil
    }

    mutating func endBetweenAttempts(_ cause: RunEnding.Cause) { endedBetween = cause }

    var lastOutcome: String { reason.map { "output rules: \($0)" } ?? endings.last?.outcome ?? "none" }

    /// Another attempt is due: the last one failed by itself — a non-zero exit, a signal, a
    /// `max_runtime` kill or an output rule — and retries are left. A run stopped from outside
    /// (forwarded signal, lease lost or taken over) is not retried.
    var mayRetry: Bool {
        guard let last = endings.last, endings.count <= retries else { return false }
        switch last.cause {
        case .finished: return last.outcome != "success" || reason != nil
        case .timedOut: return true
        case .leaseLost, .replaced, .forwardedSignal: return false
        }
    }

    func result(durationMs: Int64) -> RunResult {
        let last = endings[endings.count - 1]
        var cause = last.cause
        if let endedBetween {
            switch endedBetween {
            case .leaseLost, .replaced: cause = endedBetween
            case .finished, .timedOut, .forwardedSignal: break   // the last attempt's result stands
            }
        }
        return RunResult(ending: RunEnding(termination: last.termination, cause: cause, durationMs: durationMs),
                         attemptExitCodes: retries > 0 ? endings.map(\.exitCode) : nil, reason: reason)
    }
}

/// How the whole run ended, as reported and as `jobrun` exits.
struct RunResult {
    /// The last attempt's ending (or the lease's fate between attempts), with the run's duration.
    let ending: RunEnding
    /// Every attempt's exit code, for a job with `retries`; nil otherwise.
    let attemptExitCodes: [Int32]?
    /// Why output rules failed a run that exited 0.
    let reason: String?

    /// The command's code even when an output rule failed the run (SPEC §6).
    var exitCode: Int32 { ending.exitCode }

    var outcome: String { reason != nil && ending.outcome == "success" ? "failure" : ending.outcome }
}
