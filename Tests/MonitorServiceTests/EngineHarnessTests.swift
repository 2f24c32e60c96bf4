import Foundation
import JobwatchCore
import JobwatchTestSupport
import Logging
import MonitorCore
@testable import MonitorService
import RedisLease
import Reporting
import XCTest

/// The engine in-process on a real redis-server: `Leadership` + `EventApplier` as jobmond runs
/// them, fed by stream entries written exactly as `jobrun` writes them.
final class EngineHarness {
    let redisURL: String
    let jobsDir: String
    let prefix = "t:"
    let connection: RedisConnection
    /// More Redlock masters after `redisURL`, the monitor's.
    var otherMasters: [String] = []
    var store: MonitorStore { MonitorStore(prefix: prefix) }

    /// The test case owns `redis` (see `EngineTestCase`); the harness only talks to it.
    convenience init(redis: RedisServer) throws {
        try self.init(redisURL: redis.url,
                      connection: RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: redis.port), timeoutMs: 2000))
    }

    /// `connection` is the test's own, to wherever the monitor keeps its state.
    init(redisURL: String, connection: RedisConnection) throws {
        self.redisURL = redisURL
        jobsDir = try TemporaryDirectory.make(prefix: "jobsd")
        self.connection = connection
    }

    deinit { try? FileManager.default.removeItem(atPath: jobsDir) }

    func writeJob(_ name: String, _ yaml: String) throws {
        try yaml.write(toFile: "\(jobsDir)/\(name).yaml", atomically: true, encoding: .utf8)
    }

    func environment() throws -> MonitorEnvironment {
        var config = GlobalConfig()
        try config.read(text: """
            redis: [\(([redisURL] + otherMasters).map { "\"\($0)\"" }.joined(separator: ", "))]
            key_prefix: "\(prefix)"
            jobs_dir: \(jobsDir)
            monitor:
              channels:
                pd: { type: pagerduty, routing_key: test-routing-key }
                slack: { type: slack, webhook_url: "http://127.0.0.1:9/slack" }
              default_alerts: [pd, slack]
            """, path: "test-config.yaml")
        var logger = Logger(label: "engine-test")
        logger.logLevel = .warning
        return MonitorEnvironment(config: config, logger: logger)
    }

    func engine(claimIdleMs: Int64 = 5_000, batchSize: Int = 1_000) throws -> Engine {
        try Engine(environment: environment(), claimIdleMs: claimIdleMs, batchSize: batchSize)
    }

    /// Runs an engine until it watches `jobs`, then stops it: from here no monitor runs.
    func watchThenStop(_ jobs: [String]) async throws {
        let first = try engine()
        first.start()
        XCTAssertTrue(try eventually { try jobs.allSatisfy { try monitor($0) != nil } })
        await first.stop()
    }

    /// XADDs the event as jobrun does.
    func report(_ event: RunEvent) throws {
        let reply = try connection.command(event.xaddArguments(keyPrefix: prefix))
        XCTAssertFalse(reply.isError, "\(reply)")
    }

    func start(_ job: String, _ runID: String, at ms: Int64 = Timestamp.nowMs(), host: String = "web1") throws {
        try report(.start(job: job, runID: runID, host: host, pid: 42, startedAtMs: ms, scheduledFor: nil, fence: 1,
                          command: "true"))
    }

    func finish(_ job: String, _ runID: String, exitCode: Int32 = 0, host: String = "web1") throws {
        try report(.finish(job: job, runID: runID, host: host, exitCode: exitCode, signal: nil, durationMs: 5,
                           outcome: exitCode == 0 ? "success" : "failure", outputTail: "done\n"))
    }

    struct Delivery {
        let id: String
        let fields: [String: String]
        var at: Int64 { Int64(id.split(separator: "-")[0])! }
        var event: String { fields["event"] ?? "" }
        var channel: String { fields["channel"] ?? "" }
    }

    func outbox() throws -> [Delivery] {
        let reply = try connection.command(["XRANGE", store.outbox, "-", "+"])
        return (reply.array ?? []).compactMap { item in
            guard let pair = item.array, let id = pair[0].string, let flat = pair[1].array else { return nil }
            var fields: [String: String] = [:]
            for i in stride(from: 0, to: flat.count - 1, by: 2) { fields[flat[i].string!] = flat[i + 1].string ?? "" }
            return Delivery(id: id, fields: fields)
        }
    }

    func monitor(_ job: String) throws -> JobMonitor? {
        try connection.command(["HGET", store.state, job]).string.flatMap(MonitorStore.decodeMonitor)
    }

    /// Stream entries the leader has read and acknowledged (written and acked in one batch).
    func acknowledged() throws -> Int {
        for group in try connection.command(["XINFO", "GROUPS", store.events]).array ?? [] {
            let fields = group.array ?? []
            var info: [String: RedisReply] = [:]
            for i in stride(from: 0, to: fields.count - 1, by: 2) { info[fields[i].string ?? ""] = fields[i + 1] }
            if info["name"]?.string == MonitorStore.group {
                return Int(info["entries-read"]?.integer ?? 0) - Int(info["pending"]?.integer ?? 0)
            }
        }
        return 0
    }

    /// Waits until every entry now in the events stream has been applied and acknowledged.
    func waitUntilApplied(_ timeout: Double = 5) throws -> Bool {
        let length = Int(try connection.command(["XLEN", store.events]).integer ?? 0)
        return try eventually(timeout) { try acknowledged() >= length }
    }

    /// Polls until `condition` holds (true) or `timeout` seconds pass (false).
    func eventually(_ timeout: Double = 5, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
    }

    /// Per channel, incidents alternate trigger → resolve: a second trigger before a resolve
    /// is a duplicate page.
    func assertNoDuplicateTriggers(_ deliveries: [Delivery], file: StaticString = #filePath, line: UInt = #line) {
        for channel in Set(deliveries.map(\.channel)) {
            let events = deliveries.filter { $0.channel == channel && $0.event != "repeat" }.map(\.event)
            for (a, b) in zip(events, events.dropFirst()) {
                XCTAssertNotEqual(a, b, "\(channel): \(events)", file: file, line: line)
            }
        }
    }
}

/// One redis-server per test, started and stopped on the main thread: a process spawned
/// from a concurrency pool thread inherits its blocked signals, so it would never see the
/// SIGTERM of `RedisServer.stop()`, which would then wait forever.
class EngineTestCase: XCTestCase {
    private var server: RedisServer?

    override func setUpWithError() throws {
        try super.setUpWithError()
        server = try RedisServer()
    }

    override func tearDown() {
        server = nil
        super.tearDown()
    }

    func makeHarness() throws -> EngineHarness {
        try EngineHarness(redis: XCTUnwrap(server))
    }
}

final class Engine {
    let environment: MonitorEnvironment
    let leadership: Leadership
    let registry: JobRegistry
    let applier: EventApplier
    let relay: StreamRelay
    private var tasks: [Task<Void, Never>] = []

    init(environment: MonitorEnvironment, claimIdleMs: Int64, batchSize: Int) {
        self.environment = environment
        leadership = Leadership(environment: environment)
        registry = JobRegistry(environment: environment)
        applier = EventApplier(environment: environment, leadership: leadership, registry: registry,
                               claimIdleMs: claimIdleMs, batchSize: batchSize)
        relay = StreamRelay(environment: environment, leadership: leadership)
    }

    func start() {
        let leadership = leadership
        let (applier, relay) = (applier, relay)
        tasks = [Task { try? await leadership.run() }, Task { try? await applier.run() }, Task { try? await relay.run() }]
    }

    func stop() async {
        tasks.forEach { $0.cancel() }
        for task in tasks { await task.value }
        tasks = []
    }
}
