import Foundation
import JobwatchTestSupport
import XCTest

/// `jobrun` behind a `cronlock` symlink speaks cronlock's dialect.
final class CronlockTests: XCTestCase {
    private func cronlock(_ h: JobrunHarness) throws -> String {
        let link = h.path("cronlock")
        if !FileManager.default.fileExists(atPath: link) {
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: Command.binary("jobrun"))
        }
        return link
    }

    private func env(_ h: JobrunHarness, _ extra: [String: String] = [:]) -> [String: String] {
        var e = h.environment.filter { !$0.key.hasPrefix("JOBWATCH_") }
        e["JOBWATCH_CONFIG"] = h.path("jobwatch.yaml")
        e["JOBWATCH_SPOOL_DIR"] = h.path("spool")
        e["CRONLOCK_HOST"] = "127.0.0.1"
        e["CRONLOCK_PORT"] = String(h.redis.port)
        e["CRONLOCK_CONFIG"] = h.path("cronlock.conf")
        return e.merging(extra) { $1 }
    }

    func testKeyIsTheMD5OfTheCommandAndGraceHoldsTheLockAfterAShortJob() throws {
        let h = try JobrunHarness()
        try "".write(toFile: h.path("cronlock.conf"), atomically: true, encoding: .utf8)
        let bin = try cronlock(h)
        let first = try Command.run([bin, "ls", "-al", "/dev/null"], environment: env(h))
        XCTAssertEqual(first.status, 0, first.stderrText)
        // md5sum of "ls -al /dev/null\n", as cronlock's `echo "$@" | md5sum` computes it.
        let key = "cronlock.f7857b82e44edec4ffdcea7d7d22578e"
        let value = Int64(try h.redis.cli("GET", key)) ?? 0
        let now = Int64(Date().timeIntervalSince1970)
        XCTAssertTrue((now + 30...now + 42).contains(value), "value \(value) should be start + GRACE + 1")
        XCTAssertGreaterThan(Int(try h.redis.cli("TTL", key)) ?? -1, 30)
        let second = try Command.run([bin, "ls", "-al", "/dev/null"], environment: env(h))
        XCTAssertEqual(second.status, 200, "a second host within GRACE must not re-run the job")
        XCTAssertTrue(second.stdout.isEmpty && second.stderr.isEmpty)
    }

    func testConfigFileIsReadAsAssignmentsNotShellAndWinsOverEnvironment() throws {
        let h = try JobrunHarness()
        try """
            # cronlock.conf
            export CRONLOCK_PREFIX="mig."
            CRONLOCK_KEY='nightly'
            CRONLOCK_GRACE=0
            CRONLOCK_PORT=\(h.redis.port)
            EVIL=$(touch \(h.path("pwned")))
            """.write(toFile: h.path("cronlock.conf"), atomically: true, encoding: .utf8)
        let r = try Command.run([try cronlock(h), "/bin/sh", "-c", "echo $JOBWATCH_JOB"], environment: env(h, ["CRONLOCK_PORT": "1"]))
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertEqual(r.stdoutText, "nightly\n")
        XCTAssertFalse(h.exists("pwned"))
        // As in cronlock, the lock is kept until start + GRACE + 1: here, the next second.
        XCTAssertTrue(waitUntil(timeout: 3) { (try? h.redis.cli("EXISTS", "mig.nightly")) == "0" })
    }

    func testRespectsALockHeldByAnOldCronlockHostAndTakesOverAStaleOne() throws {
        let h = try JobrunHarness()
        try "CRONLOCK_KEY=shared\n".write(toFile: h.path("cronlock.conf"), atomically: true, encoding: .utf8)
        let bin = try cronlock(h)
        let future = Int64(Date().timeIntervalSince1970) + 3600
        try h.redis.cli("SET", "cronlock.shared", String(future))   // old cronlock: no TTL, a timestamp
        XCTAssertEqual(try Command.run([bin, "true"], environment: env(h)).status, 200)
        try h.redis.cli("SET", "cronlock.shared", "1000")            // crashed long ago
        let r = try Command.run([bin, "echo", "recovered"], environment: env(h))
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertEqual(r.stdoutText, "recovered\n")
    }

    func testTimeoutAndRedisErrorsKeepCronlockExitCodes() throws {
        let h = try JobrunHarness()
        try "CRONLOCK_TIMEOUT=1\n".write(toFile: h.path("cronlock.conf"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try Command.run([try cronlock(h), "sleep", "30"], environment: env(h)).status, 202)
        h.redis.stop()
        XCTAssertEqual(try Command.run([try cronlock(h), "true"], environment: env(h)).status, 201)
    }
}
