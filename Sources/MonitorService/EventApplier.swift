import Foundation
import ServiceLifecycle

/// Public API of this file:
///
///     public final class EventApplier: Service, @unchecked Sendable
///         init(environment: MonitorEnvironment, leadership: Leadership, registry: JobRegistry,
///              claimIdleMs: Int64 = 5_000, batchSize: Int = 1_000)
///         func run() async throws    // until shutdown; applies only while `leadership.isLeader`
///         var isApplying: Bool       // holds the leader's in-memory state right now
///
/// Pause and resume are not calls: the API XADDs `MonitorStore.pauseEntry`/`resumeEntry`
/// (and `defineEntry` after a PUT) to `<prefix>events`, and the leader applies them in order
/// with the run reports — one writer, one code path.
///
/// The loop (docs/monitor-design.md, "Applying events"): re-claim entries a crashed leader left
/// pending, read up to `batchSize` new ones, blocking only until the earliest deadline (so a
/// missed run is noticed on time and a report wakes the loop at once), apply them, then the
/// due deadlines, then persist everything and acknowledge the batch in one atomic step. The
/// persist runs on a connection of its own while the next batch is read and applied; the one
/// after waits for it, so writes stay in order and a lost lease stops the session.
public final class EventApplier: Service, @unchecked Sendable {
    private let environment: MonitorEnvironment
    private let leadership: Leadership
    private let registry: JobRegistry
    private let worker: RedisWorker
    private let persister: RedisWorker
    private let claimIdleMs: Int64
    private let batchSize: Int
    private let lock = NSLock()
    private var applying = false
    private var stopRequested = false

    public init(environment: MonitorEnvironment, leadership: Leadership, registry: JobRegistry,
                claimIdleMs: Int64 = 5_000, batchSize: Int = 1_000) {
        self.environment = environment
        self.leadership = leadership
        self.registry = registry
        self.claimIdleMs = claimIdleMs
        self.batchSize = batchSize
        // XREADGROUP blocks up to a second; the connection's timeout must outlast it.
        worker = environment.makeWorker("redis-consumer", timeoutMs: 5_000)
        persister = environment.makeWorker("redis-persist", timeoutMs: 5_000)
    }

    public var isApplying: Bool {
        lock.lock()
        defer { lock.unlock() }
        return applying
    }

    /// Ends within a second of shutdown or cancellation: the loop never waits longer than that.
    public func run() async throws {
        await withGracefulShutdownHandler {
            do { try await self.loop() } catch {}
        } onGracefulShutdown: {
            self.requestStop()
        }
        setApplying(false)
    }

    private var shouldStop: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopRequested || Task.isCancelled
    }

    private func requestStop() {
        lock.lock()
        stopRequested = true
        lock.unlock()
    }

    private func setApplying(_ value: Bool) {
        lock.lock()
        applying = value
        lock.unlock()
    }

    private func loop() async throws {
        var session: LeaderSession?
        do {
            try await lead(&session)
        } catch {
            await session?.drain()
            throw error
        }
        await session?.drain()
    }

    private func lead(_ session: inout LeaderSession?) async throws {
        while !shouldStop {
            guard leadership.isLeader else {
                if session != nil { environment.logger.notice("not the leader: stopped applying events") }
                await session?.drain()
                session = nil
                setApplying(false)
                try await Task.sleep(nanoseconds: 200_000_000)
                continue
            }
            do {
                if session == nil {
                    session = try await LeaderSession.start(
                        environment: environment, worker: worker, persister: persister, registry: registry,
                        claimIdleMs: claimIdleMs, batchSize: batchSize)
                    setApplying(true)
                }
                if try await session?.step() == false {
                    environment.logger.warning("leader lease lost while writing: dropping in-memory state")
                    await session?.drain()
                    session = nil
                    setApplying(false)
                }
            } catch {
                // Redis trouble: start over from Redis, which holds everything that counts.
                environment.logger.error("event applier: \(error)")
                await session?.drain()
                session = nil
                setApplying(false)
                try await Task.sleep(nanoseconds: 1_000_000_000)
            }
        }
    }
}
