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
    @OptionGroup var cron: CronTargetOptions

    func run() throws {
        let zone = try cron.cronZone()
        let loaded = jobs.load()
        let crontab = GeneratedCrontab(jobs: loaded.directory.jobs, jobsDir: loaded.directory.path, cronZone: zone,
                                       jobrun: cron.jobrun, now: Int64(Date().timeIntervalSince1970))
        print(crontab.text, terminator: "")
        try exitReporting(loaded.problems + crontab.refusals)
    }
}

func exitReporting(_ problems: [ConfigError]) throws {
    for p in problems { FileHandle.standardError.write(Data("\(p)\n".utf8)) }
    if !problems.isEmpty { throw ExitCode(1) }
}
