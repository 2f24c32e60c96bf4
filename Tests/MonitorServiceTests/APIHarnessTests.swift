import Foundation
import HTTPClient
import JobwatchTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A real `jobmond` (the built binary, a child process) on a free port, with a real
/// `redis-server`, a generated config and `jobs.d`, and the loopback alert receivers of
/// `alert_receiver.py`. Tokens (`tokens`, by default): `report-token` (report), `ops-token`
/// (read, admin), `read-token` (read). Channels `pd`, `slack`, `hook` point at the receivers.
final class MonitorHarness {
    let redis: RedisServer
    let root: String
    let port: Int
    let receivers: AlertReceivers
    private(set) var daemon: Command.Running?

    static let routingKey = "R0UT1NGKEY0123456789abcdefABCDEF"

    static let tokens = [
        "{ name: hosts, secret: report-token, scopes: [report] }",
        "{ name: ops, secret: ops-token, scopes: [read, admin] }",
        "{ name: viewer, secret: read-token, scopes: [read] }",
    ]

    /// `grouping`: extra keys for the slack and hook channels (`group_burst: 2, group_interval: 3s`).
    /// `tokens`: `monitor.tokens` entries as YAML flow mappings; none, no `tokens:` at all.
    init(jobs: [String: String] = [:], defaultAlerts: [String] = ["pd", "slack"], retryInitial: String = "100ms",
         retryMax: String = "1s", grouping: String? = nil, publicStatusPage: Bool = false,
         tokens: [String] = MonitorHarness.tokens) throws {
        redis = try RedisServer()
        root = try TemporaryDirectory.make(prefix: "jobmond")
        port = try freePort()
        receivers = try AlertReceivers(directory: root)
        try FileManager.default.createDirectory(atPath: root + "/jobs.d", withIntermediateDirectories: true)
        for (name, yaml) in jobs { try write(yaml, to: "jobs.d/\(name).yaml") }
        let base = "http://127.0.0.1:\(receivers.port)"
        try write("""
            redis: [\(redis.url)]
            key_prefix: "jw:"
            jobs_dir: \(root)/jobs.d
            spool_dir: \(root)/spool
            monitor_url: http://127.0.0.1:\(port)
            token: ops-token
            monitor:
              listen: 127.0.0.1:\(port)
              public_url: https://jobs.example.com
              public_status_page: \(publicStatusPage)
              retry_initial: \(retryInitial)
              retry_max: \(retryMax)\(tokens.isEmpty ? "" : "\n  tokens:" + tokens.map { "\n    - " + $0 }.joined())
              channels:
                pd: { type: pagerduty, routing_key: \(Self.routingKey), url: \(base)/pd }
                slack: { type: slack, webhook_url: \(base)/slack\(grouping.map { ", " + $0 } ?? "") }
                hook: { type: webhook, url: \(base)/hook\(grouping.map { ", " + $0 } ?? "") }
              default_alerts: [\(defaultAlerts.joined(separator: ", "))]

            """, to: "jobwatch.yaml")
    }

    deinit {
        stop(signal: SIGKILL)
        receivers.stop()
        redis.stop()
        try? FileManager.default.removeItem(atPath: root)
    }

    var configPath: String { root + "/jobwatch.yaml" }
    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["JOBWATCH_CONFIG"] = configPath
        env["NO_COLOR"] = "1"
        return env
    }

    func write(_ text: String, to relative: String) throws {
        try text.write(toFile: root + "/" + relative, atomically: true, encoding: .utf8)
    }

    /// Starts jobmond and waits until it answers and leads (it is the only replica).
    func start() throws {
        daemon = try Command.start([Command.binary("jobmond"), "--config", configPath], environment: environment)
        let up = waitUntil(timeout: 20) {
            guard let r = try? self.request("GET", "/healthz", token: nil), r.status == 200 else { return false }
            return r.text.contains("\"leader\":true")
        }
        if !up {
            let output = stop(signal: SIGKILL)
            throw Unavailable(description: "jobmond did not come up: \(output?.stderrText ?? "")")
        }
    }

    /// Stops jobmond and returns what it printed.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Command.Result? {
        guard let daemon else { return nil }
        daemon.signal(signal)
        self.daemon = nil
        return daemon.wait(timeout: 15)
    }

    struct Unavailable: Error, CustomStringConvertible { let description: String }

    func request(_ method: String, _ path: String, token: String? = "ops-token", body: [UInt8]? = nil) throws -> HTTPSession.Response {
        var headers = ["Content-Type: application/json"]
        if let token { headers.append("Authorization: Bearer \(token)") }
        return try HTTPSession(connectTimeout: 2, timeout: 10).send(method, url: "http://127.0.0.1:\(port)\(path)", headers: headers, body: body)
    }

    func json(_ path: String) throws -> [String: Any] {
        let r = try request("GET", path)
        return try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any] ?? [:]
    }

    func job(_ name: String) -> [String: Any]? {
        guard let r = try? request("GET", "/api/v1/jobs/\(name)"), r.status == 200 else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]
    }

    func state(_ name: String) -> String? { job(name)?["state"] as? String }

    /// `jobrun JOB -- sh -c SCRIPT` on host `host`, reporting through the events stream.
    @discardableResult
    func jobrun(_ job: String, _ script: String, host: String = "web1", extra: [String] = []) throws -> Command.Result {
        try Command.run([Command.binary("jobrun"), "--host", host, "--no-gelf", "--quiet"] + extra + [job, "--", "/bin/sh", "-c", script],
                        environment: environment, timeout: 120)
    }

    func jobctl(_ args: [String]) throws -> Command.Result {
        try Command.run([Command.binary("jobctl")] + args, environment: environment)
    }
}

/// `alert_receiver.py`: PagerDuty (/pd), Slack (/slack) and webhook (/hook) stand-ins that
/// validate strictly, record every request, and fail on demand.
final class AlertReceivers {
    let port: Int
    let recordPath: String
    let scriptPath: String
    private let process: Process

    struct Request {
        let time: Double
        let path: String
        let status: Int
        let body: Any
        let problems: [String]
        var object: [String: Any] { body as? [String: Any] ?? [:] }
    }

    init(directory: String) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("alert_receiver.py").path
        let portFile = directory + "/receiver.port"
        recordPath = directory + "/received.jsonl"
        scriptPath = directory + "/receiver-script.json"
        XCTAssertTrue(FileManager.default.createFile(atPath: recordPath, contents: nil))
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, portFile, recordPath, scriptPath]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        guard waitUntil(timeout: 10, { FileManager.default.fileExists(atPath: portFile) }),
              let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) else {
            process.terminate()
            throw MonitorHarness.Unavailable(description: "alert_receiver.py did not start")
        }
        self.port = port
    }

    func stop() {
        if process.isRunning { process.terminate() }
    }

    /// Answers for the next requests to `path`: status codes, or "429:SECONDS" for a 429
    /// with `Retry-After`.
    func script(_ answers: [String: [Any]]) throws {
        let data = try JSONSerialization.data(withJSONObject: answers)
        try data.write(to: URL(fileURLWithPath: scriptPath + ".tmp"))
        _ = rename(scriptPath + ".tmp", scriptPath)
    }

    var requests: [Request] {
        guard let text = try? String(contentsOfFile: recordPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Request(time: o["t"] as? Double ?? 0, path: o["path"] as? String ?? "", status: o["status"] as? Int ?? 0,
                           body: o["body"] ?? NSNull(), problems: o["problems"] as? [String] ?? [])
        }
    }

    func requests(_ path: String) -> [Request] { requests.filter { $0.path == path } }

    /// Requests to the PagerDuty stand-in; by default only those it accepted (2xx).
    func pagerDuty(accepted: Bool = true) -> [Request] {
        requests("/pd").filter { !accepted || (200..<300).contains($0.status) }
    }
}

/// A real jobmond watching one job, `nightly` ("30 2 * * *"), started afresh for each test.
class NightlyMonitorTestCase: XCTestCase {
    var h: MonitorHarness!

    override func setUpWithError() throws {
        h = try MonitorHarness(jobs: ["nightly": "schedule: \"30 2 * * *\"\n"])
        try h.start()
    }

    override func tearDown() { h = nil }

    /// The `error` of a JSON refusal, or what came instead.
    func error(of r: HTTPSession.Response) -> String {
        ((try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any])?["error"] as? String ?? "<no error field: \(r.text)>"
    }
}
