import Foundation
import JobwatchCore
import Logging
import MonitorService
import ServiceLifecycle
import UnixSignals

// jobmond [--config PATH] [--listen HOST:PORT] [--jobs-dir DIR] [--check-config]  (SPEC §3)

let usage = """
    usage: jobmond [--config PATH] [--listen HOST:PORT] [--jobs-dir DIR] [--check-config]

      --config PATH        global config (default /etc/jobwatch/jobwatch.yaml or JOBWATCH_CONFIG)
      --listen HOST:PORT   the HTTP API and status page (overrides monitor.listen)
      --jobs-dir DIR       job definitions (overrides jobs_dir)
      --check-config       validate the config, its secrets and jobs.d, then exit: 0 valid, 1 not
      --version, --help
    """

func fail(_ message: String, status: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("jobmond: \(message)\n".utf8))
    exit(status)
}

/// `--name value` or `--name=value`; anything not known is an error, never ignored.
func parse(_ arguments: [String]) -> (options: [String: String], flags: Set<String>) {
    let valued: Set = ["--config", "--listen", "--jobs-dir"]
    let bare: Set = ["--check-config", "--version", "--help", "-h"]
    var (options, flags) = ([String: String](), Set<String>())
    var rest = arguments[...]
    while let argument = rest.popFirst() {
        let (name, inline) = argument.firstIndex(of: "=").map { (String(argument[..<$0]), String(argument[argument.index(after: $0)...])) }
            ?? (argument, nil)
        if valued.contains(name) {
            guard let value = inline ?? rest.popFirst() else { fail("\(name) needs a value\n\(usage)") }
            options[name] = value
        } else if bare.contains(argument) {
            flags.insert(argument)
        } else {
            fail("unknown argument \"\(argument)\"\n\(usage)")
        }
    }
    return (options, flags)
}

let (options, flags) = parse(Array(CommandLine.arguments.dropFirst()))
if !flags.isDisjoint(with: ["--help", "-h"]) {
    print(usage)
    exit(0)
}
if flags.contains("--version") {
    print(JobwatchVersion.current)
    exit(0)
}
let configPath = options["--config"]
let listenFlag = options["--listen"]
let jobsDirFlag = options["--jobs-dir"]

/// The file and environment, then the flags, which win over both (SPEC §1.1).
func loadConfig() throws -> GlobalConfig {
    var config = try GlobalConfig.load(explicitPath: configPath, environment: ProcessInfo.processInfo.environment)
    if let listenFlag { config.monitor.listen = listenFlag }
    if let jobsDirFlag { config.jobsDir = jobsDirFlag }
    return config
}

/// `--check-config`: what jobmond would refuse or complain about at start, without starting:
/// the config, the tokens, every channel's secret, every job file and the channels jobs name.
func checkConfig() -> Never {
    var problems: [String] = []
    var config = GlobalConfig()
    do { config = try loadConfig() } catch { fail("\(error)", status: 1) }
    do { _ = try Authenticator(tokens: config.monitor.tokens) } catch { problems.append("monitor.tokens: \(error)") }
    for (name, channel) in config.monitor.channels.sorted(by: { $0.key < $1.key }) {
        do { _ = try channel.target.resolve() } catch { problems.append("monitor.channels.\(name): \(error)") }
    }
    let jobs = JobsDirectory.load(config.jobsDir, defaultTimezone: config.timezone)
    problems += jobs.problems.map { "\($0)" }
    for job in jobs.jobs {
        for name in job.alerts ?? [] where config.monitor.channels[name] == nil {
            problems.append("\(job.problem(at: "alerts", "alerts: unknown channel \"\(name)\""))")
        }
    }
    for problem in problems { FileHandle.standardError.write(Data("jobmond: \(problem)\n".utf8)) }
    print("checked \(config.sourcePath ?? "built-in defaults"), \(config.monitor.channels.count) channel(s) and "
          + "\(jobs.jobs.count) job(s) in \(config.jobsDir): " + (problems.isEmpty ? "all valid" : "\(problems.count) problem(s)"))
    exit(problems.isEmpty ? 0 : 1)
}
if flags.contains("--check-config") { checkConfig() }

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
    return handler
}
let logger = Logger(label: "jobmond")

let config: GlobalConfig
do { config = try loadConfig() } catch { fail("\(error)") }

let environment = MonitorEnvironment(config: config, logger: logger)
let leadership = Leadership(environment: environment)
let registry = JobRegistry(environment: environment)
let applier = EventApplier(environment: environment, leadership: leadership, registry: registry)
let dispatcher = AlertDispatcher(environment: environment, leadership: leadership)
let auth: Authenticator
do { auth = try Authenticator(tokens: config.monitor.tokens) } catch { fail("monitor.tokens: \(error)") }
let server: any Service
do {
    server = try MonitorAPI(environment: environment, auth: auth, leadership: leadership).server(listen: config.monitor.listen)
} catch { fail("\(error)") }

/// SIGHUP, as one of the group's services: the config file again (tokens, the `monitor:`
/// section for routing, delivery and the API), then jobs.d on the leader, through the events
/// stream, so a SIGHUP to a follower counts too. A config that no longer loads keeps the
/// running one, as a typo must not take the monitor down.
struct HangupReload: Service {
    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in hangups {
                logger.notice("SIGHUP: reloading the config and jobs.d")
                do {
                    let fresh = try loadConfig()
                    try auth.reload(tokens: fresh.monitor.tokens)
                    environment.reload(fresh.monitor)
                    dispatcher.reload(fresh.monitor)
                } catch {
                    logger.error("reload: config not changed: \(error)")
                }
                await registry.reload()
            }
        }
    }
}

// Until HangupReload listens, a SIGHUP (a reload right after start) must not end the daemon.
signal(SIGHUP, SIG_IGN)
let group = ServiceGroup(configuration: ServiceGroupConfiguration(
    services: [
        .init(service: leadership), .init(service: applier), .init(service: dispatcher), .init(service: server),
        .init(service: WeeklyReport(environment: environment, leadership: leadership)),
        .init(service: StreamRelay(environment: environment, leadership: leadership)),
        .init(service: HangupReload()),
    ],
    gracefulShutdownSignals: [.sigterm, .sigint],
    logger: logger))
logger.notice("jobmond \(JobwatchVersion.current) listening on \(config.monitor.listen)")
do { try await group.run() } catch { fail("\(error)") }
