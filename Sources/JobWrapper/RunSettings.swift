import JobwatchCore
import RedisLease
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// Everything `jobrun` needs to know, resolved once from flags, environment, the global
/// config and the job's file, in that order of precedence.
struct RunSettings {
    let config: GlobalConfig
    let job: JobDefinition
    let host: String
    let argv: [String]
    let locking: Bool
    let lockTTL: Timespan
    let lockWait: Timespan
    let timeout: Timespan?
    let topology: RedisTopology
    /// `--no-monitor` turns off start/finish/skip reports (`--monitor URL` sets monitor_url).
    let reporting: Bool
    /// `user:`, looked up here: a user this host lacks is a config problem, before any lease.
    let runAs: RunUser?

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    init(invocation inv: Invocation, environment env: [String: String]) throws {
        var config = try GlobalConfig.load(explicitPath: inv.configPath, environment: env)
        if !inv.redis.isEmpty { config.redis = inv.redis }
        if let d = inv.jobsDir { config.jobsDir = d }
        if let g = inv.gelf { config.gelf = g }
        if inv.noGELF { config.gelf = nil }
        if let m = inv.monitor { config.monitorURL = m }
        self.config = config

        let path = (config.jobsDir.hasSuffix("/") ? config.jobsDir : config.jobsDir + "/") + inv.job + ".yaml"
        var job: JobDefinition
        if FileSystem.exists(atPath: path) {
            job = try JobDefinition.load(path: path, defaultTimezone: config.timezone)
        } else {
            job = JobDefinition(name: inv.job, timezone: config.timezone)
        }
        self.job = job

        if !inv.command.isEmpty {
            argv = inv.command
        } else if let c = job.command {
            argv = c.argv
        } else {
            throw Problem(description: "no command for \(inv.job): give one after -- or set command: in \(path)")
        }
        host = inv.host ?? env["JOBWATCH_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? systemHostName()
        locking = !inv.noLock && job.lock == .exclusive
        reporting = !inv.noMonitor
        runAs = try RunUser.resolve(job.user)
        lockTTL = inv.lockTTL ?? job.lockTTL
        lockWait = inv.lockWait ?? job.lockWait
        if let t = inv.timeout {
            timeout = t
        } else {
            timeout = job.killOnTimeout ? job.maxRuntime : nil
        }
        do {
            let password = try config.redisPassword?.resolve()
            topology = try RedisTopology.parse(config.redis).withPassword(password)
        } catch {
            throw Problem(description: "redis: \(error)")
        }
    }
}
