import Foundation

/// The environment a test runs `jobrun` (or `jobctl`) in: this process's environment minus
/// every `JOBWATCH_*` variable, pointed at the test's own config, Redis, jobs.d and spool, so
/// nothing of the machine it runs on (an /etc config, a monitor, Graylog) leaks in.
public func isolatedJobwatchEnvironment(config: String, redisURL: String, jobsDir: String,
                                        spoolDir: String) -> [String: String] {
    var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("JOBWATCH_") }
    env["JOBWATCH_CONFIG"] = config
    env["JOBWATCH_REDIS"] = redisURL
    env["JOBWATCH_JOBS_DIR"] = jobsDir
    env["JOBWATCH_KEY_PREFIX"] = "test:"
    env["JOBWATCH_SPOOL_DIR"] = spoolDir
    env["TZ"] = "UTC"
    return env
}
