import JobwatchCore
import SystemSupport

/// `jobrun` invoked through a `cronlock` symlink: cronlock's command line and CRONLOCK_*
/// variables, its key names and its lock values, so a fleet can move host by host.
public struct CronlockMode: Sendable {
    /// The full Redis key, `<CRONLOCK_PREFIX><CRONLOCK_KEY or md5 of the command>`.
    public let lockKey: String
    /// Seconds the lock is kept after the start of a short job (cronlock's GRACE).
    public let graceSeconds: Int64
    /// cronlock's lock lifetime; the lock's value is start + RELEASE + 1, which old cronlock
    /// hosts read as "held until then".
    public let releaseSeconds: Int64

    public static func isInvoked(as argv0: String) -> Bool {
        Path.lastComponent(argv0) == "cronlock"
    }

    public static let usage = """
        usage: cronlock COMMAND [ARG...]
        (jobrun in cronlock-compatible mode; settings come from CRONLOCK_* variables and
        CRONLOCK_CONFIG / /etc/cronlock.conf, read as KEY=VALUE lines)
        """

    /// Builds the equivalent `jobrun` invocation.
    public static func invocation(arguments: [String], environment: [String: String]) throws -> (Invocation, CronlockMode) {
        guard !arguments.isEmpty else { throw Invocation.UsageError(description: "no command given") }
        var settings = environment
        let configPath = environment["CRONLOCK_CONFIG"] ?? "/etc/cronlock.conf"
        if let text = FileSystem.text(atPath: configPath) {
            // cronlock sources this file after reading its environment, so the file wins.
            for (key, value) in parseAssignments(text) { settings[key] = value }
        } else if environment["CRONLOCK_CONFIG"] != nil {
            throw Invocation.UsageError(description: "cannot read CRONLOCK_CONFIG file \(configPath)")
        }
        func number(_ name: String, _ fallback: Int64) throws -> Int64 {
            guard let text = settings[name], !text.isEmpty else { return fallback }
            guard let v = Int64(text), v >= 0 else { throw Invocation.UsageError(description: "\(name) must be a whole number of seconds, got \"\(text)\"") }
            return v
        }

        let host = settings["CRONLOCK_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        let port = try number("CRONLOCK_PORT", 6379)
        let db = try number("CRONLOCK_DB", 0)
        let auth = settings["CRONLOCK_AUTH"].flatMap { $0.isEmpty ? nil : $0 }
        let credentials = auth.map { ":\($0)@" } ?? ""
        let url: String
        if settings["CRONLOCK_USE_SENTINEL"] == "yes" || settings["CRONLOCK_SENTINEL"] == "yes" {
            let sHost = settings["CRONLOCK_SENTINEL_HOST"] ?? "localhost"
            let sPort = try number("CRONLOCK_SENTINEL_PORT", 26379)
            let master = settings["CRONLOCK_SENTINEL_MASTER"] ?? "mymaster"
            url = "redis-sentinel://\(credentials)\(sHost):\(sPort)/\(master)/\(db)"
        } else {
            url = "redis://\(credentials)\(host):\(port)/\(db)"
        }

        let key = settings["CRONLOCK_KEY"].flatMap { $0.isEmpty ? nil : $0 }
            ?? MD5.hex(Array((arguments.joined(separator: " ") + "\n").utf8))
        let prefix = settings["CRONLOCK_PREFIX"] ?? "cronlock."
        var inv = Invocation()
        inv.redis = [url]
        inv.job = jobName(for: key)
        inv.command = arguments
        inv.verbose = settings["CRONLOCK_VERBOSE"] == "yes"
        let timeout = try number("CRONLOCK_TIMEOUT", 0)
        if timeout > 0 { inv.timeout = Timespan(seconds: timeout) }
        let mode = CronlockMode(lockKey: prefix + key, graceSeconds: try number("CRONLOCK_GRACE", 40),
                                releaseSeconds: try number("CRONLOCK_RELEASE", 86400))
        return (inv, mode)
    }

    /// A CRONLOCK_KEY can hold any characters; the job name (for reports and JOBWATCH_JOB)
    /// keeps the safe ones.
    static func jobName(for key: String) -> String {
        let safe = String(key.map { c -> Character in
            c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "_" || c == "-") ? c : "_"
        }.prefix(128))
        return JobName.isValid(safe) ? safe : "cronlock-" + MD5.hex(Array(key.utf8))
    }

    /// `KEY=VALUE` lines with optional `export` and quotes. Never executed as shell.
    static func parseAssignments(_ text: String) -> [(String, String)] {
        text.split(whereSeparator: \.isNewline).compactMap { raw in
            var line = raw.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { return nil }
            if line.hasPrefix("export ") { line = line.dropFirst(7).trimmingWhitespace() }
            guard let eq = line.firstIndex(of: "=") else { return nil }
            let key = String(line[..<eq])
            var value = line[line.index(after: eq)...].trimmingWhitespace()
            if value.count >= 2, let f = value.first, f == "\"" || f == "'", value.last == f {
                value = String(value.dropFirst().dropLast())
            }
            return (key, value)
        }
    }
}
