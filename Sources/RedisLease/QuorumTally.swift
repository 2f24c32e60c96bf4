/// What one master answered to the acquire script (and the `WAIT` sent behind it).
public enum MasterAnswer: Sendable, Equatable {
    /// The lock (and the occurrence, if claimed) is ours on this master; `replicated` is
    /// false when `WAIT` saw fewer replicas acknowledge it than asked for.
    case granted(fence: Int64, replicated: Bool)
    case lockHeld(holder: String, ttlMs: Int64)
    case occurrenceTaken(runID: String)
    /// The host's clock differs from this master's by more than the tolerance: nothing taken.
    case clockSkew(serverMs: Int64)
    /// An error reply: NOAUTH, NOPERM, a read-only replica configured as a master.
    case refused(String)
    case unreachable(String)
}

/// Redlock's arithmetic, without I/O: from every master's answer to what the run may do.
/// A single master (or a Sentinel one) is a quorum of one.
public enum QuorumTally {
    public enum Decision: Sendable, Equatable {
        /// A majority granted; `replicated` when enough of them also had it acknowledged by
        /// their replicas to survive a failover.
        case acquired(fence: Int64, validForMs: Int64, replicated: Bool)
        /// Someone else holds it: the lock or the occurrence. Grants to roll back.
        case refused(AcquireOutcome)
        /// Nothing can be decided: Redis is down or refuses us. `configuration` when some
        /// master answered with an error (a fault that retrying and `on_redis_down` can't fix).
        case failed(configuration: Bool, reason: String)
    }

    public static func quorum(of masters: Int) -> Int { masters / 2 + 1 }

    /// Redlock's allowance for clock drift between this host and the servers over one lease:
    /// 1 % of its length plus 2 ms, taken off every validity (grant and renewal alike).
    public static func driftAllowance(ttlMs: Int64) -> Int64 { ttlMs / 100 + 2 }

    /// - Parameters:
    ///   - elapsedMs: time spent asking every master, taken off the lease's validity.
    ///   - ttlMs: the lease's length.
    public static func acquire(_ answers: [MasterAnswer], ttlMs: Int64, elapsedMs: Int64) -> Decision {
        let needed = quorum(of: answers.count)
        var fences: [Int64] = []
        var replicated = 0
        var refusal: AcquireOutcome?
        var errors: [String] = []
        var configurationErrors = 0
        var skewed: [Int64] = []
        var refusals = 0
        for answer in answers {
            switch answer {
            case .granted(let fence, let acknowledged):
                fences.append(fence)
                if acknowledged { replicated += 1 }
            case .lockHeld(let holder, let ttl):
                refusals += 1
                if refusal == nil { refusal = .lockHeld(holder: holder, ttlMs: ttl) }
            case .occurrenceTaken(let runID):
                refusals += 1
                // The occurrence is the stronger "no": waiting for the lock cannot change it.
                refusal = .occurrenceTaken(runID: runID)
            case .clockSkew(let serverMs):
                skewed.append(serverMs)
                errors.append("this host's clock differs from the server's")
            case .refused(let why):
                errors.append(why)
                configurationErrors += 1
            case .unreachable(let why):
                errors.append(why)
            }
        }
        // Redlock's validity: what is left of the TTL after the time spent asking, minus an
        // allowance for clock drift between us and the servers.
        let validity = ttlMs - elapsedMs - driftAllowance(ttlMs: ttlMs)
        if fences.count >= needed && validity > 0 {
            return .acquired(fence: fences.max() ?? 0, validForMs: validity, replicated: replicated >= needed)
        }
        // A majority of clocks disagree with ours: ours is wrong. (A master alone with a wrong
        // clock only fails to grant.)
        if skewed.count >= needed { return .refused(.clockSkew(serverMs: skewed.sorted()[skewed.count / 2])) }
        if let refusal {
            // A holder with a lease has a majority; fewer refusals are competitors' half-grants,
            // given back now, unless the rest of the masters were simply unreachable.
            let answered = fences.count + refusals
            return .refused(refusals < needed && answered >= needed ? .contested : refusal)
        }
        if configurationErrors > 0 { return .failed(configuration: true, reason: errors.joined(separator: "; ")) }
        return .failed(configuration: false, reason: errors.isEmpty ? "no quorum of Redis masters answered" : errors.joined(separator: "; "))
    }

    public enum RenewDecision: Sendable, Equatable {
        case renewed
        case lost
        /// Lost to a new occurrence that took it over (`concurrency: replace`).
        case replaced
        /// Too few answers to say either: retry until the lease would have expired.
        case undecided
    }

    /// `renewed`/`refused` count masters that extended the lease or said it is not ours;
    /// `replaced`, those of the refusals that said a new occurrence took it over.
    public static func renew(renewed: Int, refused: Int, replaced: Int = 0, masters: Int) -> RenewDecision {
        let needed = quorum(of: masters)
        if renewed >= needed { return .renewed }
        if refused > masters - needed { return replaced > 0 ? .replaced : .lost }
        return .undecided
    }
}
