import ArgumentParser
import Foundation
import JobwatchCore

struct Crontab: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a crontab that runs every scheduled job through jobrun.",
        discussion: """
            Lines fire in the zone the cron daemon runs in (--system-tz, else TZ, else /etc/localtime, \
            else /etc/timezone, else UTC). A job in another zone is written only when its schedule fires at \
            the same instants in both zones; otherwise it is left out with a message, and 'jobctl systemd' \
            (whose OnCalendar= carries a zone) is the way to run it. "every" periods become */N steps when \
            they are exact. Exits 1 when a job was left out or a file has problems.
            Install the output with 'crontab FILE' as the user the jobs run as (it replaces that user's crontab).
            """)

    @OptionGroup var jobs: JobsOptions
    @Option(help: "The jobrun binary the lines call.") var jobrun = "/usr/local/bin/jobrun"
    @Option(help: "The zone the cron daemon runs in (default: detected from TZ, /etc/localtime, /etc/timezone).")
    var systemTz: String?

    func run() throws {
        if let problem = jobrunPathProblem(jobrun) { throw ValidationError(problem) }
        let zone: CronZone
        do {
            zone = try CronZone.detect(
                flag: systemTz, environment: environment,
                localtimeTarget: try? FileManager.default.destinationOfSymbolicLink(atPath: "/etc/localtime"),
                etcTimezone: try? String(contentsOfFile: "/etc/timezone", encoding: .utf8))
        } catch {
            throw ValidationError("\(error)")
        }
        let loaded = jobs.load()
        let crontab = GeneratedCrontab(jobs: loaded.directory.jobs, jobsDir: loaded.directory.path, cronZone: zone,
                                       jobrun: jobrun, now: Int64(Date().timeIntervalSince1970))
        print(crontab.text, terminator: "")
        try exitReporting(loaded.problems + crontab.refusals)
    }
}

func exitReporting(_ problems: [ConfigError]) throws {
    for p in problems { FileHandle.standardError.write(Data("\(p)\n".utf8)) }
    if !problems.isEmpty { throw ExitCode(1) }
}
