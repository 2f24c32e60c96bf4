import Foundation
import MonitorCore
import XCTest

/// SPEC §6 `resolve_after`: an open alert resolves only after that many consecutive
/// successful runs; in between the job is `recovering`.
final class RecoveryTests: XCTestCase {
    private func job(resolveAfter: Int, realertEvery: Int64? = nil) throws -> JobSpec {
        var spec = try tenSecondJob(realertEvery: realertEvery)
        spec.resolveAfter = resolveAfter
        return spec
    }

    func testResolveAfterTwoKeepsTheAlertOpenAfterOneSuccessAndResolvesAfterTwo() throws {
        var monitor = JobMonitor(spec: try job(resolveAfter: 2), firstSeen: 1_000)
        XCTAssertEqual(monitor.run("bad", from: 10_000, to: 11_000, outcome: .failure, exitCode: 1).raised.map(\.kind), [.failed])
        let first = monitor.run("good-1", from: 20_000, to: 21_000)
        XCTAssertEqual(first.alerts, 0, "one success of two: the alert stays open")
        XCTAssertEqual(first.changes.map(\.to), [.recovering])
        XCTAssertEqual(monitor.state(at: 21_000), .recovering)
        XCTAssertEqual(monitor.incident?.kind, .failed)
        let second = monitor.run("good-2", from: 30_000, to: 31_000)
        XCTAssertEqual(second.resolved.map(\.kind), [.failed])
        XCTAssertEqual(second.resolved.first?.lastRun?.runID, "good-2")
        XCTAssertEqual(monitor.state(at: 31_000), .up)
    }

    func testAFailureWhileRecoveringGoesBackWithoutANewPageAndCountsAgain() throws {
        var monitor = JobMonitor(spec: try job(resolveAfter: 2), firstSeen: 1_000)
        _ = monitor.run("bad", from: 10_000, to: 11_000, outcome: .failure, exitCode: 1)
        _ = monitor.run("good-1", from: 20_000, to: 21_000)
        let relapse = monitor.run("bad-again", from: 30_000, to: 31_000, outcome: .failure, exitCode: 1)
        XCTAssertEqual(relapse.alerts, 0, "the incident is still open: no second page")
        XCTAssertEqual(monitor.state(at: 31_000), .failed)
        XCTAssertEqual(monitor.run("good-2", from: 40_000, to: 41_000).alerts, 0, "counting starts over")
        XCTAssertEqual(monitor.run("good-3", from: 50_000, to: 51_000).resolved.count, 1)
    }

    func testAMissWhileRecoveringGoesBackToMissed() throws {
        var monitor = JobMonitor(spec: try job(resolveAfter: 3), firstSeen: 1_000)
        _ = monitor.deadlinePassed(now: 15_000)
        _ = monitor.run("good-1", from: 20_000, to: 21_000, scheduledFor: 20_000)
        XCTAssertEqual(monitor.state(at: 22_000), .recovering)
        XCTAssertEqual(monitor.deadlinePassed(now: 35_000).alerts, 0)
        XCTAssertEqual(monitor.state(at: 35_000), .missed)
    }

    func testRecoveringSurvivesARestartAndTheDefaultResolvesAtOnce() throws {
        var monitor = JobMonitor(spec: try job(resolveAfter: 3), firstSeen: 1_000)
        _ = monitor.run("bad", from: 10_000, to: 11_000, outcome: .failure, exitCode: 1)
        _ = monitor.run("good-1", from: 20_000, to: 21_000)
        _ = monitor.run("good-2", from: 30_000, to: 31_000)
        var restored = try JSONDecoder().decode(JobMonitor.self, from: Data(monitor.json.utf8))
        XCTAssertEqual(restored, monitor)
        XCTAssertEqual(restored.condition, monitor.condition)
        XCTAssertEqual(restored.run("good-3", from: 40_000, to: 41_000).resolved.count, 1)

        var plain = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        _ = plain.run("bad", from: 10_000, to: 11_000, outcome: .failure, exitCode: 1)
        XCTAssertEqual(plain.run("good", from: 20_000, to: 21_000).resolved.count, 1)
    }
}
