import Foundation
import ServiceLifecycle
import Synchronization

/// Public API of this file:
///
///     public final class EventApplier: Service, Sendable
///         init(environment: MonitorEnvironment, leadership: Leadership, registry: JobRegistry,
///              claimIdleMs: Int64 = 5_000, batchSize: Int = 1_000)
///         func run() async throws    // until shutdown; applies during each leadership term
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
public final class EventApplier: Service, Sendable {
    private let environment: MonitorEnvironment
    private let leadership: Leadership
    private let registry: JobRegistry
    private let worker: RedisWorker
    private let persister: RedisWorker
    private let claimIdleMs: Int64
    private let batchSize: Int
    private let applying = Mutex(false)

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

    public var isApplying: Bool { applying.withLock { $0 } }

    /// Applies during each term this replica leads (`Leadership.eachTerm`), until shutdown or
    /// cancellation; a term's end cancels its session within about a second (a blocking read).
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.leadership.eachTerm { await self.term() }
        }
        setApplying(false)
    }

    private func setApplying(_ value: Bool) { applying.withLock { $0 = value } }

    /// One term as leader: load the state from Redis, then apply events and deadlines until the
    /// term ends or a write finds the lease gone. Redis trouble starts over from Redis, which
    /// holds everything that counts.
    private func term() async {
        var session: LeaderSession?
        while !Task.isCancelled {
            do {
                if session == nil {
                    session = try await LeaderSession.start(
                        environment: environment, worker: worker, persister: persister, registry: registry,
                        claimIdleMs: claimIdleMs, batchSize: batchSize)
                    setApplying(true)
                }
                if try await session?.step() == false {
                    environment.logger.warning("leader lease lost while writing: dropping in-memory state")
                    break
                }
            } catch {
                guard !Task.isCancelled else { break }
                environment.logger.error("event applier: \(error)")
                await session?.drain()
                session = nil
                setApplying(false)
                try? await Task.sleep(nanoseconds: 1_000_000_000)
            }
        }
        if session != nil, Task.isCancelled { environment.logger.notice("not the leader: stopped applying events") }
        await session?.drain()
        setApplying(false)
    }
}
