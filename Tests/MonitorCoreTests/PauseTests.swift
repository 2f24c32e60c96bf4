import MonitorCore
import XCTest

final class PauseTests: XCTestCase {
    func testPausedJobNeverAlertsAndOccurrencesDuringThePauseAreExcused() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        let pause = monitor.paused(until: nil, now: 2_000)
        XCTAssertEqual(pause.changes.map(\.to), [.paused])
        XCTAssertTrue(pause.contains(.scheduleDeadline(at: nil)))
        XCTAssertEqual(monitor.deadlinePassed(now: 100_000).alerts, 0)
        XCTAssertEqual(monitor.run("r1", from: 30_000, to: 31_000, outcome: .failure, exitCode: 1).alerts, 0)
        let resume = monitor.resumed(now: 101_000)
        XCTAssertEqual(resume.changes.map(\.to), [.up])
        XCTAssertEqual(monitor.expectedOccurrence, 110_000)
        XCTAssertEqual(monitor.nextDeadline, 115_000)
        XCTAssertEqual(monitor.resumed(now: 102_000), [], "resuming twice")
    }

    func testOpenIncidentStaysOpenButSilentWhilePaused() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(realertEvery: 30_000), firstSeen: 1_000)
        _ = monitor.deadlinePassed(now: 15_000)
        _ = monitor.paused(until: nil, now: 16_000)
        XCTAssertNotNil(monitor.incident)
        XCTAssertEqual(monitor.state(at: 16_000), .paused)
        XCTAssertEqual(monitor.deadlinePassed(now: 45_000).alerts, 0)
        let resume = monitor.resumed(now: 100_000)
        XCTAssertEqual(resume.changes.map(\.to), [.missed])
        XCTAssertEqual(monitor.deadlinePassed(now: 129_999).repeated.count, 0)
        XCTAssertEqual(monitor.deadlinePassed(now: 130_000).repeated.count, 1)
    }

    func testSuccessDuringPauseStillResolves() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        _ = monitor.deadlinePassed(now: 15_000)
        _ = monitor.paused(until: nil, now: 16_000)
        XCTAssertEqual(monitor.run("r1", from: 17_000, to: 18_000).resolved.count, 1)
    }

    func testPauseUntilEndsByItself() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        let pause = monitor.paused(until: 50_000, now: 2_000)
        XCTAssertTrue(pause.contains(.scheduleDeadline(at: 50_000)))
        XCTAssertEqual(monitor.state(at: 49_999), .paused)
        XCTAssertEqual(monitor.state(at: 50_000), .new)
        let end = monitor.deadlinePassed(now: 50_000)
        XCTAssertEqual(end.changes.map(\.to), [.new])
        XCTAssertNil(monitor.pause)
        XCTAssertEqual(monitor.nextDeadline, 65_000)
        XCTAssertEqual(monitor.deadlinePassed(now: 65_000).raised.first?.occurrence, 60_000)
    }

    func testPauseUntilInThePastChangesNothing() throws {
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        XCTAssertEqual(monitor.paused(until: 1_500, now: 2_000), [])
        XCTAssertNil(monitor.pause)
    }

    func testRunThatOverranDuringThePauseAlertsWhenItEnds() {
        var monitor = JobMonitor(spec: unscheduledJob(maxRuntime: 10_000), firstSeen: 0)
        _ = monitor.runStarted(runID: "r1", host: "web1", at: 0)
        _ = monitor.paused(until: 60_000, now: 1_000)
        XCTAssertEqual(monitor.deadlinePassed(now: 10_000).alerts, 0)
        XCTAssertEqual(monitor.deadlinePassed(now: 60_000).raised.map(\.kind), [.overdue])
    }

    func testRunThatOverranDuringAnOpenEndedPauseIsDueOnResume() {
        var monitor = JobMonitor(spec: unscheduledJob(maxRuntime: 10_000), firstSeen: 0)
        _ = monitor.runStarted(runID: "r1", host: "web1", at: 0)
        _ = monitor.paused(until: nil, now: 1_000)
        XCTAssertTrue(monitor.resumed(now: 60_000).contains(.scheduleDeadline(at: 10_000)), "due at once")
        XCTAssertEqual(monitor.deadlinePassed(now: 60_001).raised.map(\.kind), [.overdue])
    }
}
