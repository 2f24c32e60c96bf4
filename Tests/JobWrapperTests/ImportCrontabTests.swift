import Foundation
import JobwatchTestSupport
import XCTest

/// `jobctl import-crontab` end to end with the real binaries: the files it writes pass
/// `jobctl check`, and every converted line fires at the same instants as before — read from
/// the input line, the job file, the printed crontab and `jobctl crontab` over the files.
final class ImportCrontabTests: XCTestCase {
    private var root = ""
    private var out: String { root + "/jobs.d" }

    override func setUpWithError() throws {
        root = try TemporaryDirectory.make(prefix: "import")
        try "".write(toFile: root + "/jobwatch.yaml", atomically: true, encoding: .utf8)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    private func jobctl(_ args: [String], stdin: [UInt8]? = nil) throws -> Command.Result {
        let env = isolatedJobwatchEnvironment(config: root + "/jobwatch.yaml", redisURL: "redis://127.0.0.1:1",
                                              jobsDir: out, spoolDir: root + "/spool")
        return try Command.run([Command.binary("jobctl")] + args, environment: env, stdin: stdin)
    }

    static let crontab = """
        # Crontab of app1, about to move to Jobwatch
        # m h dom mon dow command
        MAILTO=ops@example.com
        PATH=/usr/local/bin:/usr/bin:/bin
        RAILS_ENV=production

        # every quarter hour in office hours
        */15 9-17 * * mon-fri cd /srv/app && nice -n 10 bin/rake invoices:sync >/dev/null 2>&1
        @daily /usr/local/bin/backup.sh --full
        @hourly /usr/local/bin/heartbeat
        @reboot /usr/local/bin/warm-cache
        0 3 * * * date +%Y-%m-%d >> /var/log/stamp
        0 4 * * * tar czf /backup/etc-$(date +\\%F).tgz /etc
        30 4 1,15 * 5 /usr/local/bin/fortnightly
        5/20 */2 * jan-jun * /usr/local/bin/stepper
        @weekly /usr/local/bin/backup.sh --weekly
        @monthly python3 /usr/local/bin/report.py --month
        @yearly /usr/local/bin/archive

        CRON_TZ=Europe/Dublin
        30 1 * * * python3 /opt/jobs/dublin_report.py
        30 2 * * sun /opt/jobs/dst-check
        0 */6 * * * /opt/jobs/rotate.sh
        CRONLOCK_TIMEOUT=3600
        5 * * * * cronlock /usr/local/bin/cleanup --old > /dev/null 2>&1
        10 2 * * * /usr/local/bin/jobrun --timeout 2h nightly-report -- /usr/local/bin/nightly-report --full
        CRON_TZ=America/New_York
        0 9 * * 1-5 /usr/local/bin/market-open
        45 23 31 12 * /usr/local/bin/new-year
        this line is not cron
        @midnight /usr/local/bin/backup.sh --midnight
        0 0 30 2 * /usr/local/bin/never

        """
    static let unconvertible = [11, 12, 30, 32]

    func testImportedJobsPassCheckAndFireAtTheSameInstantsAsTheCrontab() throws {
        try Self.crontab.write(toFile: root + "/crontab", atomically: true, encoding: .utf8)
        let imported = try jobctl(["import-crontab", root + "/crontab", "--out", out, "--system-tz", "UTC"])
        XCTAssertEqual(imported.status, 0, imported.stderrText)
        XCTAssertEqual(notConvertedLines(imported.stderrText), Self.unconvertible, imported.stderrText)
        XCTAssertTrue(imported.stderrText.contains("wrote 17 job file(s)"), imported.stderrText)

        let check = try jobctl(["check", "--jobs-dir", out])
        XCTAssertEqual(check.status, 0, check.stderrText)
        XCTAssertTrue(check.stdoutText.contains("17 job file(s)") && check.stdoutText.contains("all valid"), check.stdoutText)

        let compared = try assertSameInstants(input: Self.crontab, printed: imported.stdoutText, system: false)
        XCTAssertEqual(compared, 17)
    }

    func testASecondImportIntoTheSameDirectoryChangesNoExistingFile() throws {
        try Self.crontab.write(toFile: root + "/crontab", atomically: true, encoding: .utf8)
        XCTAssertEqual(try jobctl(["import-crontab", root + "/crontab", "--out", out, "--system-tz", "UTC"]).status, 0)
        let before = try snapshot()

        let again = try jobctl(["import-crontab", root + "/crontab", "--out", out, "--system-tz", "UTC"])
        XCTAssertEqual(again.status, 0, again.stderrText)
        let after = try snapshot()
        for (name, bytes) in before { XCTAssertEqual(after[name], bytes, "\(name) changed") }
        let added = Set(after.keys).subtracting(before.keys)
        XCTAssertEqual(added.count, before.count - 1, "every line again, under new names, but the jobrun line: \(added.sorted())")
        XCTAssertTrue(added.contains("rake-2.yaml") && added.contains("backup-4.yaml"), added.sorted().description)
        XCTAssertEqual(notConvertedLines(again.stderrText), (Self.unconvertible + [26]).sorted(), again.stderrText)
        XCTAssertTrue(again.stderrText.contains(":26:1: not converted: \(out)/nightly-report.yaml exists and is never overwritten"),
                      again.stderrText)
        XCTAssertEqual(try jobctl(["check", "--jobs-dir", out]).status, 0)
    }

    func testSystemCrontabFromStandardInputKeepsTheUserColumn() throws {
        let crontab = """
            SHELL=/bin/sh
            PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin
            # m h dom mon dow user	command
            17 *	* * *	root    cd / && run-parts --report /etc/cron.hourly
            25 6	* * *	root	test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )
            47 6	* * 7	root	test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.weekly )
            52 6	1 * *	root	test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.monthly )
            @daily www-data /usr/bin/php /var/www/artisan cache:prune
            @reboot root /usr/local/bin/warm-cache
            0 5 * * *

            """
        let imported = try jobctl(["import-crontab", "-", "--system", "--out", out, "--system-tz", "Europe/Dublin"],
                                  stdin: Array(crontab.utf8))
        XCTAssertEqual(imported.status, 0, imported.stderrText)
        XCTAssertEqual(notConvertedLines(imported.stderrText, source: "<stdin>"), [9, 10], imported.stderrText)
        let names = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        XCTAssertEqual(names, ["artisan.yaml", "cron.daily.yaml", "cron.hourly.yaml", "cron.monthly.yaml", "cron.weekly.yaml"])
        XCTAssertTrue(try String(contentsOfFile: out + "/cron.daily.yaml", encoding: .utf8).contains("\nuser: \"root\"\n"))
        XCTAssertTrue(try String(contentsOfFile: out + "/artisan.yaml", encoding: .utf8).contains("\nuser: \"www-data\"\n"))
        XCTAssertTrue(imported.stdoutText.contains("\n17 * * * * root /usr/local/bin/jobrun cron.hourly\n"), imported.stdoutText)
        XCTAssertEqual(try jobctl(["check", "--jobs-dir", out]).status, 0)
        XCTAssertEqual(try assertSameInstants(input: crontab, printed: imported.stdoutText, system: true, cronZone: "Europe/Dublin"), 5)
    }

    func testAnUnreadableCrontabOrAnOutThatIsAFileFailsAndWritesNothing() throws {
        let missing = try jobctl(["import-crontab", root + "/nope", "--out", out])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderrText.contains("jobctl: cannot read \(root)/nope"), missing.stderrText)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))

        try "0 1 * * * /opt/a\n".write(toFile: root + "/crontab", atomically: true, encoding: .utf8)
        try "".write(toFile: out, atomically: true, encoding: .utf8)
        let notADirectory = try jobctl(["import-crontab", root + "/crontab", "--out", out])
        XCTAssertEqual(notADirectory.status, 1)
        XCTAssertTrue(notADirectory.stderrText.contains("is not a directory"), notADirectory.stderrText)
        XCTAssertEqual(notADirectory.stdoutText, "")
    }

    // MARK: - helpers

    private func notConvertedLines(_ stderr: String, source: String? = nil) -> [Int] {
        let prefix = (source ?? root + "/crontab") + ":"
        return stderr.split(separator: "\n").filter { $0.hasPrefix(prefix) && $0.contains(": not converted: ") }
            .compactMap { Int($0.dropFirst(prefix.count).prefix { $0.isNumber }) }
    }

    private func snapshot() throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: out) {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: out + "/" + name))
        }
        return files
    }

    /// For every converted line, one year of instants from the input line (in its CRON_TZ), the
    /// printed replacement line (in the CRON_TZ the printed crontab has above it), the job file's
    /// schedule and timezone, and `jobctl crontab`'s line run in the job's zone: all equal.
    /// Returns how many lines were compared.
    private func assertSameInstants(input: String, printed: String, system: Bool, cronZone: String = "UTC") throws -> Int {
        let inputLines = input.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let printedLines = printed.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .dropFirst().filter { !$0.hasPrefix("# jobctl import-crontab: ") }
        XCTAssertEqual(printedLines.count, inputLines.count, "one printed line per input line")
        var generated: [String: [String: String]] = [:]   // zone → job → expression from `jobctl crontab`
        var compared = 0
        var zone = cronZone, printedZone = cronZone
        for (original, replacement) in zip(inputLines, printedLines) {
            if original.hasPrefix("CRON_TZ=") { zone = String(original.dropFirst(8)) }
            if replacement.hasPrefix("CRON_TZ=") { printedZone = String(replacement.dropFirst(8)) }
            guard original != replacement else { continue }
            let afterJobrun = replacement.components(separatedBy: " /usr/local/bin/jobrun ").last ?? ""
            let name = try XCTUnwrap(afterJobrun.split(separator: " ").first { !$0.hasPrefix("-") }.map(String.init))
            let expression = Self.expression(original, system: system)
            let newExpression = Self.expression(replacement, system: system)
            let file = try String(contentsOfFile: "\(out)/\(name).yaml", encoding: .utf8)
            let fileSchedule = try XCTUnwrap(Self.value("schedule", in: file))
            let fileZone = try XCTUnwrap(Self.value("timezone", in: file))
            XCTAssertEqual(fileSchedule, expression, "schedule as written")
            if generated[fileZone] == nil {
                let r = try jobctl(["crontab", "--jobs-dir", out, "--system-tz", fileZone])
                generated[fileZone] = Dictionary(r.stdoutText.split(separator: "\n").filter { !$0.hasPrefix("#") }.map {
                    let parts = $0.components(separatedBy: " /usr/local/bin/jobrun ")
                    return (parts[1], parts[0])
                }, uniquingKeysWith: { a, _ in a })
            }
            let fromCrontab = try XCTUnwrap(generated[fileZone]?[name], "jobctl crontab --system-tz \(fileZone) left out \(name)")

            let expected = try instants(expression, zone)
            XCTAssertGreaterThan(expected.count, 0, original)
            XCTAssertEqual(try instants(newExpression, printedZone), expected, "printed line: \(replacement)")
            XCTAssertEqual(try instants(fileSchedule, fileZone), expected, "job file \(name)")
            XCTAssertEqual(try instants(fromCrontab, fileZone), expected, "jobctl crontab line for \(name)")
            compared += 1
        }
        return compared
    }

    private var instantCache: [String: [String]] = [:]

    /// `jobctl next` from 2026-01-01T00:00Z through 2027-01-01 (local dates), so @yearly fires once.
    private func instants(_ expression: String, _ zone: String) throws -> [String] {
        if let cached = instantCache["\(zone) \(expression)"] { return cached }
        for count in [400, 12_000] {
            let r = try jobctl(["next", expression, "--tz", zone, "--from", "2026-01-01T00:00:00Z", "--count", "\(count)"])
            XCTAssertEqual(r.status, 0, r.stderrText)
            let all = r.stdoutText.split(separator: "\n").map(String.init)
            guard let last = all.last, last >= "2027-01-02" else { continue }
            let year = Array(all.prefix { $0 < "2027-01-02" })
            instantCache["\(zone) \(expression)"] = year
            return year
        }
        XCTFail("\(expression) fires more than 12000 times a year: too often for this comparison")
        return []
    }

    /// The schedule part of a crontab line: one `@macro` word or five fields.
    private static func expression(_ line: String, system: Bool) -> String {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        return words.prefix(words.first?.hasPrefix("@") == true ? 1 : 5).joined(separator: " ")
    }

    /// A top-level `key: "value"` of a job file.
    private static func value(_ key: String, in yaml: String) -> String? {
        yaml.split(separator: "\n").first { $0.hasPrefix("\(key): \"") }.map { String($0.dropFirst(key.count + 3).dropLast()) }
    }
}
