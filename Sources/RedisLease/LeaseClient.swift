import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// Takes, renews and releases a job's lease on the configured Redis deployment.
///
/// A single master and a Redlock quorum use the same code: each operation goes to every
/// master and succeeds when a majority agrees (a majority of one is one). A Sentinel topology
/// is resolved to its current master at connect time and then behaves like a single master.
public final class LeaseClient {
    public let topology: RedisTopology
    public private(set) var masters: [RedisConnection] = []
    private let timeoutMs: Int
    private let attempts: Int

    public var quorum: Int { masters.count / 2 + 1 }

    public init(topology: RedisTopology, timeoutMs: Int = 1000, attempts: Int = 3) {
        self.topology = topology
        self.timeoutMs = timeoutMs
        self.attempts = attempts
    }

    /// Connects to the masters; throws unless at least a quorum is reachable.
    public func connect() throws {
        switch topology {
        case .single(let e):
            masters = [RedisConnection(endpoint: e, timeoutMs: timeoutMs, attempts: attempts)]
        case .quorum(let es):
            masters = es.map { RedisConnection(endpoint: $0, timeoutMs: timeoutMs, attempts: attempts) }
        case .sentinel(let sentinels, let name, let db, let user, let password):
            masters = [try discoverMaster(sentinels: sentinels, name: name, db: db, user: user, password: password)]
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

    public func acquire(keys: LeaseKeys, owner: String, ttlMs: Int64, claim: OccurrenceClaim?) throws -> AcquireOutcome {
        var lockKeys = [keys.lock, keys.fence]
        var args = [owner, String(ttlMs)]
        if let claim {
            lockKeys.append(keys.occurrence(claim.epoch))
            args += [claim.runID, String(claim.ttlSeconds)]
        }
        let started = monotonicMs()
        var fences: [Int64] = []
        var acquiredOn: [RedisConnection] = []
        var refusal: AcquireOutcome?
        var errors: [String] = []
        var serverErrors: [String] = []
        for m in masters {
            do {
                let reply = try m.evaluate(LeaseScripts.acquire, keys: lockKeys, args: args)
                if case .error(let message) = reply {
                    serverErrors.append("\(m.endpoint): \(message)")
                    continue
                }
                guard let items = reply.array, items.count >= 2, let kind = items[1].string else {
                    errors.append("unexpected reply from \(m.endpoint): \(reply)")
                    continue
                }
                switch kind {
                case "ok":
                    fences.append(items.count > 2 ? items[2].integer ?? 0 : 0)
                    acquiredOn.append(m)
                case "lock" where refusal == nil:
                    refusal = .lockHeld(holder: items.count > 2 ? items[2].string ?? "" : "", ttlMs: items.count > 3 ? items[3].integer ?? -1 : -1)
                case "occurrence":
                    refusal = .occurrenceTaken(runID: items.count > 2 ? items[2].string ?? "" : "")
                default: break
                }
            } catch {
                errors.append("\(error)")
            }
        }
        // Redlock's validity: what is left of the TTL after the time spent asking, minus an
        // allowance for clock drift between us and the servers.
        let elapsed = monotonicMs() - started
        let validity = ttlMs - elapsed - (ttlMs / 100 + 2)
        if acquiredOn.count >= quorum && validity > 0 {
            return .acquired(fence: fences.max() ?? 0, validForMs: validity)
        }
        for m in acquiredOn {
            var releaseKeys = [keys.lock]
            var releaseArgs = [owner]
            if let claim {
                releaseKeys.append(keys.occurrence(claim.epoch))
                releaseArgs.append(claim.runID)
            }
            _ = try? m.evaluate(LeaseScripts.release, keys: releaseKeys, args: releaseArgs)
        }
        if let refusal { return refusal }
        if !serverErrors.isEmpty {   // NOAUTH, NOPERM, a read-only replica: configuration, not an outage
            throw RedisError(.server, (serverErrors + errors).joined(separator: "; "))
        }
        throw RedisError(.unreachable, errors.isEmpty ? "no quorum of Redis masters answered" : errors.joined(separator: "; "))
    }

    /// Extends the lease on every master. Returns `.lost` only when enough masters answered
    /// that it is not ours for a quorum to be impossible; throws when they could not be asked.
    public func renew(keys: LeaseKeys, owner: String, ttlMs: Int64) throws -> RenewOutcome {
        var renewed = 0
        var refused = 0
        var errors: [String] = []
        for m in masters {
            do {
                let reply = try m.evaluate(LeaseScripts.renew, keys: [keys.lock], args: [owner, String(ttlMs)])
                if reply.integer == 1 { renewed += 1 } else if reply.isError { errors.append("\(reply)") } else { refused += 1 }
            } catch {
                errors.append("\(error)")
            }
        }
        if renewed >= quorum { return .renewed }
        if refused > masters.count - quorum { return .lost }
        throw RedisError(.unreachable, errors.joined(separator: "; "))
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

    private func discoverMaster(sentinels: [RedisEndpoint], name: String, db: Int, user: String?, password: String?) throws -> RedisConnection {
        var problems: [String] = []
        for s in sentinels {
            let sentinel = RedisConnection(endpoint: s, timeoutMs: timeoutMs, attempts: 1)
            do {
                let reply = try sentinel.command(["SENTINEL", "get-master-addr-by-name", name])
                guard let pair = reply.array, pair.count == 2, let host = pair[0].string, let port = pair[1].integer.map(Int.init) else {
                    problems.append("sentinel \(s.host):\(s.port) does not know master \"\(name)\"")
                    continue
                }
                let master = RedisConnection(endpoint: RedisEndpoint(host: host, port: port, db: db, user: user, password: password),
                                             timeoutMs: timeoutMs, attempts: attempts)
                // A sentinel may lag a failover: make sure the address really is a master.
                let role = try master.command(["ROLE"])
                if role.array?.first?.string == "master" { return master }
                problems.append("sentinel \(s.host):\(s.port) named \(host):\(port), which is not a master")
            } catch {
                problems.append("sentinel \(s.host):\(s.port): \(error)")
            }
        }
        throw RedisError(.unreachable, "cannot discover Redis master \"\(name)\": " + problems.joined(separator: "; "))
    }
}

