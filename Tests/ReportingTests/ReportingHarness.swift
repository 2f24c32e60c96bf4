import Foundation
import JobwatchCore
import JobwatchTestSupport
import RedisLease
import XCTest

/// A scratch deployment for reporting tests (after JobWrapperTests' JobrunHarness): a real
/// Redis, a jobs.d, a private spool directory and a token file, with `jobrun`/`jobctl`
/// pointed at them and nowhere else.
final class ReportingHarness {
    private(set) var redis: RedisServer
    let root: String
    let jobsDir: String
    let spoolDir: String
    /// What `monitor_url` points at: nothing listens there unless a test says otherwise.
    var monitorURL: String

    init() throws {
        redis = try RedisServer()
        root = try TemporaryDirectory.make(prefix: "reporting")
        jobsDir = root + "/jobs.d"
        spoolDir = root + "/spool"
        monitorURL = "http://127.0.0.1:\(try freePort())"
        try FileManager.default.createDirectory(atPath: jobsDir, withIntermediateDirectories: true)
        try "".write(toFile: root + "/jobwatch.yaml", atomically: true, encoding: .utf8)
        try "s3cret-token\n".write(toFile: root + "/token", atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    var environment: [String: String] {
        var env = isolatedJobwatchEnvironment(config: root + "/jobwatch.yaml", redisURL: redis.url,
                                              jobsDir: jobsDir, spoolDir: spoolDir)
        env["JOBWATCH_MONITOR_URL"] = monitorURL
        env["JOBWATCH_TOKEN"] = "file:" + root + "/token"
        return env
    }

    /// Stops Redis and starts a fresh one on another port (an outage, then recovery).
    func replaceRedis() throws {
        redis.stop()
        redis = try RedisServer()
    }

    func jobrun(_ args: [String], environment extra: [String: String] = [:]) throws -> Command.Result {
        try Command.run([Command.binary("jobrun")] + args, environment: environment.merging(extra) { $1 })
    }

    func jobctl(_ args: [String], environment extra: [String: String] = [:]) throws -> Command.Result {
        try Command.run([Command.binary("jobctl")] + args, environment: environment.merging(extra) { $1 })
    }

    func startJobctl(_ args: [String], environment extra: [String: String] = [:]) throws -> Command.Running {
        try Command.start([Command.binary("jobctl")] + args, environment: environment.merging(extra) { $1 })
    }

    var spooled: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: spoolDir)) ?? []).filter { $0.hasSuffix(".event") }.sorted()
    }

    /// The `test:events` stream, each entry as a field → value map, oldest first.
    func events() throws -> [[String: String]] {
        let connection = RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: redis.port))
        let reply = try connection.command(["XRANGE", "test:events", "-", "+"])
        return (reply.array ?? []).map { entry in
            let flat = entry.array?.dropFirst().first?.array ?? []
            var fields: [String: String] = [:]
            for i in stride(from: 0, to: flat.count - 1, by: 2) {
                fields[flat[i].string ?? ""] = flat[i + 1].string ?? ""
            }
            return fields
        }
    }
}
