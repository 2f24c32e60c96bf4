import Foundation
import JobwatchTestSupport
import XCTest

final class LeaseTests: XCTestCase {
    func testLongJobKeepsRenewingItsLeaseAndExcludesOthers() throws {
        let h = try JobrunHarness()
        let long = try h.start(["--host", "a", "--lock-ttl", "3s", "long", "--", "/bin/sh", "-c", "touch \(h.path("started")); sleep 7"])
        XCTAssertTrue(waitUntil(timeout: 20) { h.exists("started") })
        var checks = 0
        // Over more than twice the TTL, the key never expires and never changes hands.
        let deadline = Date().addingTimeInterval(6)
        while Date() < deadline {
            let holder = try h.redis.cli("GET", "test:lock:long")
            XCTAssertTrue(holder.hasPrefix("a:"), "lease lost while the job runs (holder \"\(holder)\")")
            let other = try h.jobrun(["--host", "b", "--lock-ttl", "3s", "long", "--", "/bin/echo", "second"])
            XCTAssertEqual(other.status, 200)
            XCTAssertTrue(other.stdout.isEmpty)
            checks += 1
            usleep(500_000)
        }
        XCTAssertGreaterThan(checks, 3)
        XCTAssertEqual(long.wait().status, 0)
        XCTAssertEqual(try h.redis.cli("EXISTS", "test:lock:long"), "0", "released on exit")
    }

    func testKillNineOfTheWrapperFreesTheLockWithinTheTTL() throws {
        let h = try JobrunHarness()
        let victim = try h.start(["--host", "a", "--lock-ttl", "3s", "crashy", "--", "/bin/sh", "-c", "echo $$ > \(h.path("child.pid")); exec sleep 60"])
        XCTAssertTrue(waitUntil(timeout: 20) { h.exists("child.pid") && (try? h.redis.cli("EXISTS", "test:lock:crashy")) == "1" })
        defer {
            if let pid = Int32(h.lines("child.pid").first ?? "") { kill(-pid, SIGKILL); kill(pid, SIGKILL) }
        }
        victim.signal(SIGKILL)
        _ = victim.wait()
        let killedAt = Date()
        XCTAssertTrue(waitUntil(timeout: 5) { (try? h.redis.cli("EXISTS", "test:lock:crashy")) == "0" })
        XCTAssertLessThanOrEqual(Date().timeIntervalSince(killedAt), 3.5, "the lease outlived its TTL")
        let next = try h.jobrun(["--host", "b", "crashy", "--", "/bin/echo", "took over"])
        XCTAssertEqual(next.status, 0)
        XCTAssertEqual(next.stdoutText, "took over\n")
    }

    func testStolenLeaseStopsTheChildAndExits203() throws {
        let h = try JobrunHarness()
        let run = try h.start(["--host", "a", "--lock-ttl", "3s", "stolen", "--", "/bin/sh", "-c",
                               "echo $$ > \(h.path("child.pid")); sleep 60"])
        XCTAssertTrue(waitUntil(timeout: 20) { h.exists("child.pid") })
        try h.redis.cli("SET", "test:lock:stolen", "intruder", "PX", "60000")
        let result = run.wait(timeout: 20)
        XCTAssertEqual(result.status, 203, result.stderrText)
        XCTAssertTrue(result.stderrText.contains("lost"), result.stderrText)
        let pid = Int32(h.lines("child.pid").first ?? "") ?? 0
        XCTAssertTrue(waitUntil(timeout: 5) { !processAlive(pid) }, "the child must be stopped")
        XCTAssertEqual(try h.redis.cli("GET", "test:lock:stolen"), "intruder", "the new owner's lock is left alone")
    }

    func testFencingTokenIncreasesAndReachesTheChild() throws {
        let h = try JobrunHarness()
        let first = try h.jobrun(["fenced", "--", "/bin/sh", "-c", "echo $JOBWATCH_FENCE"])
        let second = try h.jobrun(["fenced", "--", "/bin/sh", "-c", "echo $JOBWATCH_FENCE $JOBWATCH_JOB ${#JOBWATCH_RUN_ID}"])
        let firstFence = Int64(first.stdoutText.trimmingCharacters(in: .newlines)) ?? 0
        let secondFields = second.stdoutText.split(separator: " ")
        XCTAssertGreaterThan(firstFence, 0, first.stdoutText)
        XCTAssertEqual(secondFields.count, 3, second.stdoutText)
        XCTAssertGreaterThan(Int64(secondFields.first ?? "") ?? 0, firstFence, "strictly increasing")
        XCTAssertEqual(secondFields.dropFirst().joined(separator: " "), "fenced 20\n")
    }

    func testLockWaitRetriesUntilTheHolderFinishes() throws {
        let h = try JobrunHarness()
        let holder = try h.start(["--host", "a", "waity", "--", "/bin/sh", "-c", "touch \(h.path("held")); sleep 1"])
        XCTAssertTrue(waitUntil(timeout: 20) { h.exists("held") })
        let waiter = try h.jobrun(["--host", "b", "--lock-wait", "20s", "waity", "--", "/bin/echo", "waited"])
        XCTAssertEqual(waiter.status, 0, waiter.stderrText)
        XCTAssertEqual(waiter.stdoutText, "waited\n")
        XCTAssertEqual(holder.wait().status, 0)
    }

    func testRedisDownSkipExits201QuicklyWithAClearMessage() throws {
        let h = try JobrunHarness()
        h.redis.stop()
        let started = Date()
        let r = try h.jobrun(["down", "--", "/bin/sh", "-c", "touch \(h.path("ran"))"])
        XCTAssertEqual(r.status, 201)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertTrue(r.stderrText.contains("Redis unreachable") && r.stderrText.contains("on_redis_down: skip"), r.stderrText)
        XCTAssertFalse(h.exists("ran"))
    }

    func testRedisDownRunRunsTheCommandAndSaysSo() throws {
        let h = try JobrunHarness()
        h.redis.stop()
        let r = try h.jobrun(["down", "--", "/bin/echo", "ran anyway"], environment: ["JOBWATCH_ON_REDIS_DOWN": "run"])
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stdoutText, "ran anyway\n")
        XCTAssertTrue(r.stderrText.contains("WITHOUT a lock"), r.stderrText)
    }

    func testHostsListExcludesOtherHostsQuietly() throws {
        let h = try JobrunHarness()
        try h.writeJob("pinned", "command: echo ran\nhosts: [web1, web2]\n")
        let other = try h.jobrun(["--host", "db1", "pinned"])
        XCTAssertEqual(other.status, 200)
        XCTAssertTrue(other.stdout.isEmpty && other.stderr.isEmpty)
        let allowed = try h.jobrun(["--host", "web2", "pinned"])
        XCTAssertEqual(allowed.status, 0)
        XCTAssertEqual(allowed.stdoutText, "ran\n")
    }
}

final class RedisRefusalTests: XCTestCase {
    /// A wrong or missing password is a configuration error: even with `on_redis_down: run`
    /// it must not make every host run the job without a lock.
    func testAuthenticationFailureNeverFailsOpen() throws {
        let h = try JobrunHarness()
        try h.redis.cli("CONFIG", "SET", "requirepass", "s3cret")
        for password in [nil, "wrong"] as [String?] {
            var env = ["JOBWATCH_ON_REDIS_DOWN": "run"]
            if let password { env["JOBWATCH_REDIS_PASSWORD"] = password }
            let r = try h.jobrun(["guarded", "--", "/bin/sh", "-c", "touch \(h.path("ran"))"], environment: env)
            XCTAssertEqual(r.status, 201, r.stderrText)
            XCTAssertTrue(r.stderrText.contains("refused"), r.stderrText)
            XCTAssertFalse(h.exists("ran"))
        }
        let ok = try h.jobrun(["guarded", "--", "/bin/echo", "authorised"], environment: ["JOBWATCH_REDIS_PASSWORD": "s3cret"])
        XCTAssertEqual(ok.status, 0, ok.stderrText)
    }
}
