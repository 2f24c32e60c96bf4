import JobwatchCore

extension RedisTopology {
    /// One connection to where the monitor keeps its state: the single master, a quorum's
    /// first master, or the Sentinel master wherever failovers move it.
    public func primaryConnection(timeoutMs: Int, attempts: Int = 3) -> RedisConnection {
        switch self {
        case .single(let endpoint): return RedisConnection(endpoint: endpoint, timeoutMs: timeoutMs, attempts: attempts)
        case .quorum(let endpoints): return RedisConnection(endpoint: endpoints[0], timeoutMs: timeoutMs, attempts: attempts)
        case .sentinel(let master): return RedisConnection(sentinel: master, timeoutMs: timeoutMs, attempts: attempts)
        }
    }

    /// Where run reports may go, in order: the monitor's master, then (Redlock) the other
    /// masters, whose streams the monitor's leader relays to the first (`StreamRelay`).
    public func reportConnections(timeoutMs: Int, attempts: Int = 3) -> [RedisConnection] {
        guard case .quorum(let endpoints) = self else { return [primaryConnection(timeoutMs: timeoutMs, attempts: attempts)] }
        return endpoints.map { RedisConnection(endpoint: $0, timeoutMs: timeoutMs, attempts: attempts) }
    }
}
