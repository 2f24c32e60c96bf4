import ArgumentParser
import Foundation
import JobwatchCore

@main
struct Jobctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobctl",
        abstract: "Operate Jobwatch: locks, schedules and job definitions.",
        version: JobwatchVersion.current,
        subcommands: [Status.self, History.self, Report.self, Pause.self, Resume.self, Ping.self, Flush.self, Lock.self, Unlock.self, Next.self, Check.self, Crontab.self, Systemd.self, ImportCrontab.self]
    )
}

/// Options every subcommand that reads the global config shares.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Global config file (default /etc/jobwatch/jobwatch.yaml or JOBWATCH_CONFIG).")
    var config: String?

    @Option(help: "Redis URL; repeat for a Redlock quorum (overrides redis: and JOBWATCH_REDIS).")
    var redis: [String] = []

    func load() throws -> GlobalConfig {
        var c = try GlobalConfig.load(explicitPath: config, environment: environment)
        if !redis.isEmpty { c.redis = redis }
        return c
    }
}

/// The global options plus `--monitor`, for the subcommands that talk to jobmond's API.
struct MonitorOptions: ParsableArguments {
    @OptionGroup var global: GlobalOptions

    @Option(help: "Monitor URL (overrides monitor_url and JOBWATCH_MONITOR_URL).")
    var monitor: String?

    func load() throws -> GlobalConfig {
        var c = try global.load()
        if let monitor { c.monitorURL = monitor }
        return c
    }
}

/// The config and `jobs.d`, for the subcommands that read job definitions (check, crontab,
/// systemd).
struct JobsOptions: ParsableArguments {
    @Option(help: "Global config file (default /etc/jobwatch/jobwatch.yaml or JOBWATCH_CONFIG).")
    var config: String?
    @Option(help: "Job definitions directory (default: jobs_dir from the config).")
    var jobsDir: String?

    /// Problems are collected rather than thrown so that the good jobs are still translated.
    func load() -> (global: GlobalConfig, directory: JobsDirectory, problems: [ConfigError]) {
        var problems: [ConfigError] = []
        var global = GlobalConfig()
        do {
            global = try GlobalConfig.load(explicitPath: config, environment: environment)
        } catch let e as ConfigErrors {
            problems += e.errors
        } catch {
            problems.append(ConfigError(path: config ?? GlobalConfig.defaultPath, line: 1, column: 1, message: "\(error)"))
        }
        let directory = JobsDirectory.load(jobsDir ?? global.jobsDir, defaultTimezone: global.timezone)
        return (global, directory, problems + directory.problems)
    }
}

/// The jobrun the generated crontab lines call and the zone the cron daemon runs in (crontab,
/// import-crontab).
struct CronTargetOptions: ParsableArguments {
    @Option(help: "The jobrun binary the crontab lines call.") var jobrun = "/usr/local/bin/jobrun"
    @Option(help: "The zone the cron daemon runs in, for lines without CRON_TZ (default: detected from TZ, /etc/localtime, /etc/timezone).")
    var systemTz: String?

    /// The cron daemon's zone, once `--jobrun` is known to be a plain path.
    func cronZone() throws -> CronZone {
        if let problem = jobrunPathProblem(jobrun) { throw ValidationError(problem) }
        do {
            return try CronZone.detect(
                flag: systemTz, environment: environment,
                localtimeTarget: try? FileManager.default.destinationOfSymbolicLink(atPath: "/etc/localtime"),
                etcTimezone: try? String(contentsOfFile: "/etc/timezone", encoding: .utf8))
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
