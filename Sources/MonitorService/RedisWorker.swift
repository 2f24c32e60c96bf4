import Foundation
import RedisLease

/// hiredis is blocking; the monitor's HTTP handlers and services are async. A `RedisWorker`
/// owns one connection and one thread: callers submit work and await it. Bursts of single
/// commands (XADDs from HTTP reports) are sent as one pipelined round trip.
public final class RedisWorker: @unchecked Sendable {
    private enum Job {
        case command([String], CheckedContinuation<RedisReply, Error>)
        case block((Result<RedisConnection, Error>) -> Void)
    }

    private let connect: () throws -> RedisConnection
    private var connection: RedisConnection?
    private let condition = NSCondition()
    private var jobs: [Job] = []

    /// `connect` opens (or re-opens, after a failure) the connection; it runs on the worker's
    /// thread, so a slow Redis never blocks an event loop.
    public init(name: String, connect: @escaping () throws -> RedisConnection) {
        self.connect = connect
        // The worker lives as long as the daemon: its thread keeps it.
        let thread = Thread { self.loop() }
        thread.name = name
        thread.start()
    }

    /// One command; consecutive commands from many callers share a round trip.
    public func command(_ args: [String]) async throws -> RedisReply {
        try await withCheckedThrowingContinuation { continuation in
            submit(.command(args, continuation))
        }
    }

    /// Arbitrary work on the connection (pipelines, transactions, scripts).
    public func run<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            submit(.block { connection in
                continuation.resume(with: Result { try body(connection.get()) })
            })
        }
    }

    private func submit(_ job: Job) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            var pending: [([String], CheckedContinuation<RedisReply, Error>)] = []
            for job in batch {
                switch job {
                case .command(let args, let continuation):
                    pending.append((args, continuation))
                case .block(let body):
                    flush(&pending)
                    var failure: Error = RedisError(.unreachable, "Redis connection unavailable")
                    if let c = open(failing: { failure = $0 }) { body(.success(c)) } else { body(.failure(failure)) }
                }
            }
            flush(&pending)
        }
    }

    private func flush(_ pending: inout [([String], CheckedContinuation<RedisReply, Error>)]) {
        guard !pending.isEmpty else { return }
        defer { pending.removeAll(keepingCapacity: true) }
        var failure: Error?
        guard let c = open(failing: { failure = $0 }) else {
            pending.forEach { $0.1.resume(throwing: failure!) }
            return
        }
        do {
            let replies = try c.pipeline(pending.map(\.0))
            for (item, reply) in zip(pending, replies) { item.1.resume(returning: reply) }
        } catch {
            pending.forEach { $0.1.resume(throwing: error) }
        }
    }

    private func open(failing: (Error) -> Void) -> RedisConnection? {
        if let connection { return connection }
        do {
            let c = try connect()
            connection = c
            return c
        } catch {
            failing(error)
            return nil
        }
    }
}
