import Foundation
import JobwatchCore
import JobwatchTestSupport
@testable import MonitorService
import RedisLease
import Reporting
import XCTest

/// Redlock: a host cut off from the first master reports to another one; the leader moves
/// those entries to the first master's stream and applies each run's start and finish once,
/// however many masters carried them.
final class RelayEngineTests: EngineTestCase {
    private var others: [RedisServer] = []

    override func setUpWithError() throws {
        try super.setUpWithError()
        others = try (0..<2).map { _ in try RedisServer() }   // on the main thread: see EngineTestCase
    }

    override func tearDown() {
        others = []
        super.tearDown()
    }

    func testReportsOnAnyMasterAreAppliedOnceAndLeaveTheOtherStreams() async throws {
        let h = try makeHarness()
        h.otherMasters = others.map(\.url)
        try h.writeJob("relayed", "schedule: \"* * * * *\"\ncommand: \"true\"\n")
        let engine = try h.engine()
        engine.start()

        func report(_ event: RunEvent, to server: RedisServer) throws {
            let c = RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port), timeoutMs: 2000)
            XCTAssertFalse(try c.command(event.xaddArguments(keyPrefix: h.prefix)).isError)
        }
        let start = RunEvent.start(job: "relayed", runID: "r1", host: "cut-off", pid: 7, startedAtMs: Timestamp.nowMs() - 50,
                                   scheduledFor: nil, fence: 9, command: "true")
        let finish = RunEvent.finish(job: "relayed", runID: "r1", host: "cut-off", exitCode: 0, signal: nil, durationMs: 40,
                                     outcome: "success", outputTail: "")
        // The host's copies, plus a spooled copy that reached the first master later.
        try report(start, to: others[0])
        try report(finish, to: others[0])
        try report(finish, to: others[1])
        try h.report(start)

        XCTAssertTrue(try h.eventually(10) { try h.monitor("relayed")?.lastRun?.runID == "r1" }, "relayed and applied")
        XCTAssertTrue(try h.eventually(10) { try self.others.allSatisfy { try $0.cli("XLEN", "t:events") == "0" } },
                      "the other masters' streams are emptied")
        XCTAssertTrue(try h.waitUntilApplied(10))
        let monitor = try XCTUnwrap(h.monitor("relayed"))
        XCTAssertTrue(monitor.runningRuns.isEmpty, "the duplicate start after the finish is not a new run")
        XCTAssertEqual(monitor.lastRun?.host, "cut-off")
        XCTAssertEqual(try h.connection.command(["XLEN", h.store.events]).integer, 4, "three relayed entries and the direct one")
        XCTAssertEqual(try h.connection.command(["ZCARD", h.store.runs("relayed")]).integer, 1, "one run in the history")
        await engine.stop()
    }
}
