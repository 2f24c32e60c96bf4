import Foundation
import JobwatchCore
import Logging
import MonitorService
import ServiceLifecycle

// jobmond [--config PATH] [--listen HOST:PORT] [--jobs-dir DIR]  (SPEC §3)

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("jobmond: \(message)\n".utf8))
    exit(2)
}

func option(_ name: String, in arguments: [String]) -> String? {
    guard let i = arguments.firstIndex(of: name) else {
        return arguments.first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }
    guard i + 1 < arguments.count else { fail("\(name) needs a value") }
    return arguments[i + 1]
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print("usage: jobmond [--config PATH] [--listen HOST:PORT] [--jobs-dir DIR]")
    exit(0)
}
if arguments.contains("--version") {
    print(JobwatchVersion.current)
    exit(0)
}
let configPath = option("--config", in: arguments)
let listenFlag = option("--listen", in: arguments)
let jobsDirFlag = option("--jobs-dir", in: arguments)

/// The file and environment, then the flags, which win over both (SPEC §1.1).
func loadConfig() throws -> GlobalConfig {
    var config = try GlobalConfig.load(explicitPath: configPath, environment: ProcessInfo.processInfo.environment)
    if let listenFlag { config.monitor.listen = listenFlag }
    if let jobsDirFlag { config.jobsDir = jobsDirFlag }
    return config
}

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

// SIGHUP: tokens and channels here; job definitions on the leader, which re-reads jobs.d
// (through the events stream, so a SIGHUP to a follower counts too). A config that no longer
// loads keeps the running one, as a typo must not take the monitor down.
signal(SIGHUP, SIG_IGN)
let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
hangup.setEventHandler {
    logger.notice("SIGHUP: reloading the config and jobs.d")
    do {
        let fresh = try loadConfig()
        try auth.reload(tokens: fresh.monitor.tokens)
        dispatcher.reload(fresh.monitor)
    } catch {
        logger.error("reload: config not changed: \(error)")
    }
    Task { await registry.reload() }
}
hangup.resume()

let group = ServiceGroup(configuration: ServiceGroupConfiguration(
    services: [
        .init(service: leadership), .init(service: applier), .init(service: dispatcher), .init(service: server),
        .init(service: WeeklyReport(environment: environment, leadership: leadership)),
        .init(service: StreamRelay(environment: environment, leadership: leadership)),
    ],
    gracefulShutdownSignals: [.sigterm, .sigint],
    logger: logger))
logger.notice("jobmond \(JobwatchVersion.current) listening on \(config.monitor.listen)")
do { try await group.run() } catch { fail("\(error)") }
