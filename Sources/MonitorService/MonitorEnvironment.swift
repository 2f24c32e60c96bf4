import Foundation
import JobwatchCore
import Logging
import RedisLease
import Synchronization

/// Public API of this file (shared with the HTTP API, AlertDispatcher and the tests):
///
///     public struct MonitorEnvironment: Sendable
///         init(config: GlobalConfig, replica: String = MonitorEnvironment.defaultReplica(),
///              logger: Logger, clock: @escaping @Sendable () -> Int64 = Timestamp.nowMs)
///         var config: GlobalConfig; var prefix: String; var replica: String
///         var monitor: MonitorConfig       // the `monitor:` section as last loaded (SIGHUP)
///         func reload(_ monitor: MonitorConfig)
///         var logger: Logger; var clock: @Sendable () -> Int64
///         var shared: RedisWorker          // reads and XADDs from HTTP handlers
///         func makeWorker(_ name: String, timeoutMs: Int = 1000) -> RedisWorker  // a private connection
///         var store: MonitorStore
///
/// Where the monitor's Redis is (the `redis:` topology) and how its services reach it.
public struct MonitorEnvironment: Sendable {
    /// As loaded at start. Its `monitor:` section may be newer: read that through `monitor`.
    public var config: GlobalConfig
    public var prefix: String { config.keyPrefix }
    /// The consumer name in the `jobmond` group and the leader lease's owner value.
    public var replica: String
    public var logger: Logger
    /// Epoch milliseconds; the real clock in production and tests alike.
    public var clock: @Sendable () -> Int64
    /// For HTTP handlers: short commands, pipelined across concurrent requests.
    public let shared: RedisWorker
    private let current: Current

    /// The `monitor:` section, shared by every copy of this environment and swapped whole by a
    /// reload, so alert routing, the API and reports all see the same one.
    private final class Current: Sendable {
        let monitor: Mutex<MonitorConfig>
        init(_ monitor: MonitorConfig) { self.monitor = Mutex(monitor) }
    }

    /// The `monitor:` section as last loaded: channels, tokens' config, default alerts,
    /// storm control, host silence, the report. Redis, `key_prefix`, `jobs_dir` and the time
    /// zone are read once, at start.
    public var monitor: MonitorConfig { current.monitor.withLock { $0 } }

    /// SIGHUP: a fresh `monitor:` section for everything that reads `monitor` from now on.
    public func reload(_ monitor: MonitorConfig) {
        current.monitor.withLock { $0 = monitor }
    }

    public init(config: GlobalConfig, replica: String = MonitorEnvironment.defaultReplica(), logger: Logger,
                clock: @escaping @Sendable () -> Int64 = { Timestamp.nowMs() }) {
        self.config = config
        self.replica = replica
        self.logger = logger
        self.clock = clock
        shared = Self.worker(config: config, name: "redis-shared", timeoutMs: 1000)
        current = Current(config.monitor)
    }

    public var store: MonitorStore { MonitorStore(prefix: prefix) }

    /// A connection of its own, for work that blocks (XREADGROUP BLOCK) or must never wait
    /// behind others (the lease renewal).
    public func makeWorker(_ name: String, timeoutMs: Int = 1000) -> RedisWorker {
        Self.worker(config: config, name: name, timeoutMs: timeoutMs)
    }

    public static func defaultReplica() -> String {
        "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Monitor state lives on one master: a quorum's first master, or Sentinel's current one
    /// (the connection follows failovers itself).
    private static func worker(config: GlobalConfig, name: String, timeoutMs: Int) -> RedisWorker {
        RedisWorker(name: name) {
            let password = try config.redisPassword?.resolve()
            return try RedisTopology.parse(config.redis).withPassword(password).primaryConnection(timeoutMs: timeoutMs)
        }
    }
}
