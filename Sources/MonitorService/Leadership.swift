import Foundation
import Logging
import RedisLease
import ServiceLifecycle
import SystemSupport

/// Public API of this file:
///
///     public final class Leadership: Service, @unchecked Sendable
///         init(environment: MonitorEnvironment, ttlMs: Int64 = 10_000, renewEveryMs: Int64 = 3_000)
///         var isLeader: Bool        // true only while the lease is certainly ours
///         func run() async throws   // acquire/renew until shutdown, then release
///
/// The lease `<prefix>mon:leader` (`SET NX PX`, renewed by compare-and-pexpire). `isLeader`
/// turns false on its own once the last successful renewal is older than the lease minus a
/// safety margin, so a replica cut off from Redis stops applying before another can take over.
public final class Leadership: Service, @unchecked Sendable {
    private let environment: MonitorEnvironment
    private let worker: RedisWorker
    private let ttlMs: Int64
    private let renewEveryMs: Int64
    private let lock = NSLock()
    /// Until when (monotonic ms: a wall clock stepped back must not stretch it) the lease is
    /// certainly ours; 0 when it is not.
    private var leaderUntil: Int64 = 0
    private var stopRequested = false

    static let renew = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return 0
        """)
    static let release = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)

    public init(environment: MonitorEnvironment, ttlMs: Int64 = 10_000, renewEveryMs: Int64 = 3_000) {
        self.environment = environment
        self.ttlMs = ttlMs
        self.renewEveryMs = renewEveryMs
        worker = environment.makeWorker("redis-leader")
    }

    public var isLeader: Bool {
        lock.lock()
        defer { lock.unlock() }
        return monotonicMs() < leaderUntil
    }

    public func run() async throws {
        // Shutdown ends the loop at its next sleep; the lease is then handed back.
        await withGracefulShutdownHandler {
            while !self.shouldStop {
                await self.attempt()
                var slept: Int64 = 0
                while slept < self.renewEveryMs, !self.shouldStop {
                    try? await Task.sleep(nanoseconds: 100_000_000)
                    slept += 100
                }
            }
        } onGracefulShutdown: {
            self.lock.lock()
            self.stopRequested = true
            self.lock.unlock()
        }
        await releaseLease()
    }

    private var shouldStop: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopRequested || Task.isCancelled
    }

    private func attempt() async {
        let key = environment.store.leader
        let me = environment.replica
        let ttl = String(ttlMs)
        let sentAt = monotonicMs()
        do {
            let held = try await worker.run { c -> Bool in
                if case .status = try c.command(["SET", key, me, "NX", "PX", ttl]) { return true }
                return try c.evaluate(Self.renew, keys: [key], args: [me, ttl]).integer == 1
            }
            // Measured from before the request: the lease may have been set as soon as it left.
            // A third of the TTL is left as margin for clock drift between this host and Redis.
            update(held ? sentAt + ttlMs - ttlMs / 3 : 0, wasLeader: isLeader)
        } catch {
            environment.logger.warning("leader lease: \(error)")
        }
    }

    private func update(_ until: Int64, wasLeader: Bool) {
        lock.lock()
        leaderUntil = until
        lock.unlock()
        if (until > 0) != wasLeader {
            environment.logger.notice(until > 0 ? "became the leader" : "lost the leader lease",
                                      metadata: ["replica": "\(environment.replica)"])
        }
    }

    /// On a clean shutdown another replica takes over at once instead of after the TTL.
    private func releaseLease() async {
        update(0, wasLeader: isLeader)
        let key = environment.store.leader
        let me = environment.replica
        _ = try? await worker.run { c in try c.evaluate(Self.release, keys: [key], args: [me]) }
    }
}
