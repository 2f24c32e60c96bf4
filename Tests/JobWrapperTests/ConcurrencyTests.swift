import Foundation
import JobwatchTestSupport
import XCTest

/// `concurrency: allow | replace` (SPEC §6) with real jobrun processes, signals and Redis.
final class ConcurrencyTests: XCTestCase {
    /// Waits until the wall clock is in a later second than `second`, so the next jobrun of an
    /// `every 1s` job claims a later occurrence.
    private func nextOccurrence(after second: Int) {
        XCTAssertTrue(waitUntil(timeout: 5) { Int(Date().timeIntervalSince1970) > second })
    }

    private var now: Int { Int(Date().timeIntervalSince1970) }

    func testAllowRunsTwoOccurrencesSideBySideEachUnderItsOwnLease() throws {
        let h = try JobrunHarness()
        try h.writeJob("tick", "schedule: \"every 1s\"\nconcurrency: allow\n")
        let release = h.path("release")
        let first = try h.start(["--host", "a", "tick", "--", "/bin/sh", "-c",
                                 "echo first >> \(h.path("log")); while [ ! -e \(release) ]; do sleep 0.05; done"])
        XCTAssertTrue(waitUntil(timeout: 10) { h.lines("log") == ["first"] })
        let locks = try h.redis.cli("KEYS", "test:lock:tick:*")
        XCTAssertEqual(locks.split(separator: "\n").count, 1, locks)
        nextOccurrence(after: now)
        let second = try h.jobrun(["--host", "b", "tick", "--", "/bin/sh", "-c", "echo second >> \(h.path("log"))"])
        XCTAssertEqual(second.status, 0, "the next occurrence runs while the first still does: \(second.stderrText)")
        XCTAssertTrue(first.process.isRunning)
        try "".write(toFile: release, atomically: true, encoding: .utf8)
        XCTAssertEqual(first.wait().status, 0)
        XCTAssertEqual(h.lines("log"), ["first", "second"])
        XCTAssertEqual(try h.redis.cli("KEYS", "test:lock:tick*"), "", "both per-occurrence leases released")
    }

    func testAllowStillRunsEachOccurrenceOnOneHostOnly() throws {
        let h = try JobrunHarness()
        try h.writeJob("hourly", "schedule: \"every 1h\"\ngrace: 1h\nconcurrency: allow\n")
        let release = h.path("release")
        let script = "echo $JOBWATCH_HOST >> \(h.path("ran")); while [ ! -e \(release) ]; do sleep 0.01; done"
        let racers = try (0..<8).map { try h.start(["--host", "host\($0)", "hourly", "--", "/bin/sh", "-c", script]) }
        XCTAssertTrue(waitUntil(timeout: 60) { racers.filter { $0.process.isRunning }.count <= 1 })
        try "".write(toFile: release, atomically: true, encoding: .utf8)
        let statuses = racers.map { $0.wait().status }.sorted()
        XCTAssertEqual(statuses, [0] + Array(repeating: 200, count: 7))
        XCTAssertEqual(h.lines("ran").count, 1)
    }

    func testReplaceStopsTheOldRunThenStartsTheNewOne() throws {
        let h = try JobrunHarness()
        try assertReplaces(h, environment: [:])
    }

    /// The takeover is a grant like any other: it needs a majority of the masters, and the
    /// replaced run learns of it from a majority of its renewals.
    func testReplaceWorksTheSameOnARedlockQuorum() throws {
        let h = try JobrunHarness()
        let others = try (0..<2).map { _ in try RedisServer() }
        try assertReplaces(h, environment: ["JOBWATCH_REDIS": ([h.redis] + others).map(\.url).joined(separator: ",")])
        for master in others {
            XCTAssertEqual(try master.cli("EXISTS", "test:replacing:sync"), "0")
            XCTAssertEqual(try master.cli("EXISTS", "test:lock:sync"), "0", "the new run released its lease everywhere")
        }
    }

    private func assertReplaces(_ h: JobrunHarness, environment: [String: String]) throws {
        try h.writeJob("sync", "schedule: \"every 1s\"\nconcurrency: replace\nkill_after: 10s\n")
        let log = h.path("log")
        // The old run's child records the SIGTERM its process group gets.
        let old = try h.start(["--host", "host-a", "sync", "--", "/bin/sh", "-c",
                               "trap 'echo old-got-TERM >> \(log); exit 143' TERM; echo old-started >> \(log); "
                               + "while true; do sleep 0.05; done"], environment: environment)
        XCTAssertTrue(waitUntil(timeout: 10) { h.lines("log") == ["old-started"] })
        nextOccurrence(after: now)
        let new = try h.jobrun(["--host", "host-b", "sync", "--", "/bin/sh", "-c", "echo new-started fence $JOBWATCH_FENCE >> \(log)"],
                               environment: environment)
        XCTAssertEqual(new.status, 0, new.stderrText)
        let ended = old.wait(timeout: 30)
        XCTAssertEqual(ended.status, 203, "a replaced run exits 203: \(ended.stderrText)")
        let lines = h.lines("log")
        XCTAssertEqual(lines.count, 3, "\(lines)")
        XCTAssertEqual(Array(lines.prefix(2)), ["old-started", "old-got-TERM"], "the new run starts after the old one exited")
        let events = try h.events()
        let runs = Dictionary(grouping: events, by: { $0["run_id"] ?? "" })
        let oldFinish = try XCTUnwrap(events.first { $0["type"] == "finish" && $0["host"] == "host-a" })
        XCTAssertEqual(oldFinish["outcome"], "replaced")
        XCTAssertEqual(oldFinish["exit_code"], "203")
        let oldStart = try XCTUnwrap(runs[oldFinish["run_id"] ?? ""]?.first { $0["type"] == "start" })
        let newStart = try XCTUnwrap(events.first { $0["type"] == "start" && $0["host"] == "host-b" })
        XCTAssertGreaterThan(Int(newStart["fence"] ?? "") ?? 0, Int(oldStart["fence"] ?? "") ?? 0, "the takeover raised the fence")
        XCTAssertEqual(lines[2], "new-started fence \(newStart["fence"] ?? "?")")
        let order = events.map { "\($0["type"] ?? "")@\($0["host"] ?? "")" }
        XCTAssertLessThan(try XCTUnwrap(order.firstIndex(of: "finish@host-a")), try XCTUnwrap(order.firstIndex(of: "start@host-b")),
                          "the replaced run's finish comes before the new run's start: \(order)")
        XCTAssertEqual(try h.redis.cli("EXISTS", "test:replacing:sync"), "0")
    }

    func testAReplacedRunWhoseHostIsGoneHoldsTheNewOneUpOnlyKillAfterAndASecond() throws {
        let h = try JobrunHarness()
        try h.writeJob("sync", "schedule: \"every 1s\"\nconcurrency: replace\nkill_after: 1s\n")
        // A lease held by a jobrun that no longer answers (its host died mid-run).
        try h.redis.cli("SET", "test:lock:sync", "gone-host:1:old-run", "PX", "60000")
        let new = try h.jobrun(["--host", "host-b", "--verbose", "sync", "--", "/bin/sh", "-c", "echo ran >> \(h.path("log"))"])
        XCTAssertEqual(new.status, 0, new.stderrText)
        XCTAssertEqual(h.lines("log"), ["ran"])
        XCTAssertTrue(new.stderrText.contains("did not confirm it stopped"), new.stderrText)
    }

    func testARunStartedByHandWithReplaceBehavesAsForbid() throws {
        let h = try JobrunHarness()
        try h.writeJob("manual", "concurrency: replace\n")
        try h.redis.cli("SET", "test:lock:manual", "web9:1:other", "PX", "60000")
        let r = try h.jobrun(["manual", "--", "/bin/echo", "never"])
        XCTAssertEqual(r.status, 200, r.stderrText)
        XCTAssertEqual(try h.redis.cli("GET", "test:lock:manual"), "web9:1:other")
    }
}
