import CronSchedule
import Foundation
import MonitorCore
import XCTest

/// The hand-written state JSON must read back through `Codable` as exactly what was written,
/// in every state a job can be in: the leader restores from it after a failover.
final class StateJSONTests: XCTestCase {
    private func assertRoundTrips(_ monitor: JobMonitor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let decoded = try JSONDecoder().decode(JobMonitor.self, from: Data(monitor.json.utf8))
            XCTAssertEqual(decoded, monitor, what, file: file, line: line)
            // Same keys as JSONEncoder's: readers such as the API and jobctl see one shape.
            let ours = try JSONSerialization.jsonObject(with: Data(monitor.json.utf8)) as? NSDictionary
            let theirs = try JSONSerialization.jsonObject(with: JSONEncoder().encode(monitor)) as? NSDictionary
            XCTAssertEqual(ours?.allKeys.map { "\($0)" }.sorted(), theirs?.allKeys.map { "\($0)" }.sorted(), what, file: file, line: line)
        } catch {
            XCTFail("\(what): \(error)\n\(monitor.json)", file: file, line: line)
        }
    }

    func testEveryStateOfAJobRoundTrips() throws {
        let odd = "quote \" backslash \\ newline \n tab \t bell \u{7} nul \u{0} é 日本 🚀 </script>"
        var monitor = JobMonitor(spec: try tenSecondJob(maxRuntime: 20_000, minRuntime: 1_000, alertAfterFailures: 2,
                                                        realertEvery: 60_000), firstSeen: 1_000)
        assertRoundTrips(monitor, "new")
        _ = monitor.runStarted(runID: "r1", host: odd, at: 10_000, scheduledFor: 10_000, fence: 7)
        _ = monitor.runStarted(runID: "r2", host: "web2", at: 10_500)
        assertRoundTrips(monitor, "two runs in progress")
        _ = monitor.runFinished(runID: "r1", at: 12_000, exitCode: 3, signal: nil, outcome: .failure,
                                durationMs: 2_000, host: odd, outputTail: odd)
        _ = monitor.runFinished(runID: "r2", at: 13_000, exitCode: nil, signal: 9, outcome: .killed, durationMs: 2_500)
        assertRoundTrips(monitor, "failed twice: incident with its run and output")
        _ = monitor.skipped(host: "web3", at: 14_000)
        _ = monitor.deadlinePassed(now: 40_000)
        assertRoundTrips(monitor, "missed, skip recorded")
        _ = monitor.runStarted(runID: "r3", host: "web1", at: 40_500)
        _ = monitor.deadlinePassed(now: 70_000)
        assertRoundTrips(monitor, "overdue run")
        _ = monitor.paused(until: 200_000, now: 71_000)
        assertRoundTrips(monitor, "paused with an end")
        _ = monitor.resumed(now: 72_000)
        _ = monitor.paused(until: nil, now: 73_000)
        assertRoundTrips(monitor, "paused for good")
        _ = monitor.definitionRejected(reason: odd, now: 74_000)
        assertRoundTrips(monitor, "config error")

        var adhoc = JobMonitor(spec: unscheduledJob(), firstSeen: 5)
        for i in 0..<70 { _ = adhoc.run("run-\(i)", from: Int64(i) * 100, to: Int64(i) * 100 + 50) }
        assertRoundTrips(adhoc, "no schedule, finished-run memory full")
    }

    /// State written before `JobMonitor.State` (by the synthesized `Codable`, an `incident`
    /// key beside the other fields) reads as the same open incident: a monitor upgraded in
    /// place keeps paging, repeating and resolving it.
    func testStateWrittenBeforeTheStateEnumKeepsItsOpenIncident() throws {
        var fresh = JobMonitor(spec: try tenSecondJob(realertEvery: 60_000), firstSeen: 1_000)
        let raised = try XCTUnwrap(fresh.deadlinePassed(now: 15_000).raised.first)
        let old = """
            {"spec":{"name":"heartbeat","schedule":"every 10s","timezone":"UTC","grace_ms":5000,\
            "alert_after_failures":1,"realert_every_ms":60000,"channels":["pd-ops"]},"firstSeen":1000,\
            "recordedState":"missed","expectedOccurrence":20000,"runningRuns":{},"consecutiveFailures":0,\
            "incident":{"job":"heartbeat","kind":"missed","since":15000,"occurrence":10000,\
            "reason":"\(raised.reason)","previous_state":"new","repeats":0},\
            "nextDeadline":25000,"nextRealert":75000,"overdueRunIDs":[],"finishedRunIDs":[]}
            """
        var restored = try JSONDecoder().decode(JobMonitor.self, from: Data(old.utf8))
        XCTAssertEqual(restored, fresh)
        XCTAssertEqual(restored.condition, .alerting(raised))
        XCTAssertEqual(restored.state(at: 16_000), .missed)
        XCTAssertEqual(restored.run("r1", from: 20_000, to: 21_000).resolved.map(\.kind), [.missed])
    }

    /// State written before run ids were kept as fingerprints lists the ids themselves.
    func testStateWithTheOldListOfFinishedRunIdsStillRecognisesThoseRuns() throws {
        var monitor = JobMonitor(spec: unscheduledJob(), firstSeen: 5)
        _ = monitor.run("0196f2a1b2c3d4e5f6a7", from: 100, to: 150)
        _ = monitor.run("run-2", from: 200, to: 250)
        let stored = try XCTUnwrap(monitor.json.range(of: ##""finishedRunIDs":\["#[0-9a-f]{16}","#[0-9a-f]{16}"\]"##,
                                                      options: .regularExpression))
        let old = monitor.json.replacingCharacters(in: stored, with: #""finishedRunIDs":["0196f2a1b2c3d4e5f6a7","run-2"]"#)
        var restored = try JSONDecoder().decode(JobMonitor.self, from: Data(old.utf8))
        XCTAssertEqual(restored, monitor)
        XCTAssertTrue(restored.runStarted(runID: "run-2", host: "h", at: 300).isEmpty, "a redelivered start is ignored")
        XCTAssertNil(restored.runningRuns["run-2"])
    }

    /// The version before fingerprints decodes this field as a list of strings: new state
    /// must stay readable by it, or a rollback would drop every job's state.
    func testNewStateIsAListOfStringsAsTheEarlierVersionReadIt() throws {
        var monitor = JobMonitor(spec: unscheduledJob(), firstSeen: 5)
        _ = monitor.run("run-1", from: 100, to: 150)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(monitor.json.utf8)) as? [String: Any])
        let entries = try XCTUnwrap(object["finishedRunIDs"] as? [String])
        XCTAssertEqual(entries.count, 1)
        XCTAssertFalse(monitor.runStarted(runID: String(entries[0]), host: "h", at: 300).isEmpty,
                       "a stored fingerprint is not mistaken for the run id it is spelled as")
    }

    func testRememberedRunsAreTheNewestSixtyFour() {
        var monitor = JobMonitor(spec: unscheduledJob(), firstSeen: 5)
        for i in 0..<70 { _ = monitor.run("run-\(i)", from: Int64(i) * 100, to: Int64(i) * 100 + 50) }
        XCTAssertFalse(monitor.runStarted(runID: "run-5", host: "h", at: 9_000).isEmpty, "forgotten: applied as new")
        XCTAssertTrue(monitor.runStarted(runID: "run-6", host: "h", at: 9_000).isEmpty, "still remembered")
    }

    func testRunRecordsRoundTripWithAndWithoutOptionalFields() throws {
        let bare = RunRecord(runID: "r", host: "h", startedAt: -5)
        let full = RunRecord(runID: "r\"2", host: "h\\", scheduledFor: 1, startedAt: 2, finishedAt: 3, durationMs: 4,
                             exitCode: -1, signal: 15, outcome: .lockLost, fence: Int64.max, outputTail: "\u{1F}")
        for run in [bare, full] {
            XCTAssertEqual(try JSONDecoder().decode(RunRecord.self, from: Data(run.json.utf8)), run)
        }
        XCTAssertEqual(bare.json, #"{"run_id":"r","host":"h","started_at":-5}"#)
    }
}
