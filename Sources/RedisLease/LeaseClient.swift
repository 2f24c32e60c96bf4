import SystemSupport
#if canImport(Glibc)
import Glibc
import JobwatchCore
#endif

/// Takes, renews and releases a job's lease on the configured Redis deployment: the I/O
/// only; `QuorumTally` decides what the answers mean.
///
/// A single master and a Redlock quorum use the same code: each operation goes to every
/// master and succeeds when a majority agrees (a majority of one is one). A Sentinel master is
/// one connection that follows failovers by itself (`RedisConnection(sentinel:)`).
///
/// With `replicaAcks` > 0, every grant is followed by `WAIT replicaAcks timeout` in the same
/// round trip, so the caller learns whether the claim would survive its master's failover.
public final class LeaseClient {
    public let topology: RedisTopology
    public private(set) var masters: [RedisConnection] = []
    private let timeoutMs: Int
    private let attempts: Int
    public let replicaAcks: Int
    public let replicaTimeoutMs: Int
    /// Whether the last acquisition was granted by the first master, where the monitor keeps
    /// its state and looks at leases to find lost runs.
    public private(set) var primaryGranted = false

    public var quorum: Int { QuorumTally.quorum(of: masters.count) }

    public init(topology: RedisTopology, timeoutMs: Int = 1000, attempts: Int = 3, replicaAcks: Int = 0, replicaTimeoutMs: Int = 250) {
        self.topology = topology
        self.timeoutMs = timeoutMs
        self.attempts = attempts
        self.replicaAcks = replicaAcks
        self.replicaTimeoutMs = replicaTimeoutMs
    }

    /// Connects to the masters; throws unless at least a quorum is reachable.
    public func connect() throws {
        switch topology {
        case .single(let e):
            masters = [RedisConnection(endpoint: e, timeoutMs: timeoutMs, attempts: attempts)]
        case .quorum(let es):
            masters = es.map { RedisConnection(endpoint: $0, timeoutMs: timeoutMs, attempts: attempts) }
        case .sentinel(let master):
            masters = [RedisConnection(sentinel: master, timeoutMs: timeoutMs, attempts: attempts)]
        }
        var failures: [RedisError] = []
        for m in masters {
            do { try m.connect() } catch let e as RedisError { failures.append(e) }
        }
        if masters.count - failures.count < quorum {
            // A refusal (wrong password, unknown ACL user) is a configuration error, not an
            // outage: it must never trigger `on_redis_down: run` and its lock-free runs.
            let kind: RedisError.Kind = failures.contains { $0.kind == .server } ? .server : .unreachable
            throw RedisError(kind, failures.map(\.message).joined(separator: "; "))
        }
    }

    /// Takes the lock, the fencing token and (with `claim`) the occurrence in one script per
    /// master. Anything short of a quorum is given back before this returns or throws.
    public func acquire(keys: LeaseKeys, owner: String, ttlMs: Int64, claim: OccurrenceClaim?) throws -> AcquireOutcome {
        var lockKeys = [keys.lock, keys.fence]
        var args = [owner, String(ttlMs)]
        if let claim {
            lockKeys.append(keys.occurrence(claim.epoch))
            args += [claim.runID, String(claim.ttlSeconds)]
            if let hostClock = claim.hostClockMs { args += [String(hostClock), String(OccurrenceClaim.skewToleranceMs)] }
        }
        return try decide(LeaseScripts.acquire, keys: keys, owner: owner, ttlMs: ttlMs, claim: claim, scriptKeys: lockKeys, args: args)
    }

    /// `concurrency: replace`: takes the lease from `holder` for the occurrence in `claim`, and
    /// marks that holder replaced (`keys.replacing`, kept `markMs`) so its renewal stops it.
    public func takeOver(keys: LeaseKeys, owner: String, ttlMs: Int64, claim: OccurrenceClaim, from holder: String,
                         markMs: Int64) throws -> AcquireOutcome {
        try decide(LeaseScripts.takeOver, keys: keys, owner: owner, ttlMs: ttlMs, claim: claim,
                   scriptKeys: [keys.lock, keys.fence, keys.occurrence(claim.epoch), keys.replacing],
                   args: [owner, String(ttlMs), claim.runID, String(claim.ttlSeconds), holder, String(markMs)])
    }

    /// Whether the run that was taken over still has its command running: some master still
    /// holds its `replacing` mark. An unreachable master cannot say, and does not hold us up.
    public func replacedRunStillStopping(keys: LeaseKeys) -> Bool {
        masters.contains { (try? $0.command(["EXISTS", keys.replacing]))?.integer == 1 }
    }

    /// The replaced run's last word: its command has exited, so the new run may start.
    public func replacedRunStopped(keys: LeaseKeys, owner: String) {
        for m in masters { _ = try? m.evaluate(LeaseScripts.release, keys: [keys.replacing], args: [owner]) }
    }

    private func decide(_ script: RedisScript, keys: LeaseKeys, owner: String, ttlMs: Int64, claim: OccurrenceClaim?,
                        scriptKeys lockKeys: [String], args: [String]) throws -> AcquireOutcome {
        let started = monotonicMs()
        let answers = masters.map { ask($0, script, keys: lockKeys, args: args) }
        if case .granted = answers.first { primaryGranted = true } else { primaryGranted = false }
        let decision = QuorumTally.acquire(answers, ttlMs: ttlMs, elapsedMs: monotonicMs() - started)
        if case .acquired(let fence, let validity, let replicated) = decision {
            return replicated ? .acquired(fence: fence, validForMs: validity) : .unreplicated(fence: fence, validForMs: validity)
        }
        for (m, answer) in zip(masters, answers) {
            if case .granted = answer { giveBack(on: m, keys: keys, owner: owner, claim: claim) }
        }
        switch decision {
        case .acquired: fatalError("handled above")
        case .refused(let outcome): return outcome
        case .failed(let configuration, let reason): throw RedisError(configuration ? .server : .unreachable, reason)
        }
    }

    private func ask(_ m: RedisConnection, _ script: RedisScript, keys: [String], args: [String]) -> MasterAnswer {
        do {
            let (reply, acknowledgedBy) = try m.evaluate(script, keys: keys, args: args,
                                                         waitingFor: replicaAcks, timeoutMs: replicaTimeoutMs)
            if case .error(let message) = reply { return .refused("\(m.endpoint): \(message)") }
            guard let items = reply.array, items.count >= 2, let kind = items[1].string else {
                return .unreachable("unexpected reply from \(m.endpoint): \(reply)")
            }
            switch kind {
            case "ok":
                return .granted(fence: items.count > 2 ? items[2].integer ?? 0 : 0, replicated: acknowledgedBy >= replicaAcks)
            case "lock":
                return .lockHeld(holder: items.count > 2 ? items[2].string ?? "" : "", ttlMs: items.count > 3 ? items[3].integer ?? -1 : -1)
            case "occurrence":
                return .occurrenceTaken(runID: items.count > 2 ? items[2].string ?? "" : "")
            case "clock":
                return .clockSkew(serverMs: items.count > 2 ? items[2].integer ?? 0 : 0)
            default:
                return .unreachable("unexpected reply from \(m.endpoint): \(reply)")
            }
        } catch {
            return .unreachable("\(error)")
        }
    }

    /// Gives back the lock and the occurrence claim on every master: a lease that was granted
    /// but must not be used (short of a quorum, or not replicated with `on_redis_down: skip`),
    /// so that a host waiting with `lock_wait` may take the occurrence.
    public func giveBack(keys: LeaseKeys, owner: String, claim: OccurrenceClaim?) {
        for m in masters { giveBack(on: m, keys: keys, owner: owner, claim: claim) }
    }

    private func giveBack(on m: RedisConnection, keys: LeaseKeys, owner: String, claim: OccurrenceClaim?) {
        var releaseKeys = [keys.lock]
        var releaseArgs = [owner]
        if let claim {
            releaseKeys.append(keys.occurrence(claim.epoch))
            releaseArgs.append(claim.runID)
        }
        _ = try? m.evaluate(LeaseScripts.release, keys: releaseKeys, args: releaseArgs)
    }

    /// Extends the lease on every master. Returns `.lost` only when enough masters answered
    /// that it is not ours for a quorum to be impossible; throws when they could not be asked.
    /// `replaceable`: also ask whether a new occurrence took it over (`concurrency: replace`).
    public func renew(keys: LeaseKeys, owner: String, ttlMs: Int64, replaceable: Bool = false) throws -> RenewOutcome {
        var renewed = 0
        var refused = 0
        var replaced = 0
        var errors: [String] = []
        let renewKeys = replaceable ? [keys.lock, keys.replacing] : [keys.lock]
        for m in masters {
            do {
                let reply = try m.evaluate(LeaseScripts.renew, keys: renewKeys, args: [owner, String(ttlMs)])
                switch reply.integer {
                case 1: renewed += 1
                case 2: refused += 1; replaced += 1
                default: if reply.isError { errors.append("\(reply)") } else { refused += 1 }
                }
            } catch {
                errors.append("\(error)")
            }
        }
        switch QuorumTally.renew(renewed: renewed, refused: refused, replaced: replaced, masters: masters.count) {
        case .renewed: return .renewed
        case .lost: return .lost
        case .replaced: return .replaced
        case .undecided: throw RedisError(.unreachable, errors.joined(separator: "; "))
        }
    }

    /// Gives the lease back; with `holdUntil` (Unix seconds) the key instead stays until then,
    /// as cronlock's grace period keeps other hosts from re-running a short job.
    public func release(keys: LeaseKeys, owner: String, holdUntil: Int64? = nil) {
        for m in masters {
            if let holdUntil {
                _ = try? m.evaluate(LeaseScripts.releaseHolding, keys: [keys.lock], args: [owner, String(holdUntil)])
            } else {
                _ = try? m.evaluate(LeaseScripts.release, keys: [keys.lock], args: [owner])
            }
        }
    }

    /// The lock as the first reachable master sees it.
    public func inspect(keys: LeaseKeys) throws -> LockState {
        var lastError: Error = RedisError(.unreachable, "no Redis master configured")
        for m in masters {
            do {
                let r = try m.pipeline([["GET", keys.lock], ["PTTL", keys.lock], ["GET", keys.fence]])
                let ttl = r[1].integer ?? -2
                return LockState(holder: r[0].string, ttlMs: ttl >= 0 ? ttl : nil, fence: r[2].integer ?? 0)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Operator override: deletes the lock whoever holds it. Returns the previous holder.
    public func forceUnlock(keys: LeaseKeys) throws -> String? {
        var previous: String?
        var reached = 0
        for m in masters {
            guard let r = try? m.pipeline([["GET", keys.lock], ["DEL", keys.lock]]) else { continue }
            reached += 1
            previous = previous ?? r[0].string
        }
        if reached == 0 { throw RedisError(.unreachable, "no Redis master reachable") }
        return previous
    }
}
