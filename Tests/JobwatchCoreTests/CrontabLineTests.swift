import CronSchedule
import JobwatchCore
import XCTest

final class CrontabLineTests: XCTestCase {
    let now = parseRFC3339("2026-01-15T00:00:00Z")!
    let aYear: Int64 = 366 * 86_400

    private func job(_ schedule: String?, zone: String = "UTC", name: String = "x", command: Bool = true) throws -> JobDefinition {
        var yaml = "timezone: \(zone)\n"
        if command { yaml += "command: /bin/true\n" }
        if let schedule { yaml += "schedule: \"\(schedule)\"\n" }
        return try JobDefinition.parse(text: yaml, path: "jobs.d/\(name).yaml", defaultTimezone: "UTC")
    }

    private func line(_ schedule: String, zone: String = "UTC", cron: String = "UTC") throws -> CrontabLine {
        CrontabLine.forJob(try job(schedule, zone: zone), cronZone: cron, jobrun: "/usr/local/bin/jobrun", now: now)
    }

    private func written(_ schedule: String, zone: String = "UTC", cron: String = "UTC",
                         file: StaticString = #filePath, lineNumber: UInt = #line) throws -> String? {
        guard case .run(let text) = try line(schedule, zone: zone, cron: cron) else { return nil }
        XCTAssertTrue(text.hasSuffix(" /usr/local/bin/jobrun x"), text, file: file, line: lineNumber)
        return String(text.dropLast(" /usr/local/bin/jobrun x".count))
    }

    func testSameZoneWritesTheScheduleAsWritten() throws {
        XCTAssertEqual(try line("30 2 * * *", zone: "Europe/Dublin", cron: "Europe/Dublin"),
                       .run("30 2 * * * /usr/local/bin/jobrun x"))
        XCTAssertEqual(try written("@daily"), "@daily")
        XCTAssertEqual(try written("*/10 8-18 * * mon-fri"), "*/10 8-18 * * mon-fri")
    }

    func testStepFromASingleValueIsSpelledAsARangeVixieCronReadsTheSame() throws {
        XCTAssertEqual(try written("5/10 1,3/6 * jan/3 mon/2"), "5-59/10 1,3-23/6 * jan-12/3 mon-7/2")
        XCTAssertEqual(try written("*/5 1-5/2 * * *"), "*/5 1-5/2 * * *")
    }

    func testJobInAnotherZoneIsRefusedWithAMessageNamingBothZones() throws {
        guard case .refused(let problem) = try line("30 2 * * *", zone: "Europe/Dublin") else {
            return XCTFail("a 02:30 Dublin job written into a UTC crontab fires an hour early all summer")
        }
        XCTAssertEqual(problem.path, "jobs.d/x.yaml")
        XCTAssertEqual(problem.line, 1, "points at the timezone: value")
        XCTAssertEqual(problem.message, "job x runs in Europe/Dublin but cron here runs in UTC; a crontab line would fire "
            + "at the wrong time — use 'jobctl systemd' (OnCalendar= supports time zones) or set the host's zone")
    }

    /// Each row: schedule, job zone, cron zone, whether it may be written. Every refusal here is a
    /// real difference and every acceptance a real agreement: the second test proves both.
    let crossZone: [(String, String, String, Bool)] = [
        ("*/5 * * * *", "Europe/Dublin", "UTC", true),
        ("0 * * * *", "Europe/Dublin", "UTC", true),
        ("@hourly", "America/New_York", "UTC", true),
        ("15,45 */1 * * *", "Europe/Dublin", "America/New_York", true),
        ("*/20 * 1-31 * 0-6", "Europe/Dublin", "UTC", true),
        ("0 */2 * * *", "Europe/Dublin", "UTC", false),
        ("*/5 * * * 1", "Europe/Dublin", "UTC", false),
        ("*/5 * 1 * *", "Europe/Dublin", "UTC", false),
        ("*/5 9-17 * * *", "Europe/Dublin", "UTC", false),
        ("0 0-23 * * *", "Europe/Dublin", "UTC", false),
        ("0 * * * *", "Asia/Kolkata", "UTC", false),
        ("*/7 * * * *", "Asia/Kolkata", "UTC", false),
        ("*/15 * * * *", "Asia/Kolkata", "UTC", true),
        ("*/30 * * * *", "Australia/Lord_Howe", "UTC", true),
        ("0 * * * *", "Australia/Lord_Howe", "UTC", false),
        ("30 2 * * *", "UTC", "Etc/UTC", true),
        ("30 2 * * *", "Europe/London", "Europe/Dublin", true),
        ("30 2 * * 1", "Europe/Berlin", "Europe/Paris", true),
        ("30 2 * * *", "Europe/Lisbon", "Europe/Madrid", false),
    ]

    func testZoneFreeSchedulesAreWrittenAcrossZonesAndOthersRefused() throws {
        for (expr, zone, cron, allowed) in crossZone {
            let result = try line(expr, zone: zone, cron: cron)
            if allowed {
                XCTAssertEqual(result, .run("\(expr) /usr/local/bin/jobrun x"), "\(expr) in \(zone) on \(cron)")
            } else {
                guard case .refused = result else { return XCTFail("\(expr) in \(zone) on \(cron) should be refused") }
            }
        }
    }

    func testTheZonePolicyIsExactNotJustCautious() throws {
        for (expr, zone, cron, allowed) in crossZone {
            let asDefined = try Schedule(expr, timeZone: zone).occurrences(from: now, through: now + aYear)
            let asCronRunsIt = try Schedule(expr, timeZone: cron).occurrences(from: now, through: now + aYear)
            XCTAssertEqual(asDefined == asCronRunsIt, allowed, "\(expr) in \(zone) vs \(cron)")
        }
    }

    func testEveryBecomesACronStepWhenItLandsOnTheSameInstants() throws {
        let cases: [(String, String, String?)] = [
            ("every 1m", "UTC", "* * * * *"),
            ("every 15m", "UTC", "*/15 * * * *"),
            ("every 60m", "UTC", "0 * * * *"),
            ("every 2h", "UTC", "0 */2 * * *"),
            ("every 1d", "UTC", "0 0 * * *"),
            ("every 15m", "Europe/Dublin", "*/15 * * * *"),
            ("every 1h", "America/New_York", "0 * * * *"),
            ("every 15m", "Asia/Kolkata", "*/15 * * * *"),
            ("every 2h", "Europe/Dublin", nil),
            ("every 1d", "Europe/Dublin", nil),
            ("every 1h", "Asia/Kolkata", nil),
            ("every 20m", "Asia/Kolkata", nil),
            ("every 7m", "UTC", nil),
            ("every 90s", "UTC", nil),
            ("every 45s", "UTC", nil),
            ("every 90m", "UTC", nil),
            ("every 5h", "UTC", nil),
            ("every 2d", "UTC", nil),
        ]
        for (every, cron, expected) in cases {
            XCTAssertEqual(try written(every, zone: "Asia/Tokyo", cron: cron), expected, "\(every) on \(cron)")
            guard let expected else { continue }
            let epochMultiples = try Schedule(every, timeZone: "UTC").occurrences(from: now, through: now + aYear)
            let cronFires = try Schedule(expected, timeZone: cron).occurrences(from: now, through: now + aYear)
            XCTAssertEqual(epochMultiples, cronFires, "\(every) as \(expected) on \(cron)")
        }
    }

    func testEveryRefusalsSayWhy() throws {
        guard case .refused(let sevenMinutes) = try line("every 7m"),
              case .refused(let inDublin) = try line("every 2h", cron: "Europe/Dublin") else {
            return XCTFail("both should be refused")
        }
        XCTAssertTrue(sevenMinutes.message.contains("no crontab step fires at the multiples of every 7m"), sevenMinutes.message)
        XCTAssertTrue(inDublin.message.contains("Europe/Dublin, whose offset +01:00 is not a multiple"), inDublin.message)
    }

    func testJobsCronHasNothingToRunBecomeComments() throws {
        let noSchedule = CrontabLine.forJob(try job(nil), cronZone: "UTC", jobrun: "jobrun", now: now)
        XCTAssertEqual(noSchedule, .comment("# x: no schedule; run it by hand or from another scheduler"))
        let noCommand = CrontabLine.forJob(try job("* * * * *", command: false), cronZone: "UTC", jobrun: "jobrun", now: now)
        guard case .comment = noCommand else { return XCTFail("\(noCommand)") }
    }

    func testWholeCrontabListsEveryJobAndCollectsRefusals() throws {
        let jobs = [try job("30 2 * * *", name: "a"), try job(nil, name: "b"), try job("30 2 * * *", zone: "Europe/Dublin", name: "c")]
        let crontab = GeneratedCrontab(jobs: jobs, jobsDir: "/etc/jobwatch/jobs.d",
                                       cronZone: CronZone(identifier: "UTC", source: "/etc/localtime"),
                                       jobrun: "/usr/local/bin/jobrun", now: now)
        let lines = crontab.text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5)
        XCTAssertTrue(lines[0].hasPrefix("# Generated by 'jobctl crontab' from /etc/jobwatch/jobs.d"))
        XCTAssertTrue(lines[1].contains("UTC (/etc/localtime)"))
        XCTAssertEqual(lines[2], "30 2 * * * /usr/local/bin/jobrun a")
        XCTAssertEqual(lines[3], "# b: no schedule; run it by hand or from another scheduler")
        XCTAssertTrue(lines[4].hasPrefix("# c: left out: job c runs in Europe/Dublin"))
        XCTAssertEqual(crontab.refusals.map(\.path), ["jobs.d/c.yaml"])
    }

    func testCronZoneDetectionOrder() throws {
        let localtime = "/usr/share/zoneinfo/Europe/Dublin"
        XCTAssertEqual(try CronZone.detect(flag: "Asia/Tokyo", environment: ["TZ": "UTC"], localtimeTarget: localtime, etcTimezone: "UTC\n"),
                       CronZone(identifier: "Asia/Tokyo", source: "--system-tz"))
        XCTAssertEqual(try CronZone.detect(flag: nil, environment: ["TZ": ":America/New_York"], localtimeTarget: localtime, etcTimezone: nil),
                       CronZone(identifier: "America/New_York", source: "TZ"))
        XCTAssertEqual(try CronZone.detect(flag: nil, environment: ["TZ": ""], localtimeTarget: "../usr/share/zoneinfo/posix/Europe/Dublin",
                                           etcTimezone: "Etc/UTC\n").identifier, "Europe/Dublin")
        XCTAssertEqual(try CronZone.detect(flag: nil, environment: [:], localtimeTarget: nil, etcTimezone: "Europe/Berlin\n"),
                       CronZone(identifier: "Europe/Berlin", source: "/etc/timezone"))
        XCTAssertEqual(try CronZone.detect(flag: nil, environment: [:], localtimeTarget: nil, etcTimezone: nil).identifier, "UTC")
        XCTAssertThrowsError(try CronZone.detect(flag: "Mars/Olympus", environment: [:], localtimeTarget: nil, etcTimezone: nil))
        XCTAssertThrowsError(try CronZone.detect(flag: nil, environment: ["TZ": "EST+5EDT,M3.2.0,M11.1.0"], localtimeTarget: nil, etcTimezone: nil))
    }

    func testJobrunMustBeAPathNeitherShellNorSystemdRewrites() {
        XCTAssertNil(jobrunPathProblem("/usr/local/bin/jobrun"))
        XCTAssertNil(jobrunPathProblem("jobrun"))
        for bad in ["", "/opt/my tools/jobrun", "/usr/bin/jobrun%x", "/usr/bin/$HOME", "/bin/jobrun;rm"] {
            XCTAssertNotNil(jobrunPathProblem(bad), bad)
        }
    }
}
