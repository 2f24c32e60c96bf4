import CronSchedule
import Foundation
import JobwatchCore
import XCTest

final class SystemdTimerTests: XCTestCase {
    private func calendar(_ expression: String, _ zone: String = "UTC") throws -> [String] {
        try SystemdTimer.onCalendar(try Schedule(expression, timeZone: zone))
    }

    func testCronExpressionsBecomeOnCalendarLines() throws {
        let cases: [(String, [String])] = [
            ("30 2 * * *", ["*-*-* 02:30:00 UTC"]),
            ("*/15 * * * *", ["*-*-* *:00/15:00 UTC"]),
            ("5-59/20 * * * *", ["*-*-* *:05/20:00 UTC"]),
            ("*/30 * * * *", ["*-*-* *:00,30:00 UTC"]),
            ("0 */2 * * *", ["*-*-* 00/2:00:00 UTC"]),
            ("0 1-5/2 * * *", ["*-*-* 01,03,05:00:00 UTC"]),
            ("0 9-17 * * *", ["*-*-* 09..17:00:00 UTC"]),
            ("0 9 * * mon-fri", ["Mon..Fri *-*-* 09:00:00 UTC"]),
            ("*/10 8-18 * * MON-FRI", ["Mon..Fri *-*-* 08..18:00/10:00 UTC"]),
            ("0 12 * * 0,6", ["Sat,Sun *-*-* 12:00:00 UTC"]),
            ("0 12 * * 5-7", ["Fri..Sun *-*-* 12:00:00 UTC"]),
            ("0 12 * * 1,3,5", ["Mon,Wed,Fri *-*-* 12:00:00 UTC"]),
            ("15 3 * jan,jul *", ["*-01,07-* 03:15:00 UTC"]),
            ("0 0 1 1-3,10-12 *", ["*-01..03,10..12-01 00:00:00 UTC"]),
            ("0 0 */10 * *", ["*-*-01,11,21,31 00:00:00 UTC"]),
            ("0 0 */2 * 1", ["Mon *-*-01,03,05,07,09,11,13,15,17,19,21,23,25,27,29,31 00:00:00 UTC"]),
            ("30 4 1,15 * 5", ["*-*-01,15 04:30:00 UTC", "Fri *-*-* 04:30:00 UTC"]),
            ("0 0 13 * fri", ["*-*-13 00:00:00 UTC", "Fri *-*-* 00:00:00 UTC"]),
            ("0 0 1-7 * 1", ["*-*-01..07 00:00:00 UTC", "Mon *-*-* 00:00:00 UTC"]),
            ("0 0 1-31 * 1", ["*-*-* 00:00:00 UTC"]),
            ("@hourly", ["*-*-* *:00:00 UTC"]),
            ("@daily", ["*-*-* 00:00:00 UTC"]),
            ("@weekly", ["Sun *-*-* 00:00:00 UTC"]),
            ("@monthly", ["*-*-01 00:00:00 UTC"]),
            ("@yearly", ["*-01-01 00:00:00 UTC"]),
        ]
        for (expression, expected) in cases {
            XCTAssertEqual(try calendar(expression), expected, expression)
        }
        XCTAssertEqual(try calendar("30 2 * * *", "Europe/Dublin"), ["*-*-* 02:30:00 Europe/Dublin"])
    }

    func testEveryBecomesUTCTimesOfDayWhenThePeriodDividesADay() throws {
        XCTAssertEqual(try calendar("every 15m", "Europe/Dublin"), ["*-*-* *:00/15:00 UTC"])
        XCTAssertEqual(try calendar("every 1m"), ["*-*-* *:*:00 UTC"])
        XCTAssertEqual(try calendar("every 30s"), ["*-*-* *:*:00,30 UTC"])
        XCTAssertEqual(try calendar("every 8h"), ["*-*-* 00/8:00:00 UTC"])
        XCTAssertEqual(try calendar("every 1d"), ["*-*-* 00:00:00 UTC"])
        XCTAssertEqual(try calendar("every 90m"), ["*-*-* 00/3:00:00 UTC", "*-*-* 01/3:30:00 UTC"])
        XCTAssertEqual(try calendar("every 45s"), ["*-*-* *:00/3:00,45 UTC", "*-*-* *:01/3:30 UTC", "*-*-* *:02/3:15 UTC"])
        for refused in ["every 7m", "every 7h", "every 2d", "every 1h30m30s"] {
            XCTAssertThrowsError(try calendar(refused), refused) { error in
                XCTAssertTrue("\(error)".contains("does not divide a day"), "\(error)")
            }
        }
    }

    func testUnitsForAJob() throws {
        let yaml = "description: Nightly 100% report\ncommand: report --full\nschedule: \"30 4 1,15 * 5\"\ntimezone: Europe/Dublin\n"
        let job = try JobDefinition.parse(text: yaml, path: "jobs.d/nightly.yaml", defaultTimezone: "UTC")
        guard case .units(let service, let timer) = SystemdTimer.outcome(for: job, jobrun: "/usr/local/bin/jobrun") else {
            return XCTFail("expected units")
        }
        XCTAssertEqual(service.name, "jobwatch-nightly.service")
        XCTAssertEqual(timer.name, "jobwatch-nightly.timer")
        for line in ["Description=Jobwatch job nightly: Nightly 100%% report", "Type=oneshot",
                     "ExecStart=/usr/local/bin/jobrun nightly", "SuccessExitStatus=200"] {
            XCTAssertTrue(service.contents.contains("\n\(line)\n"), line)
        }
        for line in ["OnCalendar=*-*-01,15 04:30:00 Europe/Dublin", "OnCalendar=Fri *-*-* 04:30:00 Europe/Dublin",
                     "AccuracySec=1s", "Persistent=false", "[Install]", "WantedBy=timers.target"] {
            XCTAssertTrue(timer.contents.contains("\n\(line)\n"), line)
        }
    }

    func testJobsWithoutATimerAreSkippedAndUntranslatableOnesRefused() throws {
        let manual = try JobDefinition.parse(text: "command: x\n", path: "jobs.d/manual.yaml", defaultTimezone: "UTC")
        guard case .skipped(let note) = SystemdTimer.outcome(for: manual, jobrun: "jobrun") else { return XCTFail() }
        XCTAssertTrue(note.hasPrefix("manual: no schedule"), note)
        let odd = try JobDefinition.parse(text: "command: x\nschedule: every 7m\n", path: "jobs.d/odd.yaml", defaultTimezone: "UTC")
        guard case .refused(let problem) = SystemdTimer.outcome(for: odd, jobrun: "jobrun") else { return XCTFail() }
        XCTAssertEqual("\(problem)".prefix(22), "jobs.d/odd.yaml:2:11: ")
    }

    // MARK: - Against systemd itself

    private func systemdAnalyze(_ arguments: [String]) throws -> (status: Int32, output: String) {
        guard let path = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("systemd-analyze not installed: apt-get install systemd")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ["TZ": "UTC", "SYSTEMD_PAGER": "", "PATH": "/usr/bin:/bin"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// systemd's next elapses strictly after `base`, read from `systemd-analyze calendar`.
    private func elapses(_ spec: String, after base: Int64, count: Int) throws -> [Int64] {
        let run = try systemdAnalyze(["calendar", "--iterations=\(count)", "--base-time=@\(base)", spec])
        XCTAssertEqual(run.status, 0, "\(spec): \(run.output)")
        return run.output.split(separator: "\n").compactMap { line -> Int64? in
            guard line.contains("Next elapse:") || line.contains("Iter. #") else { return nil }
            let words = line.split(separator: " ")
            guard words.count >= 3, words.last == "UTC" else { return nil }
            return parseRFC3339("\(words[words.count - 3])T\(words[words.count - 2])Z")
        }
    }

    /// Instants within four hours of a UTC-offset change, where the documented differences live.
    private func nearTransition(_ zone: String, from: Int64, through: Int64) -> (Int64) -> Bool {
        let tz = TimeZone(identifier: zone)!
        var changes: [Int64] = []
        var date = Date(timeIntervalSince1970: TimeInterval(from - 86_400))
        while let next = tz.nextDaylightSavingTimeTransition(after: date), next.timeIntervalSince1970 < TimeInterval(through + 86_400) {
            changes.append(Int64(next.timeIntervalSince1970))
            date = next
        }
        return { t in changes.contains { abs($0 - t) < 4 * 3600 } }
    }

    func testSystemdFiresWhenScheduleSaysAwayFromDSTChanges() throws {
        let expressions = [
            "30 2 * * *", "0 * * * *", "*/15 * * * *", "5-59/20 * * * *", "0 9 * * mon-fri", "*/10 8-18 * * mon-fri",
            "30 4 1,15 * 5", "0 0 1 * *", "@weekly", "@monthly", "@yearly", "@daily", "@hourly", "0 0 */2 * 1",
            "0 12 * * 0,6", "0 12 * * 5-7", "15 3 * jan,jul *", "0 0 29 2 *", "0 0 31 * *", "45 23 * * sun",
            "0 */2 * * *", "0 1-5/2 * * *", "59 23 31 12 *", "0 6,18 * * *", "*/5 1 * * *", "0 0 1-7 * mon",
            "0 0 13 * 5", "7 */3 * * *", "*/30 * 10-20 * *", "0 0 1-31 * 1",
        ]
        let zones = ["UTC", "Europe/Dublin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"]
        let bases = ["2026-01-10T00:00:00Z", "2026-05-05T12:34:56Z", "2026-09-20T23:59:59Z", "2027-02-01T08:00:00Z"]
            .map { parseRFC3339($0)! }
        var compared = 0
        for (i, expression) in (expressions + ["every 15m", "every 90m", "every 45s", "every 8h", "every 1d", "every 40m"]).enumerated() {
            for zone in expression.hasPrefix("every") ? ["UTC"] : zones {
                let schedule = try Schedule(expression, timeZone: zone)
                let base = bases[(i + compared) % bases.count]
                var fromSystemd = Set<Int64>()
                var through = Int64.max
                for spec in try SystemdTimer.onCalendar(schedule) {
                    let next = try elapses(spec, after: base, count: 20)
                    fromSystemd.formUnion(next)
                    // Each line's list is complete only up to its own last elapse.
                    if next.count == 20 { through = min(through, next.last!) }
                }
                if through == .max { through = fromSystemd.max() ?? base }
                let skip = nearTransition(zone, from: base, through: through)
                let expected = schedule.occurrences(from: base + 1, through: through).filter { !skip($0) }
                let actual = fromSystemd.filter { $0 <= through && !skip($0) }.sorted()
                XCTAssertFalse(expected.isEmpty, "\(expression) in \(zone) from \(base)")
                XCTAssertEqual(actual, expected, "\(expression) in \(zone) after \(rfc3339(base, timeZone: "UTC")): "
                    + "systemd \(actual.prefix(3).map { rfc3339($0, timeZone: zone) }), "
                    + "ours \(expected.prefix(3).map { rfc3339($0, timeZone: zone) })")
                compared += 1
            }
        }
        XCTAssertGreaterThanOrEqual(compared, 180)
    }

    /// The differences SystemdTimer's documentation promises, so the text stays true.
    func testDocumentedDSTDifferencesStillHold() throws {
        func both(_ expression: String, after base: String, count: Int) throws -> (systemd: [String], cron: [String]) {
            let schedule = try Schedule(expression, timeZone: "Europe/Dublin")
            let t = parseRFC3339(base)!
            let systemd = try elapses(try SystemdTimer.onCalendar(schedule)[0], after: t, count: count)
            var cron: [Int64] = []
            var cursor = t
            while cron.count < count, let next = schedule.next(after: cursor) { cron.append(next); cursor = next }
            return (systemd.map { rfc3339($0, timeZone: "UTC") }, cron.map { rfc3339($0, timeZone: "UTC") })
        }
        // 01:30 does not exist in Dublin on 29 March 2026: cron runs at the end of the gap, systemd not at all.
        let gap = try both("30 1 * * *", after: "2026-03-28T12:00:00Z", count: 1)
        XCTAssertEqual(gap.cron, ["2026-03-29T01:00:00+00:00"])
        XCTAssertEqual(gap.systemd, ["2026-03-30T00:30:00+00:00"])
        // 01:00-02:00 happens twice on 25 October 2026: an hourly job runs in both copies under cron.
        let repeated = try both("30 * * * *", after: "2026-10-24T23:50:00Z", count: 2)
        XCTAssertEqual(repeated.cron, ["2026-10-25T00:30:00+00:00", "2026-10-25T01:30:00+00:00"])
        XCTAssertEqual(repeated.systemd, ["2026-10-25T00:30:00+00:00", "2026-10-25T02:30:00+00:00"])
        // A fixed time in the repeated hour runs once, at the first copy, under both.
        let fixed = try both("30 1 * * *", after: "2026-10-24T12:00:00Z", count: 2)
        XCTAssertEqual(fixed.systemd, fixed.cron)
    }

    func testGeneratedUnitsPassSystemdVerify() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jobwatch-units-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = "description: 50% of the time\ncommand: x\nschedule: \"30 4 1,15 * 5\"\ntimezone: Europe/Dublin\n"
        let job = try JobDefinition.parse(text: yaml, path: "jobs.d/verify-me.yaml", defaultTimezone: "UTC")
        guard case .units(let service, let timer) = SystemdTimer.outcome(for: job, jobrun: "/bin/true") else { return XCTFail() }
        for unit in [service, timer] {
            try unit.contents.write(to: dir.appendingPathComponent(unit.name), atomically: true, encoding: .utf8)
        }
        let run = try systemdAnalyze(["verify", dir.appendingPathComponent(timer.name).path, dir.appendingPathComponent(service.name).path])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertEqual(run.output, "")
    }
}
