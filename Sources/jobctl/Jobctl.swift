import ArgumentParser
import JobwatchCore

@main
struct Jobctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobctl",
        abstract: "Operate Jobwatch: locks, schedules and job definitions.",
        version: JobwatchVersion.current,
        subcommands: [Status.self, History.self, Report.self, Pause.self, Resume.self, Ping.self, Flush.self, Lock.self, Unlock.self, Next.self, Check.self, Crontab.self, Systemd.self]
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
