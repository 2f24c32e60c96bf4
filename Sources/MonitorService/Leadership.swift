import Foundation
import Logging
import RedisLease
import ServiceLifecycle
import Synchronization
import SystemSupport

/// Public API of this file:
///
///     public final class Leadership: Service, @unchecked Sendable
///         init(environment: MonitorEnvironment, ttlMs: Int64 = 10_000, renewEveryMs: Int64 = 3_000)
///         var isLeader: Bool        // true only while the lease is certainly ours
///         func run() async throws   // acquire/renew until shutdown, then release
///         func eachTerm(_ term: @escaping @Sendable () async -> Void) async
///                                   // runs `term` for each stretch as leader, cancelled at its end
///
/// The lease `<prefix>mon:leader` (`SET NX PX`, renewed by compare-and-pexpire). `isLeader`
/// turns false on its own once the last successful renewal is older than the lease minus a
/// safety margin, so a replica cut off from Redis stops applying before another can take over.
public final class Leadership: Service, Sendable {
    private let environment: MonitorEnvironment
    private let worker: RedisWorker
    private let ttlMs: Int64
    private let renewEveryMs: Int64
    private let state = Mutex(State())

    private struct State {
        /// Until when (monotonic ms: a wall clock stepped back must not stretch it) the lease is
        /// certainly ours; 0 when it is not.
        var leaderUntil: Int64 = 0
        var stopRequested = false
        /// Tasks waiting for the next renewal, gain or loss of the lease.
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var lastWaiter = 0
    }

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
        let until = state.withLock { $0.leaderUntil }
        return monotonicMs() < until
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
            self.state.withLock { $0.stopRequested = true }
        }
        await releaseLease()
    }

    private var shouldStop: Bool {
        state.withLock { $0.stopRequested } || Task.isCancelled
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
        let woken = state.withLock { state in
            state.leaderUntil = until
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        woken.forEach { $0.resume() }
        if (until > 0) != wasLeader {
            environment.logger.notice(until > 0 ? "became the leader" : "lost the leader lease",
                                      metadata: ["replica": "\(environment.replica)"])
        }
    }

    /// Runs `term` for each stretch of time this replica leads: started when the lease is
    /// gained, cancelled when it is lost or runs out unrenewed (a replica cut off from Redis),
    /// until this task is cancelled. A `term` that returns early is started again while the
    /// lease lasts. No polling: it wakes on the lease's own renewals and on its expiry.
    public func eachTerm(_ term: @escaping @Sendable () async -> Void) async {
        while !Task.isCancelled {
            while !isLeader {
                await nextChange()
                if Task.isCancelled { return }
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await term() }
                group.addTask { await self.termEnded() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Returns once the lease is no longer certainly ours, or when cancelled.
    private func termEnded() async {
        while isLeader, !Task.isCancelled {
            let until = state.withLock { $0.leaderUntil }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await Task.sleep(nanoseconds: UInt64(max(1, until - monotonicMs())) * 1_000_000) }
                group.addTask { await self.nextChange() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Returns at the next renewal, gain or loss of the lease, or when cancelled.
    private func nextChange() async {
        let id = state.withLock {
            $0.lastWaiter += 1
            return $0.lastWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let cancelled = state.withLock {
                    if Task.isCancelled { return true }
                    $0.waiters[id] = continuation
                    return false
                }
                if cancelled { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
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
