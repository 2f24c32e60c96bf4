import ArgumentParser
import Foundation
import JobwatchCore
import RedisLease
import Reporting
import SystemSupport

struct Flush: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deliver this host's spooled run reports now, oldest first; exit 1 if any remain.",
        discussion: "Uses the same transport as jobrun (report: redis or http). Waits for a jobrun that is delivering the spool already.")

    @OptionGroup var options: MonitorOptions
    @Option(help: "Spool directory (overrides spool_dir and JOBWATCH_SPOOL_DIR).") var spoolDir: String?

    func run() throws {
        var config = try options.load()
        if let spoolDir { config.spoolDir = spoolDir }
        // With `report: http` too: the spool's depth is told through Redis.
        let route = RunReporter.RedisRoute.topology(try RedisTopology.parse(config.redis).withPassword(try config.redisPassword?.resolve()))
        let reporter = RunReporter(config: config, redis: route) { message in
            FileHandle.standardError.write(Data("jobctl: warning: \(message)\n".utf8))
        }
        let host = ProcessInfo.processInfo.environment["JOBWATCH_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? systemHostName()
        let result = reporter.flush(wait: true, host: host)
        print("delivered \(result.delivered), \(result.remaining) remain in \(config.spoolDir)")
        if result.remaining > 0 {
            FileHandle.standardError.write(Data("jobctl: flush stopped: \(result.failure ?? "reports arrived faster than they could be delivered")\n".utf8))
            throw ExitCode.failure
        }
    }
}
