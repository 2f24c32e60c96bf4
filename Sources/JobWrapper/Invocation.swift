import JobwatchCore

/// `jobrun [options] JOB [-- COMMAND [ARG...]]`, parsed by hand: swift-argument-parser
/// measurably costs ~3 ms of start-up, and `jobrun` starts on every cron tick of every host.
public struct Invocation: Sendable {
    public var configPath: String?
    public var jobsDir: String?
    public var host: String?
    public var redis: [String] = []
    public var noLock = false
    public var lockTTL: Timespan?
    public var lockWait: Timespan?
    public var timeout: Timespan?
    public var gelf: String?
    public var noGELF = false
    public var monitor: String?
    public var noMonitor = false
    public var quiet = false
    public var verbose = false
    public var job = ""
    public var command: [String] = []

    public enum Request: Equatable { case run, help, version }

    public struct UsageError: Error, CustomStringConvertible {
        public let description: String
    }

    public static let usage = """
        usage: jobrun [options] JOB [-- COMMAND [ARG...]]

        Runs COMMAND (or the job's `command:` from jobs.d/JOB.yaml) on at most one host per
        scheduled occurrence, under a Redis lease.

        options:
          --config PATH        global config (default /etc/jobwatch/jobwatch.yaml, or JOBWATCH_CONFIG)
          --jobs-dir DIR       job definitions directory (JOBWATCH_JOBS_DIR)
          --host NAME          this host's name (JOBWATCH_HOST; default: the host name)
          --redis URL          Redis URL; repeat for a Redlock quorum (JOBWATCH_REDIS)
          --no-lock            run without taking the lease
          --lock-ttl DURATION  lease length, renewed every third of it (default 60s)
          --lock-wait DURATION wait this long for a held lock before giving up (default 0s)
          --timeout DURATION   kill the command after this long (exit 202)
          --gelf URL           udp://, tcp:// or http(s):// Graylog input (JOBWATCH_GELF)
          --no-gelf            don't send output to Graylog
          --monitor URL        monitor URL for HTTP reports (JOBWATCH_MONITOR_URL)
          --no-monitor         don't report to the monitor
          --quiet              don't echo the command's output
          --verbose            explain decisions on stderr (including exit 200)
          --version, --help

        exit codes: the command's own; 128+N killed by signal N; 200 not run (held elsewhere
        or host not allowed); 201 Jobwatch error; 202 timed out; 203 lease lost.
        """

    public static func parse(_ args: [String]) throws -> (Invocation, Request) {
        var inv = Invocation()
        var i = 0
        func value(_ name: String, _ inline: String?) throws -> String {
            if let inline { return inline }
            i += 1
            guard i < args.count else { throw UsageError(description: "\(name) needs a value") }
            return args[i]
        }
        func span(_ name: String, _ text: String) throws -> Timespan {
            guard let t = Timespan(parsing: text) else {
                throw UsageError(description: "\(name): invalid duration \"\(text)\" (use e.g. 90s, 10m, 2h, 1h30m)")
            }
            return t
        }
        while i < args.count {
            let arg = args[i]
            if arg == "--" {
                throw UsageError(description: "missing JOB name before --")
            }
            guard arg.hasPrefix("-"), arg.count > 1 else {
                inv.job = arg
                var rest = Array(args[(i + 1)...])
                if rest.first == "--" { rest.removeFirst() }
                inv.command = rest
                break
            }
            var name = arg
            var inline: String?
            if let eq = arg.firstIndex(of: "="), arg.hasPrefix("--") {
                name = String(arg[..<eq])
                inline = String(arg[arg.index(after: eq)...])
            }
            switch name {
            case "--help", "-h": return (inv, .help)
            case "--version": return (inv, .version)
            case "--config": inv.configPath = try value(name, inline)
            case "--jobs-dir": inv.jobsDir = try value(name, inline)
            case "--host": inv.host = try value(name, inline)
            case "--redis": inv.redis.append(try value(name, inline))
            case "--no-lock": inv.noLock = true
            case "--lock-ttl": inv.lockTTL = try span(name, try value(name, inline))
            case "--lock-wait": inv.lockWait = try span(name, try value(name, inline))
            case "--timeout": inv.timeout = try span(name, try value(name, inline))
            case "--gelf": inv.gelf = try value(name, inline)
            case "--no-gelf": inv.noGELF = true
            case "--monitor": inv.monitor = try value(name, inline)
            case "--no-monitor": inv.noMonitor = true
            case "--quiet", "-q": inv.quiet = true
            case "--verbose", "-v": inv.verbose = true
            default:
                throw UsageError(description: "unknown option \(arg)")
            }
            i += 1
        }
        guard !inv.job.isEmpty else { throw UsageError(description: "missing JOB name") }
        guard JobName.isValid(inv.job) else { throw UsageError(description: JobName.validationMessage(inv.job)) }
        if let t = inv.lockTTL, t < Timespan(seconds: 3) {
            throw UsageError(description: "--lock-ttl: at least 3s, so that renewal every third of it has room")
        }
        return (inv, .run)
    }
}
