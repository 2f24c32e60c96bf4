import CronSchedule
@testable import JobwatchCore
import XCTest

final class CrontabImportTests: XCTestCase {
    private func importing(_ text: String, system: Bool = false, existing: Set<String> = [],
                           cronZone: String = "UTC") -> CrontabImport {
        CrontabImport(text: text, settings: .init(source: "crontab", outDir: "out", system: system, cronZone: cronZone,
                                                  jobrun: "/usr/local/bin/jobrun", existingJobs: existing))
    }

    private func job(_ imported: CrontabImport, _ name: String, file: StaticString = #filePath,
                     line: UInt = #line) throws -> JobDefinition {
        let found = try XCTUnwrap(imported.jobs.first { $0.name == name }, "no job \(name) in \(imported.jobs.map(\.name))",
                                  file: file, line: line)
        return try JobDefinition.parse(text: found.yaml, path: "out/\(name).yaml", defaultTimezone: "Asia/Tokyo")
    }

    /// The crontab's lines after the header comment.
    private func printed(_ imported: CrontabImport, unwritten: [String: String] = [:]) -> [String] {
        Array(imported.crontab(unwritten: unwritten).split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
            .dropLast().map(String.init))
    }

    func testScheduleZoneCommandAndEnvComeFromTheLineAndTheVariablesAboveIt() throws {
        let imported = importing("""
            MAILTO=ops@example.com
            PATH=/usr/local/bin:/usr/bin:/bin
            RAILS_ENV = "production"
            0 2 * * * /usr/local/bin/nightly-report --full
            CRON_TZ=Europe/Dublin
            TZ=America/New_York
            */15 9-17 * * mon-fri cd /srv/app && bin/rake invoices:sync
            """, cronZone: "Europe/Berlin")
        let report = try job(imported, "nightly-report")
        XCTAssertEqual(report.schedule, try Schedule("0 2 * * *", timeZone: "Europe/Berlin"))
        XCTAssertEqual(report.timezone, "Europe/Berlin", "no CRON_TZ/TZ line: the cron daemon's zone")
        XCTAssertEqual(report.command, .shell("/usr/local/bin/nightly-report --full"))
        XCTAssertEqual(report.env, ["RAILS_ENV": "production"])
        let yaml = imported.jobs[0].yaml
        XCTAssertTrue(yaml.contains("# MAILTO=ops@example.com in the crontab"), yaml)
        XCTAssertTrue(yaml.contains("# PATH=/usr/local/bin:/usr/bin:/bin in the crontab"), yaml)
        XCTAssertTrue(yaml.contains("#   0 2 * * * /usr/local/bin/nightly-report --full\n"), "the original line: \(yaml)")

        let rake = try job(imported, "rake")
        XCTAssertEqual(rake.timezone, "Europe/Dublin", "CRON_TZ wins over TZ for the schedule")
        XCTAssertEqual(rake.env, ["RAILS_ENV": "production", "TZ": "America/New_York"], "the command still sees TZ")
        XCTAssertEqual(rake.schedule?.expression, "*/15 9-17 * * mon-fri")
    }

    func testThePrintedCrontabKeepsEverythingButTheCommandsWhichRunThroughJobrun() {
        let text = """
            # nightly things
            MAILTO=ops@example.com

            CRON_TZ=Europe/Dublin
            5/10 1 * * * /opt/a.sh
            @hourly /opt/b.py >/dev/null 2>&1
            """
        XCTAssertEqual(printed(importing(text)), [
            "# nightly things", "MAILTO=ops@example.com", "", "CRON_TZ=Europe/Dublin",
            "5-59/10 1 * * * /usr/local/bin/jobrun a", "@hourly /usr/local/bin/jobrun b",
        ])
    }

    func testNamesComeFromTheProgramLookingThroughWrappersAndInterpreters() {
        let cases: [(String, String)] = [
            ("/usr/local/bin/backup.sh --full", "backup"),
            ("FOO=1 BAR='x y' /opt/sync-invoices", "sync-invoices"),
            ("cd /srv/app && nice -n 10 ionice -c 3 bin/rake db:vacuum", "rake"),
            ("test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )", "cron.daily"),
            ("timeout 1h flock -n /tmp/x.lock /usr/bin/php /var/www/artisan schedule:run", "artisan"),
            ("python3 -m mypkg.cleanup --days 3", "mypkg.cleanup"),
            ("/bin/bash -c 'cd /tmp && exec ./rotate.sh'", "rotate"),
            ("sudo -u www-data env -u HOME /usr/bin/nohup ./warm.py &", "warm"),
            ("python3", "python3"),
            ("\"/opt/my tool/run it\" --now", "run it"),
        ]
        for (command, name) in cases {
            XCTAssertEqual(ProgramName.of(command), name, command)
        }
        XCTAssertNil(ProgramName.of("cd /tmp &&"))
        XCTAssertEqual(ProgramName.sanitized("run it"), "run-it")
        XCTAssertEqual(ProgramName.sanitized("--._weird$$name__"), "weird-name")
        XCTAssertEqual(ProgramName.sanitized("ünïcode"), "n-code")
        XCTAssertEqual(ProgramName.sanitized("$$$"), "job")
        XCTAssertEqual(ProgramName.sanitized(String(repeating: "a", count: 300)).count, 120)
    }

    func testNamesAreUniqueAgainstEarlierLinesJobrunNamesAndFilesAlreadyInOut() {
        let imported = importing("""
            0 1 * * * /opt/backup.sh one
            0 2 * * * /opt/backup.sh two
            0 3 * * * /opt/report
            0 4 * * * jobrun report -- /opt/report --weekly
            0 5 * * * /opt/sync
            """, existing: ["backup", "sync", "sync-2"])
        XCTAssertEqual(imported.jobs.map(\.name), ["backup-2", "backup-3", "report-2", "report", "sync-3"])
        XCTAssertTrue(imported.notConverted.isEmpty)
    }

    func testAJobrunLineKeepsItsNameMovesJobKeysIntoTheFileAndHostOptionsStayOnTheLine() throws {
        let imported = importing("""
            10 2 * * * JOBWATCH_HOST=web1 LANG=C /usr/bin/jobrun --timeout=2h --lock-ttl 90s --no-lock --quiet --gelf udp://g:12201 nightly -- /opt/nightly --full 2>&1 >/var/log/n.log
            0 3 * * * jobrun nightly /opt/other
            """)
        let nightly = try job(imported, "nightly")
        XCTAssertEqual(nightly.command, .shell("/opt/nightly --full"))
        XCTAssertEqual(nightly.maxRuntime, Timespan(seconds: 7200))
        XCTAssertTrue(nightly.killOnTimeout)
        XCTAssertEqual(nightly.lockTTL, Timespan(seconds: 90))
        XCTAssertEqual(nightly.lock, .none)
        XCTAssertEqual(nightly.env, ["LANG": "C"])
        XCTAssertEqual(printed(imported)[0],
                       "10 2 * * * JOBWATCH_HOST=web1 /usr/local/bin/jobrun --quiet --gelf udp://g:12201 nightly 2>&1 >/var/log/n.log")
        XCTAssertEqual(imported.notConverted.map(\.description), ["crontab:2:1: not converted: job name nightly is already taken by line 1"])
    }

    func testAJobrunLineWhoseFileExistsOrWithoutACommandIsKeptAsItIs() {
        let text = """
            0 1 * * * jobrun backup -- /opt/backup
            0 2 * * * jobrun report
            0 3 * * * jobrun cleanup
            """
        let imported = importing(text, existing: ["backup", "report"])
        XCTAssertTrue(imported.jobs.isEmpty)
        let messages = imported.notConverted.map(\.description)
        XCTAssertEqual(messages.count, 3)
        XCTAssertTrue(messages[0].hasPrefix("crontab:1:1: not converted: out/backup.yaml exists and is never overwritten"), messages[0])
        XCTAssertTrue(messages[1].contains("already runs jobrun report, and out/report.yaml exists"), messages[1])
        XCTAssertTrue(messages[2].contains("has no command here and out has no cleanup.yaml"), messages[2])
        XCTAssertEqual(printed(imported).filter { !$0.hasPrefix("#") }, text.split(separator: "\n").map(String.init))
    }

    func testACronlockLineTakesItsTimeoutGraceAndKeyFromTheCronlockVariables() throws {
        let imported = importing("""
            CRONLOCK_TIMEOUT=3600
            CRONLOCK_HOST=redis.internal
            5 * * * * cronlock /usr/local/bin/cleanup --old > /dev/null 2>&1
            7 * * * * CRONLOCK_GRACE=900 CRONLOCK_KEY=my/key DEBUG=1 /usr/bin/cronlock sh -c 'x | y'
            9 * * * * CRONLOCK_TIMEOUT=soon cronlock /opt/z
            """)
        let cleanup = try job(imported, "cleanup")
        XCTAssertEqual(cleanup.command, .shell("/usr/local/bin/cleanup --old"))
        XCTAssertEqual(cleanup.maxRuntime, Timespan(seconds: 3600))
        XCTAssertTrue(cleanup.killOnTimeout)
        XCTAssertEqual(cleanup.grace, Timespan(seconds: 300), "CRONLOCK_GRACE 40 is inside the default grace")
        XCTAssertEqual(cleanup.env, [:], "CRONLOCK_* configure cronlock, not the command")
        XCTAssertTrue(imported.jobs[0].yaml.contains("Not carried over: CRONLOCK_HOST"), imported.jobs[0].yaml)

        let keyed = try job(imported, "my-key")
        XCTAssertEqual(keyed.command, .shell("sh -c 'x | y'"))
        XCTAssertEqual(keyed.grace, Timespan(seconds: 900))
        XCTAssertEqual(keyed.env, ["DEBUG": "1"])
        XCTAssertEqual(printed(imported)[2...3], ["5 * * * * /usr/local/bin/jobrun cleanup > /dev/null 2>&1",
                                                  "7 * * * * /usr/local/bin/jobrun my-key"])
        XCTAssertEqual(imported.notConverted.map(\.message), ["not converted: CRONLOCK_TIMEOUT=soon: cronlock needs a whole number of seconds"])
    }

    func testLinesThatCannotBeConvertedArePrintedUnchangedUnderAReason() {
        let imported = importing("""
            @reboot /usr/local/bin/warm-cache
            0 3 * * * date +%Y
            0 4 * * * /opt/x & this is fine
            0 0 30 2 * /opt/never
            CRON_TZ=Mars/Olympus
            0 5 * * * /opt/y
            """)
        XCTAssertEqual(imported.notConverted.map(\.line), [1, 2, 4, 6])
        let reasons = imported.notConverted.map(\.message)
        XCTAssertTrue(reasons[0].contains("@reboot runs once when cron starts"), reasons[0])
        XCTAssertTrue(reasons[1].contains("unescaped %"), reasons[1])
        XCTAssertTrue(reasons[2].contains("never"), reasons[2])
        XCTAssertTrue(reasons[3].contains("CRON_TZ=Mars/Olympus is not an IANA time zone"), reasons[3])
        let lines = printed(imported)
        XCTAssertEqual(lines[0], "# jobctl import-crontab: line 1 not converted: " + reasons[0].dropFirst("not converted: ".count))
        XCTAssertEqual(lines[1], "@reboot /usr/local/bin/warm-cache")
        XCTAssertEqual(lines[3], "0 3 * * * date +%Y")
        XCTAssertEqual(imported.jobs.map(\.name), ["x"])
    }

    func testMalformedLinesAndCommandsRunningWrappersInsideAreNotConverted() {
        let imported = importing("""
            this is not cron
            0 1 * *
            0 2 * * * cd /srv && cronlock /opt/a
            0 3 * * * cronlock /opt/a && touch /tmp/done
            0 4 * * * jobrun --bogus x -- /opt/b
            """)
        XCTAssertEqual(imported.notConverted.map(\.message), [
            "not converted: neither a NAME=value variable nor a cron entry",
            "not converted: expected five time fields (or an @macro) and a command",
            "not converted: runs cronlock inside a larger command; convert it by hand (a line that starts with cronlock is converted)",
            "not converted: more than one command on the line (&& after cronlock): convert it by hand",
            "not converted: jobrun option --bogus is neither a job key nor a host option",
        ])
    }

    func testAnEscapedPercentIsALiteralPercentInTheCommand() throws {
        let imported = importing(#"0 4 * * * tar czf /b/x-$(date +\%F).tgz /srv \\share"#)
        XCTAssertEqual(try job(imported, "tar").command, .shell(#"tar czf /b/x-$(date +%F).tgz /srv \\share"#))
    }

    func testSystemFormatReadsTheUserColumnAndKeepsItOnThePrintedLine() throws {
        let imported = importing("""
            SHELL=/bin/bash
            17 * * * * root cd / && run-parts --report /etc/cron.hourly
            @weekly www-data /usr/bin/php /var/www/artisan cache:prune
            0 1 * * *
            """, system: true)
        let hourly = try job(imported, "cron.hourly")
        XCTAssertEqual(hourly.user, "root")
        XCTAssertEqual(hourly.command, .argv(["/bin/bash", "-c", "cd / && run-parts --report /etc/cron.hourly"]),
                       "a SHELL other than /bin/sh runs the command, as under cron")
        XCTAssertEqual(try job(imported, "artisan").user, "www-data")
        XCTAssertEqual(printed(imported)[1...2], ["17 * * * * root /usr/local/bin/jobrun cron.hourly",
                                                  "@weekly www-data /usr/local/bin/jobrun artisan"])
        XCTAssertEqual(imported.notConverted.map(\.message), ["not converted: expected a user after the schedule (--system: /etc/crontab format)"])
    }

    func testAJobWhoseFileCouldNotBeWrittenKeepsItsOriginalLine() {
        let imported = importing("0 1 * * * /opt/a\n0 2 * * * /opt/b\n")
        XCTAssertEqual(printed(imported, unwritten: ["a": "out/a.yaml appeared meanwhile"]), [
            "# jobctl import-crontab: line 1 not converted: out/a.yaml appeared meanwhile",
            "0 1 * * * /opt/a",
            "0 2 * * * /usr/local/bin/jobrun b",
        ])
    }

    func testEveryWrittenFileIsValidEvenWithAwkwardCharacters() throws {
        let imported = importing("""
            WEIRD"KEY=1
            0 1 * * * echo "quotes" 'and' \\backslashes\t: # not a comment: yes
            """)
        let echo = try job(imported, "echo")
        XCTAssertEqual(echo.command, .shell("echo \"quotes\" 'and' \\backslashes\t: # not a comment: yes"))
        XCTAssertEqual(echo.env, ["WEIRD\"KEY": "1"])
    }
}
