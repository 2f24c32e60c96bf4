import Foundation
import JobwatchCore
import Logging
import RedisLease
import ServiceLifecycle

/// Public API of this file:
///
///     public final class StreamRelay: Service, Sendable
///         init(environment: MonitorEnvironment, leadership: Leadership)
///         func run() async throws    // until shutdown; relays during each leadership term
///
/// With several Redis masters (Redlock), `jobrun` reports to the first master, where the
/// monitor keeps its state, and to the next master that answers when the first does not (a
/// host cut off from it still holds its lease by quorum). The leader moves every entry it
/// finds in another master's `<prefix>events` to the first master's stream, where the event
/// applier reads it, then deletes it there: XADD first, XDEL after, so a crash in between
/// delivers an entry twice, never zero times, and the monitor applies a run's start and finish
/// once however often they arrive (by run id and event kind).
public final class StreamRelay: Service, Sendable {
    private let environment: MonitorEnvironment
    private let leadership: Leadership
    private let sources: [(endpoint: String, worker: RedisWorker)]

    static let batch = 500

    public init(environment: MonitorEnvironment, leadership: Leadership) {
        self.environment = environment
        self.leadership = leadership
        let config = environment.config
        guard case .quorum(let endpoints)? = try? RedisTopology.parse(config.redis), endpoints.count > 1 else {
            sources = []
            return
        }
        sources = endpoints.dropFirst().map { endpoint in
            // XREAD blocks up to a second; the connection's timeout must outlast it.
            (endpoint.description, RedisWorker(name: "redis-relay") {
                var endpoint = endpoint
                if endpoint.password == nil { endpoint.password = try config.redisPassword?.resolve() }
                return RedisConnection(endpoint: endpoint, timeoutMs: 3_000, attempts: 1)
            })
        }
    }

    /// Returns at shutdown only (a service that ends early stops the whole daemon), also when
    /// there is nothing to relay.
    public func run() async throws {
        guard !sources.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            await self.leadership.eachTerm {
                await withTaskGroup(of: Void.self) { group in
                    for source in self.sources {
                        group.addTask { await self.relay(from: source.endpoint, source.worker) }
                    }
                }
            }
        }
    }

    /// One master's stream, for one leadership term. Errors are logged once per outage.
    private func relay(from endpoint: String, _ source: RedisWorker) async {
        var failing: String?
        while !Task.isCancelled {
            do {
                let moved = try await relayBatch(source)
                if moved > 0 { environment.logger.notice("relayed \(moved) report(s) from \(endpoint)'s stream") }
                if failing != nil { environment.logger.notice("relay from \(endpoint): reachable again") }
                failing = nil
            } catch {
                let text = "\(error)"
                if failing != text { environment.logger.warning("relay from \(endpoint): \(text)") }
                failing = text
                try? await Task.sleep(nanoseconds: 1_000_000_000)
            }
        }
    }

    /// Waits up to a second for entries, moves up to `batch` of them; returns how many.
    private func relayBatch(_ source: RedisWorker) async throws -> Int {
        let stream = environment.store.events
        let read = try await source.command(["XREAD", "COUNT", String(Self.batch), "BLOCK", "1000", "STREAMS", stream, "0-0"])
        if case .error(let e) = read { throw RedisError(.server, "XREAD: \(e)") }
        let entries = StreamEntry.entries(ofRead: read)
        guard !entries.isEmpty else { return 0 }
        let copies = entries.compactMap { entry -> [String]? in
            guard let fields = entry.fields, !fields.isEmpty else { return nil }
            var args = ["XADD", stream, "MAXLEN", "~", "1000000", "*"]
            for (name, value) in fields.sorted(by: { $0.key < $1.key }) { args += [name, value] }
            return args
        }
        // Not while another replica leads: it relays these itself.
        guard leadership.isLeader else { return 0 }
        if !copies.isEmpty {
            let replies = try await environment.shared.run { c in try c.pipeline(copies) }
            if let failed = replies.first(where: \.isError) { throw RedisError(.server, "XADD to the monitor's master: \(failed)") }
        }
        let deleted = try await source.command(["XDEL", stream] + entries.map(\.id))
        if case .error(let e) = deleted { throw RedisError(.server, "XDEL: \(e)") }
        return copies.count
    }
}
