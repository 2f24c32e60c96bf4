import JobwatchCore
import SystemSupport

/// Asks the sentinels where their master is now. Keeps its connection to the sentinel that
/// answered last and asks that one first, so a check costs one round trip.
final class SentinelLocator {
    let master: SentinelMaster
    private let timeoutMs: Int
    private var sentinel: RedisConnection?

    init(_ master: SentinelMaster, timeoutMs: Int) {
        self.master = master
        self.timeoutMs = timeoutMs
    }

    /// The master's address as the first sentinel that knows it says. Throws naming what
    /// every sentinel said when none could tell: `.server` (a configuration error, which
    /// `on_redis_down` must not paper over) when every sentinel that answered does not know
    /// the master's name, `.unreachable` otherwise.
    func locate() throws -> RedisEndpoint {
        var problems: [String] = []
        var unknownName = 0
        for candidate in candidates() {
            do {
                let reply = try candidate.command(["SENTINEL", "get-master-addr-by-name", master.name])
                guard let pair = reply.array, pair.count == 2, let host = pair[0].string,
                      let port = pair[1].integer.map(Int.init) else {
                    problems.append("sentinel \(candidate.endpoint.host):\(candidate.endpoint.port) does not know master \"\(master.name)\"")
                    unknownName += 1
                    continue
                }
                sentinel = candidate
                return RedisEndpoint(host: host, port: port, db: master.db, user: master.user, password: master.password)
            } catch {
                problems.append("sentinel \(candidate.endpoint.host):\(candidate.endpoint.port): \(error)")
            }
        }
        sentinel = nil
        if unknownName > 0 && unknownName == problems.count {
            throw RedisError(.server, "redis: no sentinel knows master \"\(master.name)\" (check the name in the redis-sentinel:// URL): "
                + problems.joined(separator: "; "))
        }
        throw RedisError(.unreachable, "redis: cannot discover Redis master \"\(master.name)\": " + problems.joined(separator: "; "))
    }

    /// The sentinel that answered last, then the others in configuration order.
    private func candidates() -> [RedisConnection] {
        var list: [RedisConnection] = []
        if let sentinel { list.append(sentinel) }
        for s in master.sentinels where s != sentinel?.endpoint {
            list.append(RedisConnection(endpoint: s, timeoutMs: timeoutMs, attempts: 1))
        }
        return list
    }
}
