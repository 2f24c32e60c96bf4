import Foundation
import JobwatchTestSupport
import XCTest

/// One occurrence, many hosts: exactly one runs it.
final class ExclusivityTests: XCTestCase {
    func testSixteenHostsRaceAHundredTimesAndExactlyOneRunsEachRound() throws {
        let h = try JobrunHarness()
        for round in 0..<100 {
            let out = h.path("ran-\(round)")
            let release = h.path("release-\(round)")
            // The winner keeps the lease until every loser has given up, so a slow starter can
            // never find the lock free and run a second time.
            let script = "echo $JOBWATCH_HOST >> \(out); while [ ! -e \(release) ]; do sleep 0.01; done"
            let racers = try (0..<16).map { host in
                try h.start(["--host", "host\(host)", "race\(round)", "--", "/bin/sh", "-c", script])
            }
            var pending = Set(racers.indices)
            var results: [Int: Command.Result] = [:]
            XCTAssertTrue(waitUntil(timeout: 60) {
                for i in pending where !racers[i].process.isRunning {
                    results[i] = racers[i].wait()
                    pending.remove(i)
                }
                return pending.count <= 1
            }, "round \(round): more than one jobrun still running")
            try "".write(toFile: release, atomically: true, encoding: .utf8)
            for i in pending { results[i] = racers[i].wait() }
            let statuses = results.values.map(\.status).sorted()
            XCTAssertEqual(statuses, [0] + Array(repeating: 200, count: 15), "round \(round)")
            XCTAssertEqual(h.lines("ran-\(round)").count, 1, "round \(round): command ran \(h.lines("ran-\(round)").count) times")
            for r in results.values where r.status == 200 {
                XCTAssertTrue(r.stdout.isEmpty && r.stderr.isEmpty, "exit 200 must be silent without --verbose: \(r.stderrText)")
            }
        }
    }

    func testScheduledOccurrenceRunsOnceAcrossSkewedClocks() throws {
        guard let faketime = which("faketime") else { throw XCTSkip("faketime not installed (apt-get install faketime)") }
        let h = try JobrunHarness()
        // A daily job whose occurrence O was 3-4 minutes ago by Redis's clock (the real one),
        // still within its 10-minute grace.
        let now = Int64(Date().timeIntervalSince1970)
        let occurrence = (now - 180) / 60 * 60
        let (hour, minute) = (occurrence % 86_400 / 3600, occurrence % 3600 / 60)
        try h.writeJob("nightly", """
            schedule: "\(minute) \(hour) * * *"
            timezone: UTC
            grace: 10m
            command: echo "$(date -u +%H:%M) $JOBWATCH_HOST" >> \(h.path("nightly.log"))
            """)
        func clock(at epoch: Int64) -> [String] {
            let offset = epoch - Int64(Date().timeIntervalSince1970)
            return [faketime, "-f", "\(offset >= 0 ? "+" : "")\(offset)s"]
        }
        // Hosts a and b run 3 minutes behind: their crons fire for O when Redis's clock is
        // 3 minutes past it. a comes first and runs O; b must not run it again.
        let a = try h.jobrun([], environment: [:], timeout: 30, prefixing: clock(at: occurrence + 2), host: "a")
        XCTAssertEqual(a.status, 0, a.stderrText)
        XCTAssertTrue(a.stderrText.contains("behind Redis's"), a.stderrText)
        let b = try h.jobrun([], environment: [:], timeout: 30, prefixing: clock(at: occurrence + 1), host: "b")
        XCTAssertEqual(b.status, 200, b.stderrText)
        // A host on time whose cron fired late, and one a whole day ahead: by Redis's clock both
        // are about O, which is taken.
        let late = try h.jobrun([], environment: [:], timeout: 30, prefixing: [], host: "c")
        XCTAssertEqual(late.status, 200, "a host whose cron is minutes late still finds the occurrence taken: \(late.stderrText)")
        let ahead = try h.jobrun([], environment: [:], timeout: 30, prefixing: clock(at: occurrence + 86_400 + 2), host: "b")
        XCTAssertEqual(ahead.status, 200, "a day ahead is no new occurrence by Redis's clock: \(ahead.stderrText)")
        let hhmm = String(format: "%02d:%02d", hour, minute)
        XCTAssertEqual(h.lines("nightly.log"), ["\(hhmm) a"])
        XCTAssertEqual(try h.redis.cli("KEYS", "test:occ:*"), "test:occ:nightly:\(occurrence)")
    }

    func testManualRunOutsideGraceTakesOnlyTheLease() throws {
        guard let faketime = which("faketime") else { throw XCTSkip("faketime not installed (apt-get install faketime)") }
        let h = try JobrunHarness()
        try h.writeJob("nightly", """
            schedule: "30 2 * * *"
            grace: 5m
            command: echo run >> \(h.path("manual.log"))
            """)
        for _ in 0..<2 {
            let r = try h.jobrun([], environment: [:], timeout: 30, prefixing: [faketime, "2026-01-05 14:00:00"], host: "ops")
            XCTAssertEqual(r.status, 0, r.stderrText)
        }
        XCTAssertEqual(h.lines("manual.log").count, 2, "runs by hand claim no occurrence, so both run")
        XCTAssertEqual(try h.redis.cli("KEYS", "test:occ:*"), "")
    }
}

extension JobrunHarness {
    func jobrun(_ extra: [String], environment: [String: String], timeout: Double, prefixing prefix: [String], host: String) throws -> Command.Result {
        let env = self.environment.merging(environment) { $1 }.merging(["FAKETIME_DONT_RESET": "1"]) { $1 }
        return try Command.run(prefix + [Command.binary("jobrun"), "--host", host] + extra + ["nightly"], environment: env, timeout: timeout)
    }
}
