import ArgumentParser
import CronSchedule
import Foundation
import JobwatchCore

struct Next: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the next occurrences of a schedule, or the next starts of a job (pure local computation).",
        discussion: """
            Example: jobctl next "30 2 * * *" --tz Europe/Dublin --count 3
            With --job, the schedule, zone and jitter come from jobs.d/JOB.yaml (the config file is read \
            for jobs_dir and the default timezone), and each line is when that occurrence starts: its \
            scheduled time plus its jitter offset, as jobrun and jobmond compute it.
            """)

    @Argument(help: "A cron expression, a @macro, or \"every DURATION\" (not with --job).") var expression: String?
    @Option(help: "IANA time zone the schedule is evaluated in (not with --job).") var tz: String?
    @Option(help: "Start after this RFC 3339 instant (default: now).") var from: String?
    @Option(help: "How many occurrences to print.") var count = 10
    @Option(help: "A job in jobs.d: print its jittered starts.") var job: String?
    @Option(help: "Global config file, with --job (default /etc/jobwatch/jobwatch.yaml or JOBWATCH_CONFIG).")
    var config: String?
    @Option(help: "Job definitions directory, with --job (default: jobs_dir from the config).") var jobsDir: String?

    func run() throws {
        guard count > 0 else { throw ValidationError("--count must be at least 1") }
        let (schedule, jitter) = try scheduleAndJitter()
        var t: Int64
        if let from {
            guard let parsed = parseRFC3339(from) else {
                throw ValidationError("--from: not an RFC 3339 time: \"\(from)\" (e.g. 2026-03-29T01:00:00Z)")
            }
            t = parsed
        } else {
            t = Int64(Date().timeIntervalSince1970)
        }
        var out = ""
        var cursor = schedule.firstOccurrence(startingAfter: t, jitter: jitter)
        for _ in 0..<count {
            guard let occurrence = cursor else { break }
            out += rfc3339(schedule.start(of: occurrence, jitter: jitter), timeZone: schedule.timeZoneID) + "\n"
            cursor = schedule.next(after: occurrence)
        }
        print(out, terminator: "")
    }

    private func scheduleAndJitter() throws -> (Schedule, Jitter?) {
        guard let job else {
            guard let expression else { throw ValidationError("give a schedule expression or --job JOB") }
            guard config == nil, jobsDir == nil else { throw ValidationError("--config and --jobs-dir go with --job") }
            do {
                return (try Schedule(expression, timeZone: tz ?? "UTC"), nil)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        guard expression == nil, tz == nil else {
            throw ValidationError("--job takes its schedule and zone from the job file: no expression or --tz with it")
        }
        guard JobName.isValid(job) else { throw ValidationError(JobName.validationMessage(job)) }
        let definition: JobDefinition
        do {
            let global = try GlobalConfig.load(explicitPath: config, environment: environment)
            definition = try JobDefinition.load(path: (jobsDir ?? global.jobsDir) + "/" + job + ".yaml",
                                                defaultTimezone: global.timezone)
        } catch {
            throw ValidationError("\(error)")
        }
        guard let schedule = definition.schedule else {
            throw ValidationError("\(job) has no schedule: it has no occurrences")
        }
        return (schedule, definition.jitter)
    }
}
