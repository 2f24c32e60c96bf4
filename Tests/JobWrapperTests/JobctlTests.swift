import Foundation
import JobwatchTestSupport
import XCTest

/// `jobctl` as an operator runs it: the real binary, its exit code and its output.
final class JobctlTests: XCTestCase {
    private func jobctl(_ h: JobrunHarness, _ args: [String]) throws -> Command.Result {
        try Command.run([Command.binary("jobctl")] + args, environment: h.environment)
    }

    func testCheckReportsEveryBrokenFileAndStillValidatesTheGoodOne() throws {
        let h = try JobrunHarness()
        try h.writeJob("good", "command: echo ok\nschedule: \"30 2 * * *\"\n")
        try h.writeJob("typo", "command: echo\ngrace: 5 minutes\n")
        try h.writeJob("badcron", "schedule: \"0 0 30 2 *\"\n")
        try h.writeJob("two-problems", "lock: sometimes\ntimezone: Nowhere/Land\n")
        let r = try jobctl(h, ["check"])
        XCTAssertEqual(r.status, 1)
        let errors = r.stderrText.split(separator: "\n").map(String.init)
        let dir = h.jobsDir
        XCTAssertTrue(errors.contains { $0.hasPrefix("\(dir)/typo.yaml:2:8: grace: invalid duration") }, r.stderrText)
        XCTAssertTrue(errors.contains { $0.hasPrefix("\(dir)/badcron.yaml:1:11: schedule:") && $0.contains("never fire") }, r.stderrText)
        XCTAssertTrue(errors.contains { $0.hasPrefix("\(dir)/two-problems.yaml:1:7: lock: must be one of exclusive, none") }, r.stderrText)
        XCTAssertTrue(errors.contains { $0.hasPrefix("\(dir)/two-problems.yaml:2:11: timezone: unknown IANA time zone") }, r.stderrText)
        XCTAssertFalse(r.stderrText.contains("good.yaml"), "the good file has no problem")
        XCTAssertEqual(errors.count, 4, r.stderrText)
        XCTAssertTrue(r.stdoutText.contains("4 job file(s)") && r.stdoutText.contains("4 problem(s)"), r.stdoutText)

        for name in ["typo", "badcron", "two-problems"] { try FileManager.default.removeItem(atPath: "\(dir)/\(name).yaml") }
        let clean = try jobctl(h, ["check"])
        XCTAssertEqual(clean.status, 0, clean.stderrText)
        XCTAssertTrue(clean.stdoutText.contains("all valid"))
    }

    func testNextPrintsRFC3339WithTheZonesOffsetAcrossDST() throws {
        let h = try JobrunHarness()
        let r = try jobctl(h, ["next", "30 1 * * *", "--tz", "Europe/Dublin", "--from", "2026-03-28T12:00:00Z", "--count", "3"])
        XCTAssertEqual(r.status, 0, r.stderrText)
        // 01:30 does not exist on 29 March in Dublin: it runs once at the end of the gap.
        XCTAssertEqual(r.stdoutText, "2026-03-29T02:00:00+01:00\n2026-03-30T01:30:00+01:00\n2026-03-31T01:30:00+01:00\n")
        let bad = try jobctl(h, ["next", "61 * * * *"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderrText.contains("minute"), bad.stderrText)
    }

    /// The example in docs/CLI.md: a job's jittered starts, in its zone, from its jobs.d file
    /// (found through the environment's config, as jobrun finds it).
    func testNextForAJobPrintsItsJitteredStarts() throws {
        let h = try JobrunHarness()
        try h.writeJob("backup", "schedule: \"30 2 * * *\"\ntimezone: Europe/Dublin\njitter: 2h\n")
        let r = try jobctl(h, ["next", "--job", "backup", "--from", "2026-03-27T00:00:00Z", "--count", "4"])
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertEqual(r.stdoutText, "2026-03-27T03:35:56+00:00\n2026-03-28T03:16:48+00:00\n2026-03-29T03:42:26+01:00\n2026-03-30T04:07:20+01:00\n")
        // Just before a jittered start, its occurrence (scheduled an hour earlier) comes first.
        let after = try jobctl(h, ["next", "--job", "backup", "--from", "2026-03-27T03:35:55Z", "--count", "1"])
        XCTAssertEqual(after.stdoutText, "2026-03-27T03:35:56+00:00\n", after.stderrText)

        try h.writeJob("adhoc", "command: \"true\"\n")
        for args in [["--job", "backup", "--tz", "UTC"], ["--job", "backup", "@daily"], ["--job", "adhoc"], ["--job", "missing"]] {
            let refused = try jobctl(h, ["next"] + args)
            XCTAssertEqual(refused.status, 64, "\(args): \(refused.stderrText)")
        }
    }

    func testLockShowsTheHolderAndUnlockNeedsForce() throws {
        let h = try JobrunHarness()
        let run = try h.start(["--host", "web7", "--lock-ttl", "3s", "held", "--", "/bin/sh", "-c", "touch \(h.path("go")); sleep 30"])
        XCTAssertTrue(waitUntil(timeout: 20) { h.exists("go") })
        let shown = try jobctl(h, ["lock", "held"])
        XCTAssertEqual(shown.status, 0, shown.stderrText)
        XCTAssertTrue(shown.stdoutText.hasPrefix("held: held by web7:"), shown.stdoutText)
        XCTAssertTrue(shown.stdoutText.contains("fence \(try h.redis.cli("GET", "test:fence:held"))\n"), shown.stdoutText)
        XCTAssertNotEqual(try jobctl(h, ["unlock", "held"]).status, 0, "unlock without --force must refuse")
        let forced = try jobctl(h, ["unlock", "held", "--force"])
        XCTAssertEqual(forced.status, 0, forced.stderrText)
        XCTAssertTrue(forced.stderrText.contains("previous holder: web7:"), forced.stderrText)
        XCTAssertEqual(run.wait(timeout: 30).status, 203, "the holder notices its lease is gone")
        XCTAssertTrue(try jobctl(h, ["lock", "held"]).stdoutText.hasPrefix("held: free"))
    }
}
