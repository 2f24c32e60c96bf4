import Foundation
import JobwatchTestSupport
import XCTest

/// A scratch deployment for one test: a real Redis, a jobs.d directory and an environment
/// that points `jobrun` at them and nowhere else (no /etc config, no monitor, no Graylog).
final class JobrunHarness {
    let redis: RedisServer
    let root: String
    let jobsDir: String

    init() throws {
        redis = try RedisServer()
        root = try TemporaryDirectory.make(prefix: "jobrun")
        jobsDir = root + "/jobs.d"
        try FileManager.default.createDirectory(atPath: jobsDir, withIntermediateDirectories: true)
        try "".write(toFile: root + "/jobwatch.yaml", atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    var environment: [String: String] {
        isolatedJobwatchEnvironment(config: root + "/jobwatch.yaml", redisURL: redis.url, jobsDir: jobsDir,
                                    spoolDir: root + "/spool")
    }

    func writeJob(_ name: String, _ yaml: String) throws {
        try yaml.write(toFile: "\(jobsDir)/\(name).yaml", atomically: true, encoding: .utf8)
    }

    func path(_ name: String) -> String { "\(root)/\(name)" }

    /// `prefix`: a wrapper to run jobrun under (`faketime -f +300s`).
    func jobrun(_ args: [String], environment extra: [String: String] = [:], stdin: [UInt8]? = nil, timeout: Double = 60,
                prefix: [String] = []) throws -> Command.Result {
        try Command.run(prefix + [Command.binary("jobrun")] + args, environment: environment.merging(extra) { $1 }, stdin: stdin, timeout: timeout)
    }

    func start(_ args: [String], environment extra: [String: String] = [:], prefix: [String] = []) throws -> Command.Running {
        try Command.start(prefix + [Command.binary("jobrun")] + args, environment: environment.merging(extra) { $1 })
    }

    func lines(_ file: String) -> [String] {
        ((try? String(contentsOfFile: path(file), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func exists(_ file: String) -> Bool { FileManager.default.fileExists(atPath: path(file)) }
}

func processAlive(_ pid: Int32) -> Bool {
    if kill(pid, 0) != 0 { return false }
    // A zombie still answers kill(0); treat it as gone.
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return !stat.contains(") Z ")
}
