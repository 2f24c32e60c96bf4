import CronSchedule
import SystemSupport

public enum RedisDownPolicy: String, Sendable { case skip, run }
public enum ReportTransport: String, Sendable { case redis, http }

/// `/etc/jobwatch/jobwatch.yaml`: settings shared by `jobrun`, `jobmond` and `jobctl`.
/// Precedence, lowest first: built-in default, file, `JOBWATCH_*` environment, flags.
public struct GlobalConfig: Sendable {
    public static let defaultPath = "/etc/jobwatch/jobwatch.yaml"

    public var redis = ["redis://127.0.0.1:6379/0"]
    public var redisPassword: Secret?
    public var keyPrefix = "jobwatch:"
    public var onRedisDown = RedisDownPolicy.skip
    /// Replicas that must acknowledge a lease grant and a run report (`WAIT`) before they
    /// count as safe from a failover; nil: 1 with Sentinel, 0 otherwise (`replicaAcks`).
    public var redisWaitReplicas: Int?
    public var redisWaitTimeout = Timespan(milliseconds: 250)
    public var report = ReportTransport.redis
    public var monitorURL = "http://127.0.0.1:8427"
    public var token: Secret?
    public var gelf: String?
    public var gelfCompression = "gzip"
    public var gelfChunkSize = 8192
    public var jobsDir = "/etc/jobwatch/jobs.d"
    public var spoolDir = "/var/spool/jobwatch"
    public var timezone = "UTC"
    public var monitor = MonitorConfig()
    /// The file these settings came from, or nil when built-in defaults were used.
    public var sourcePath: String?

    public init() {}

    public static let keys = [
        "redis", "redis_password", "key_prefix", "on_redis_down", "redis_wait_replicas", "redis_wait_timeout", "report", "monitor_url", "token", "gelf",
        "gelf_compression", "gelf_chunk_size", "jobs_dir", "spool_dir", "timezone", "monitor",
    ]

    /// Loads the file named by `explicitPath`, else `JOBWATCH_CONFIG`, else the default path
    /// if it exists, then applies the environment. A missing default file is not an error:
    /// a host may run on environment variables and flags alone.
    public static func load(explicitPath: String?, environment: [String: String]) throws -> GlobalConfig {
        var config = GlobalConfig()
        let named = explicitPath ?? environment["JOBWATCH_CONFIG"]
        let path = named ?? defaultPath
        if named != nil || FileSystem.exists(atPath: path) {
            try config.read(bytes: TrustedFile.contents(path, what: "config file"), path: path)
        }
        try config.apply(environment: environment)
        return config
    }

    public mutating func read(text: String, path: String) throws {
        try read(bytes: Array(text.utf8), path: path)
    }

    mutating func read(bytes: [UInt8], path: String) throws {
        let file = YAMLFile(path: path, bytes: bytes)
        sourcePath = path
        if let m = file.topLevelMapping() {
            m.rejectUnknownKeys(allowed: Self.keys, context: "config")
            if let urls = m.strings("redis") {
                if urls.isEmpty { file.problem("redis: needs at least one URL", at: m.node("redis")) }
                let invalid = urls.filter { (try? RedisTopology.parse([$0])) == nil }
                for url in invalid {
                    file.problem("redis: invalid URL \"\(url)\" (redis://[user@]host:port/db or redis-sentinel://h1:26379,h2:26379/master/db)", at: m.node("redis"))
                }
                if invalid.isEmpty, !urls.isEmpty {
                    do { _ = try RedisTopology.parse(urls) } catch { file.problem("redis: \(error)", at: m.node("redis")) }
                }
                redis = urls
            }
            redisPassword = m.string("redis_password").map(Secret.init) ?? redisPassword
            keyPrefix = m.string("key_prefix") ?? keyPrefix
            onRedisDown = m.oneOf("on_redis_down", ["skip", "run"]).flatMap(RedisDownPolicy.init(rawValue:)) ?? onRedisDown
            redisWaitReplicas = m.int("redis_wait_replicas", range: 0...16) ?? redisWaitReplicas
            redisWaitTimeout = m.timespan("redis_wait_timeout", atLeast: Timespan(milliseconds: 1)) ?? redisWaitTimeout
            report = m.oneOf("report", ["redis", "http"]).flatMap(ReportTransport.init(rawValue:)) ?? report
            monitorURL = m.string("monitor_url") ?? monitorURL
            token = m.string("token").map(Secret.init) ?? token
            if let g = m.string("gelf") { gelf = g.isEmpty ? nil : g }
            gelfCompression = m.oneOf("gelf_compression", ["gzip", "zlib", "none"]) ?? gelfCompression
            gelfChunkSize = m.int("gelf_chunk_size", range: 512...65_507) ?? gelfChunkSize
            jobsDir = m.string("jobs_dir") ?? jobsDir
            spoolDir = m.string("spool_dir") ?? spoolDir
            if let tz = m.string("timezone") {
                if !isKnownTimeZone(tz) { file.problem("timezone: unknown IANA time zone \"\(tz)\"", at: m.node("timezone")) }
                timezone = tz
            }
            if let n = m.node("monitor"), !n.isNull, let mm = file.mapping(n, what: "monitor") {
                monitor.read(mm, timeZone: timezone)
            }
        }
        if !file.problems.isEmpty { throw ConfigErrors(file.problems) }
    }

    /// Environment variables win over the file. Invalid values are errors, not silently
    /// ignored: a typo in a systemd unit's Environment= line must not change behaviour.
    public mutating func apply(environment env: [String: String]) throws {
        var problems: [ConfigError] = []
        func bad(_ name: String, _ message: String) {
            problems.append(ConfigError(path: "environment", line: 0, column: 0, message: "\(name): \(message)"))
        }
        if let v = env["JOBWATCH_REDIS"], !v.isEmpty {
            let urls = RedisTopology.splitList(v)
            do { _ = try RedisTopology.parse(urls) } catch { bad("JOBWATCH_REDIS", "invalid Redis URL list \"\(v)\": \(error)") }
            redis = urls
        }
        if let v = env["JOBWATCH_REDIS_PASSWORD"] { redisPassword = Secret(v) }
        if let v = env["JOBWATCH_KEY_PREFIX"] { keyPrefix = v }
        if let v = env["JOBWATCH_ON_REDIS_DOWN"] {
            if let p = RedisDownPolicy(rawValue: v) { onRedisDown = p } else { bad("JOBWATCH_ON_REDIS_DOWN", "must be skip or run") }
        }
        if let v = env["JOBWATCH_REDIS_WAIT_REPLICAS"] {
            if let n = Int(v), (0...16).contains(n) { redisWaitReplicas = n } else { bad("JOBWATCH_REDIS_WAIT_REPLICAS", "must be 0-16") }
        }
        if let v = env["JOBWATCH_REDIS_WAIT_TIMEOUT"] {
            if let t = Timespan(parsing: v), t.milliseconds >= 1 { redisWaitTimeout = t } else { bad("JOBWATCH_REDIS_WAIT_TIMEOUT", "must be a duration such as 250ms") }
        }
        if let v = env["JOBWATCH_REPORT"] {
            if let r = ReportTransport(rawValue: v) { report = r } else { bad("JOBWATCH_REPORT", "must be redis or http") }
        }
        if let v = env["JOBWATCH_MONITOR_URL"] { monitorURL = v }
        if let v = env["JOBWATCH_TOKEN"] { token = Secret(v) }
        if let v = env["JOBWATCH_GELF"] { gelf = v.isEmpty ? nil : v }
        if let v = env["JOBWATCH_GELF_COMPRESSION"] {
            if ["gzip", "zlib", "none"].contains(v) { gelfCompression = v } else { bad("JOBWATCH_GELF_COMPRESSION", "must be gzip, zlib or none") }
        }
        if let v = env["JOBWATCH_GELF_CHUNK_SIZE"] {
            if let n = Int(v), (512...65_507).contains(n) { gelfChunkSize = n } else { bad("JOBWATCH_GELF_CHUNK_SIZE", "must be 512-65507") }
        }
        if let v = env["JOBWATCH_JOBS_DIR"] { jobsDir = v }
        if let v = env["JOBWATCH_SPOOL_DIR"] { spoolDir = v }
        if let v = env["JOBWATCH_TIMEZONE"] {
            if isKnownTimeZone(v) { timezone = v } else { bad("JOBWATCH_TIMEZONE", "unknown IANA time zone \"\(v)\"") }
        }
        if !problems.isEmpty { throw ConfigErrors(problems) }
    }

    /// How many replicas must acknowledge a grant or a report: `redis_wait_replicas`, or by
    /// default 1 behind Sentinel (whose point is a replica to fail over to) and 0 otherwise.
    public func replicaAcks(for topology: RedisTopology) -> Int {
        if let redisWaitReplicas { return redisWaitReplicas }
        if case .sentinel = topology { return 1 }
        return 0
    }
}

/// A value that may be written inline or as `file:/path` so secrets stay out of config files.
public struct Secret: Sendable, Equatable {
    public let reference: String
    public init(_ reference: String) { self.reference = reference }

    public func resolve() throws -> String {
        guard reference.hasPrefix("file:") else { return reference }
        let path = String(reference.dropFirst(5))
        guard let data = FileSystem.contents(atPath: path) else {
            throw SecretError(path: path)
        }
        return String(decoding: data, as: UTF8.self).trimmingWhitespace()
    }
}

public struct SecretError: Error, CustomStringConvertible {
    public let path: String
    public var description: String { "cannot read secret file \(path)" }
}
