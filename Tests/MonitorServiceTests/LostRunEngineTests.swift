import Foundation
import JobwatchTestSupport
@testable import MonitorService
import Reporting
import XCTest
#if canImport(Glibc)
import Glibc
import JobwatchCore
#endif

/// A host that dies mid-run: a real `jobrun` is SIGKILLed (its job too), its lease expires,
/// and the monitor must say so — once per channel — and take it back when the finish arrives.
final class LostRunEngineTests: EngineTestCase {
    func testAKilledWrapperIsLostWithinItsLeaseAndALateFinishResolvesIt() async throws {
        let h = try makeHarness()
        let root = try TemporaryDirectory.make(prefix: "lost")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "".write(toFile: root + "/jobwatch.yaml", atomically: true, encoding: .utf8)
        try h.writeJob("crunch", "lock_ttl: 3s\ncommand: echo $$ > \(root)/job.pid; exec sleep 60\n")
        let engine = try h.engine()
        engine.start()

        var environment = isolatedJobwatchEnvironment(config: root + "/jobwatch.yaml", redisURL: h.redisURL,
                                                      jobsDir: h.jobsDir, spoolDir: root + "/spool")
        environment["JOBWATCH_KEY_PREFIX"] = h.prefix
        let wrapper = try Command.start([Command.binary("jobrun"), "--host", "doomed", "crunch"], environment: environment)
        XCTAssertTrue(try h.eventually(10) { try h.monitor("crunch")?.runningRuns.isEmpty == false }, "the start is applied")
        let runID = try XCTUnwrap(h.monitor("crunch")?.runningRuns.keys.first)
        XCTAssertTrue(waitUntil(timeout: 5) { FileManager.default.fileExists(atPath: root + "/job.pid") })
        let jobPID = pid_t(try String(contentsOfFile: root + "/job.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0

        // The host dies: wrapper and job at once, no finish, no release.
        let killedAt = Date()
        wrapper.signal(SIGKILL)
        if jobPID > 0 { kill(jobPID, SIGKILL) }
        _ = wrapper.wait(timeout: 5)

        XCTAssertTrue(try h.eventually(15) { try h.outbox().filter { $0.event == "trigger" }.count == 2 }, "lost on both channels")
        let noticed = Date().timeIntervalSince(killedAt)
        XCTAssertLessThan(noticed, 3 + 5, "within lock_ttl + 5 s (took \(noticed) s)")
        XCTAssertEqual(try h.monitor("crunch")?.state(at: Timestamp.nowMs()), .lost)
        let pd = try XCTUnwrap(h.outbox().first { $0.channel == "pd" })
        let summary = try XCTUnwrap(((try JSONSerialization.jsonObject(with: Data(pd.fields["body"]!.utf8)) as? [String: Any])?["payload"]
            as? [String: Any])?["summary"] as? String)
        XCTAssertTrue(summary.hasPrefix("crunch lost its run on doomed"), summary)

        // Nothing more while it stays lost.
        try await Task.sleep(nanoseconds: 3_000_000_000)
        XCTAssertEqual(try h.outbox().count, 2)

        // The host comes back and its spool delivers the finish.
        try h.finish("crunch", runID)
        XCTAssertTrue(try h.eventually(10) { try h.outbox().filter { $0.event == "resolve" }.count == 2 })
        h.assertNoDuplicateTriggers(try h.outbox())
        await engine.stop()
    }
}
