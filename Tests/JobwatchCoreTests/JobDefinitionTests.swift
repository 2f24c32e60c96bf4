import Foundation
import JobwatchCore
import XCTest

/// Valid job files: every key of SPEC §1.2 lands in the right field.
final class JobDefinitionTests: XCTestCase {
    private func parse(_ text: String, path: String = "/etc/jobwatch/jobs.d/nightly-report.yaml",
                       defaultTimezone: String = "UTC") throws -> JobDefinition {
        try JobDefinition.parse(text: text, path: path, defaultTimezone: defaultTimezone)
    }

    func testEveryKeyMapsToItsField() throws {
        // Non-default values everywhere, so a key that is silently ignored shows up.
        let job = try parse("""
            description: Nightly revenue report
            command: /usr/local/bin/nightly-report --full
            schedule: "30 2 * * *"
            timezone: Europe/Dublin
            grace: 10m
            max_runtime: 2h
            kill_on_timeout: true
            kill_after: 15s
            min_runtime: 30s
            lock: none
            lock_ttl: 90s
            lock_wait: 5s
            on_lock_lost: continue
            hosts: [web1, web2]
            alerts: [pd-ops, slack-ops]
            alert_after_failures: 3
            realert_every: 1h30m
            env: { RAILS_ENV: production, EMPTY: "" }
            tags: [billing, finance]
            owner: data-team
            """)
        XCTAssertEqual(job.name, "nightly-report")
        XCTAssertEqual(job.sourcePath, "/etc/jobwatch/jobs.d/nightly-report.yaml")
        XCTAssertEqual(job.description, "Nightly revenue report")
        XCTAssertEqual(job.command, .shell("/usr/local/bin/nightly-report --full"))
        XCTAssertEqual(job.schedule?.expression, "30 2 * * *")
        XCTAssertEqual(job.schedule?.timeZoneID, "Europe/Dublin", "the schedule is evaluated in the job's zone")
        XCTAssertEqual(job.timezone, "Europe/Dublin")
        XCTAssertEqual(job.grace, Timespan(seconds: 600))
        XCTAssertEqual(job.maxRuntime, Timespan(seconds: 7200))
        XCTAssertTrue(job.killOnTimeout)
        XCTAssertEqual(job.killAfter, Timespan(seconds: 15))
        XCTAssertEqual(job.minRuntime, Timespan(seconds: 30))
        XCTAssertEqual(job.lock, .none)
        XCTAssertEqual(job.lockTTL, Timespan(seconds: 90))
        XCTAssertEqual(job.lockWait, Timespan(seconds: 5))
        XCTAssertEqual(job.onLockLost, .continue)
        XCTAssertEqual(job.hosts, ["web1", "web2"])
        XCTAssertEqual(job.alerts, ["pd-ops", "slack-ops"])
        XCTAssertEqual(job.alertAfterFailures, 3)
        XCTAssertEqual(job.realertEvery, Timespan(seconds: 5400))
        XCTAssertEqual(job.env, ["RAILS_ENV": "production", "EMPTY": ""])
        XCTAssertEqual(job.tags, ["billing", "finance"])
        XCTAssertEqual(job.owner, "data-team")
    }

    func testDefaultsForAMinimalFile() throws {
        let job = try parse("schedule: \"@hourly\"\n", defaultTimezone: "Europe/Berlin")
        XCTAssertEqual(job.timezone, "Europe/Berlin", "the global timezone is the default")
        XCTAssertEqual(job.schedule?.timeZoneID, "Europe/Berlin")
        XCTAssertNil(job.command)
        XCTAssertNil(job.description)
        XCTAssertEqual(job.grace, Timespan(seconds: 300))
        XCTAssertNil(job.maxRuntime)
        XCTAssertFalse(job.killOnTimeout)
        XCTAssertEqual(job.killAfter, Timespan(seconds: 10))
        XCTAssertEqual(job.lock, .exclusive)
        XCTAssertEqual(job.lockTTL, Timespan(seconds: 60))
        XCTAssertEqual(job.lockWait, .zero)
        XCTAssertEqual(job.onLockLost, .stop)
        XCTAssertNil(job.hosts)
        XCTAssertNil(job.alerts, "nil means monitor.default_alerts")
        XCTAssertEqual(job.alertAfterFailures, 1)
        XCTAssertEqual(job.realertEvery, Timespan(seconds: 4 * 3600))
        XCTAssertEqual(job.env, [:])
        XCTAssertEqual(job.tags, [])
    }

    func testJobWithoutScheduleIsValid() throws {
        let job = try parse("command: /bin/true\n")
        XCTAssertNil(job.schedule)
        XCTAssertEqual(job.command, .shell("/bin/true"))
    }

    func testCommandStringRunsThroughTheShell() throws {
        let job = try parse("command: \"pg_dump db | gzip > /backup/db.gz\"\n")
        XCTAssertEqual(job.command, .shell("pg_dump db | gzip > /backup/db.gz"))
        XCTAssertEqual(job.command?.argv, ["/bin/sh", "-c", "pg_dump db | gzip > /backup/db.gz"])
        XCTAssertEqual(job.command?.displayString, "pg_dump db | gzip > /backup/db.gz")
    }

    func testCommandListIsExecDirectly() throws {
        let job = try parse("""
            command:
              - /usr/bin/rsync
              - "-a"
              - /src dir/
              - host:/dst
            """)
        XCTAssertEqual(job.command, .argv(["/usr/bin/rsync", "-a", "/src dir/", "host:/dst"]))
        XCTAssertEqual(job.command?.argv, ["/usr/bin/rsync", "-a", "/src dir/", "host:/dst"])
        XCTAssertEqual(try parse("command: [echo, hi]\n").command, .argv(["echo", "hi"]))
    }

    func testScheduleForms() throws {
        XCTAssertEqual(try parse("schedule: \"@daily\"\n").schedule?.expression, "@daily")
        XCTAssertEqual(try parse("schedule: every 15m\n").schedule?.period, 900)
        XCTAssertEqual(try parse("schedule: \"*/5 * * * *\"\n").schedule?.expression, "*/5 * * * *")
    }

    func testRealertZeroMeansNever() throws {
        XCTAssertNil(try parse("realert_every: 0\n").realertEvery)
        XCTAssertNil(try parse("realert_every: 0s\n").realertEvery)
    }

    func testSingleStringIsAListOfOne() throws {
        let job = try parse("hosts: web1\ntags: billing\n")
        XCTAssertEqual(job.hosts, ["web1"])
        XCTAssertEqual(job.tags, ["billing"])
    }

    func testNullValuesFallBackToDefaults() throws {
        let job = try parse("description:\ncommand: ~\ngrace: null\nhosts:\n")
        XCTAssertNil(job.description)
        XCTAssertNil(job.command)
        XCTAssertEqual(job.grace, Timespan(seconds: 300))
        XCTAssertNil(job.hosts)
    }

    func testBareNumberDurations() throws {
        let job = try parse("grace: 45\nlock_ttl: 120\n")
        XCTAssertEqual(job.grace, Timespan(seconds: 45))
        XCTAssertEqual(job.lockTTL, Timespan(seconds: 120))
    }

    func testJobNameComesFromTheFileName() throws {
        XCTAssertEqual(try parse("{}\n", path: "jobs.d/db.backup_v2-eu.yaml").name, "db.backup_v2-eu")
        XCTAssertEqual(try parse("{}\n", path: "/x/A1.yaml").name, "A1")
    }

    func testLoadReadsAFile() throws {
        let dir = NSTemporaryDirectory() + "jobwatch-core-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/cleanup.yaml"
        try "command: [rm, -rf, /tmp/x]\nschedule: \"0 * * * *\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let job = try JobDefinition.load(path: path, defaultTimezone: "UTC")
        XCTAssertEqual(job.name, "cleanup")
        XCTAssertEqual(job.command, .argv(["rm", "-rf", "/tmp/x"]))
        XCTAssertEqual(job.sourcePath, path)
    }

    func testLoadOfAMissingFileIsALocatedError() {
        let path = "/nonexistent-\(UUID().uuidString)/job.yaml"
        XCTAssertThrowsError(try JobDefinition.load(path: path, defaultTimezone: "UTC")) { error in
            guard let e = (error as? ConfigErrors)?.errors.first else { return XCTFail("\(error)") }
            XCTAssertEqual(e.path, path)
            XCTAssertEqual(e.line, 1)
            XCTAssertEqual(e.column, 1)
            XCTAssertTrue(e.message.hasPrefix("cannot read job file"), e.message)
        }
    }

    func testAWorldWritableJobFileIsRefusedAndTheOthersStillLoad() throws {
        let dir = NSTemporaryDirectory() + "jobsd-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "command: \"true\"\n".write(toFile: dir + "/good.yaml", atomically: true, encoding: .utf8)
        try "command: \"rm -rf /\"\n".write(toFile: dir + "/open.yaml", atomically: true, encoding: .utf8)
        chmod(dir + "/open.yaml", 0o646)
        let loaded = JobsDirectory.load(dir, defaultTimezone: "UTC")
        XCTAssertEqual(loaded.jobs.map(\.name), ["good"])
        XCTAssertEqual(loaded.problems.map(\.description), [
            "\(dir)/open.yaml:1:1: refusing a world-writable job file (mode 646): any local user could change what runs; chmod o-w \(dir)/open.yaml",
        ])
    }

    func testJobNameValidation() {
        XCTAssertTrue(JobName.isValid("a"))
        XCTAssertTrue(JobName.isValid("nightly-report.v2_eu"))
        XCTAssertTrue(JobName.isValid(String(repeating: "x", count: 128)))
        XCTAssertFalse(JobName.isValid(String(repeating: "x", count: 129)))
        for bad in ["", "-x", ".hidden", "_x", "has space", "a/b", "a:b", "é", "a*"] {
            XCTAssertFalse(JobName.isValid(bad), bad)
        }
    }
}
