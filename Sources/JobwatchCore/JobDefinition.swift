import CronSchedule
import SystemSupport

/// What to execute: a `command:` string goes through `/bin/sh -c` (it may use pipes and
/// redirections, as in a crontab); a YAML list is exec'd directly with no shell in between.
public enum JobCommand: Sendable, Equatable {
    case shell(String)
    case argv([String])

    public var argv: [String] {
        switch self {
        case .shell(let line): return ["/bin/sh", "-c", line]
        case .argv(let a): return a
        }
    }

    public var displayString: String {
        switch self {
        case .shell(let line): return line
        case .argv(let a): return a.joined(separator: " ")
        }
    }
}

public enum LockMode: String, Sendable { case exclusive, none }
public enum LockLossPolicy: String, Sendable { case stop, `continue` }

/// One `jobs.d/<name>.yaml` file. The same file is deployed to every host and to the
/// monitor, so both sides agree on the schedule.
public struct JobDefinition: Sendable {
    public var name: String
    public var description: String?
    public var command: JobCommand?
    public var schedule: Schedule?
    public var timezone: String
    public var grace = Timespan(seconds: 300)
    public var maxRuntime: Timespan?
    public var killOnTimeout = false
    public var killAfter = Timespan(seconds: 10)
    public var minRuntime: Timespan?
    public var lock = LockMode.exclusive
    public var lockTTL = Timespan(seconds: 60)
    public var lockWait = Timespan.zero
    public var onLockLost = LockLossPolicy.stop
    public var hosts: [String]?
    public var alerts: [String]?
    public var alertAfterFailures = 1
    public var realertEvery: Timespan? = Timespan(seconds: 4 * 3600)
    public var env: [String: String] = [:]
    public var tags: [String] = []
    public var owner: String?
    /// `anomaly:` (SPEC §6); nil: durations are not judged.
    public var anomaly: AnomalyRule?
    /// Consecutive successful runs before an open alert resolves.
    public var resolveAfter = 1
    /// Recurring windows in the job's zone: problems inside are recorded, alerted only after.
    public var maintenance: [MaintenanceWindow] = []
    /// Run the command as this user (jobrun must run as root); nil: as whoever runs jobrun.
    public var user: String?
    /// SPEC §6: each occurrence starts its own fixed offset in `[0, jitter)` late; nil: none.
    public var jitter: Jitter?
    /// Re-runs of a failed attempt (SPEC §6), and the pause before each.
    public var retries = 0
    public var retryDelay = Timespan(seconds: 10)
    public var concurrency = ConcurrencyPolicy.forbid
    public var outputRules = OutputRules()
    /// Where the file was read from, for messages; nil for a job known only from flags.
    public var sourcePath: String?
    /// Line and column of each key's value, so later cross-checks (unknown alert channel)
    /// can point at the right place.
    public var valueLocations: [String: (line: Int, column: Int)] = [:]

    /// `path:line:column` of a key's value for messages, or of the file when the key is absent.
    public func problem(at key: String, _ message: String) -> ConfigError {
        let at = valueLocations[key] ?? (1, 1)
        return ConfigError(path: sourcePath ?? name, line: at.line, column: at.column, message: message)
    }

    public init(name: String, timezone: String) {
        self.name = name
        self.timezone = timezone
    }

    public static let keys = [
        "description", "command", "schedule", "timezone", "grace", "max_runtime", "kill_on_timeout",
        "kill_after", "min_runtime", "lock", "lock_ttl", "lock_wait", "on_lock_lost", "hosts", "alerts",
        "alert_after_failures", "realert_every", "env", "tags", "owner", "user",
        "jitter",
        "retries", "retry_delay", "concurrency", "output_rules",
        "anomaly", "resolve_after", "maintenance",
    ]

    /// Parses and validates one job file. Throws every problem found, each located.
    public static func load(path: String, defaultTimezone: String) throws -> JobDefinition {
        try parse(bytes: TrustedFile.contents(path, what: "job file"), path: path, defaultTimezone: defaultTimezone)
    }

    public static func parse(text: String, path: String, defaultTimezone: String) throws -> JobDefinition {
        try parse(bytes: Array(text.utf8), path: path, defaultTimezone: defaultTimezone)
    }

    static func parse(bytes: [UInt8], path: String, defaultTimezone: String) throws -> JobDefinition {
        let name = Path.deletingExtension(Path.lastComponent(path))
        let file = YAMLFile(path: path, bytes: bytes)
        var job = JobDefinition(name: name, timezone: defaultTimezone)
        job.sourcePath = path
        if !JobName.isValid(name) { file.problem(JobName.validationMessage(name), at: nil) }
        if let m = file.topLevelMapping() { job.read(m) }
        if !file.problems.isEmpty { throw ConfigErrors(file.problems) }
        return job
    }

    private mutating func read(_ m: YAMLFile.Mapping) {
        m.rejectUnknownKeys(allowed: Self.keys, context: "job")
        for (key, value) in m.entries {
            if let k = key.string { valueLocations[k] = (value.line, value.column) }
        }
        description = m.string("description")
        if let n = m.node("command"), !n.isNull {
            switch n.content {
            case .scalar(let s, _) where !s.trimmingWhitespace().isEmpty: command = .shell(s)
            case .sequence:
                if let argv = m.strings("command"), !argv.isEmpty { command = .argv(argv) }
                else { m.file.problem("command: an empty list has nothing to run", at: n) }
            default: m.file.problem("command: expected a string (run with /bin/sh -c) or a list (exec'd directly)", at: n)
            }
        }
        timezone = m.string("timezone") ?? timezone
        let zoneKnown = isKnownTimeZone(timezone)
        if !zoneKnown {
            m.file.problem("timezone: unknown IANA time zone \"\(timezone)\"", at: m.node("timezone"))
        }
        if let expr = m.string("schedule") {
            // With a bad zone, still check the expression (in UTC) but report the zone only once.
            do {
                let checked = try Schedule(expr, timeZone: zoneKnown ? timezone : "UTC")
                if zoneKnown { schedule = checked }
            } catch { m.file.problem("schedule: \(error)", at: m.node("schedule")) }
        }
        grace = m.timespan("grace") ?? grace
        maxRuntime = m.timespan("max_runtime", atLeast: Timespan(seconds: 1)) ?? maxRuntime
        killOnTimeout = m.bool("kill_on_timeout") ?? killOnTimeout
        killAfter = m.timespan("kill_after") ?? killAfter
        minRuntime = m.timespan("min_runtime") ?? minRuntime
        lock = m.oneOf("lock", ["exclusive", "none"]).flatMap(LockMode.init(rawValue:)) ?? lock
        lockTTL = m.timespan("lock_ttl", atLeast: Timespan(seconds: 3)) ?? lockTTL
        lockWait = m.timespan("lock_wait") ?? lockWait
        onLockLost = m.oneOf("on_lock_lost", ["stop", "continue"]).flatMap(LockLossPolicy.init(rawValue:)) ?? onLockLost
        hosts = m.strings("hosts")
        alerts = m.strings("alerts")
        alertAfterFailures = m.int("alert_after_failures", range: 1...1000) ?? alertAfterFailures
        if let r = m.timespan("realert_every") { realertEvery = r.milliseconds == 0 ? nil : r }
        env = m.stringMap("env") ?? env
        for key in env.keys where key.isEmpty || key.contains("=") {
            m.file.problem("env: invalid variable name \"\(key)\"", at: m.node("env"))
        }
        tags = m.strings("tags") ?? tags
        owner = m.string("owner")
        user = m.string("user")
        if let user, user.isEmpty || user.contains(where: { $0 == ":" || $0 == "/" || $0.isWhitespace }) {
            m.file.problem("user: \"\(user)\" is not a user name", at: m.node("user"))
        }
        readRunPolicy(m)
        readJudgement(m)
        if killOnTimeout && maxRuntime == nil {
            m.file.problem("kill_on_timeout: needs max_runtime to know when to kill", at: m.keyNode("kill_on_timeout"))
        }
        readJitter(m)
    }
}
