import CronSchedule
import Foundation
import MonitorCore
import XCTest

/// SPEC §6: with `jitter`, the monitor expects each start by scheduled + offset + grace, and
/// the job is late only after scheduled + offset.
final class JitterDeadlineTests: XCTestCase {
    private let grace: Int64 = 5_000
    private let jitter = Jitter(job: "heartbeat", seconds: 50)

    private func spec() throws -> JobSpec {
        JobSpec(name: "heartbeat", schedule: try Schedule("every 1m", timeZone: "UTC"), timezone: "UTC",
                grace: grace, channels: ["pd-ops"], jitter: jitter)
    }

    /// The first minute with an offset of at least 10 s, and a monitor that first saw the job
    /// just before it: the jittered start is clearly apart from the scheduled time.
    private func awaiting() throws -> (monitor: JobMonitor, occurrence: Int64, start: Int64) {
        let minute = try XCTUnwrap((1...100).map { Int64($0) * 60 }.first { jitter.offset(of: $0) >= 10 })
        let monitor = JobMonitor(spec: try spec(), firstSeen: (minute - 30) * 1000)
        return (monitor, minute * 1000, (minute + jitter.offset(of: minute)) * 1000)
    }

    func testDeadlineIsScheduledPlusOffsetPlusGrace() throws {
        let (monitor, occurrence, start) = try awaiting()
        XCTAssertEqual(monitor.expectedOccurrence, occurrence)
        XCTAssertEqual(monitor.nextDeadline, start + grace)
        XCTAssertEqual(try spec().expectedStart(of: occurrence), start)
        XCTAssertEqual(try spec().startDeadline(of: occurrence), start + grace)
    }

    func testLateOnlyAfterTheJitteredStart() throws {
        let (monitor, occurrence, start) = try awaiting()
        XCTAssertEqual(monitor.state(at: occurrence), .new, "before its offset the job is not late yet")
        XCTAssertEqual(monitor.state(at: start - 1), .new)
        XCTAssertEqual(monitor.state(at: start), .late)
    }

    func testAStartInsideTheJitteredGraceIsNotMissed() throws {
        var (monitor, occurrence, start) = try awaiting()
        // No scheduled_for (a ping, a host without the job file): the window is jitter-aware too.
        let actions = monitor.runStarted(runID: "r1", host: "web1", at: start + grace)
        XCTAssertEqual(actions.changes.map(\.to), [.running])
        XCTAssertEqual(monitor.runningRuns["r1"]?.scheduledFor, occurrence)
        XCTAssertEqual(monitor.deadlinePassed(now: start + grace).alerts, 0)
        XCTAssertNil(monitor.incident)
    }

    func testNoStartByTheJitteredDeadlineIsMissed() throws {
        var (monitor, occurrence, start) = try awaiting()
        XCTAssertEqual(monitor.deadlinePassed(now: start + grace - 1).alerts, 0)
        let actions = monitor.deadlinePassed(now: start + grace)
        XCTAssertEqual(actions.raised.map(\.kind), [.missed])
        XCTAssertEqual(actions.raised.first?.occurrence, occurrence)
        XCTAssertEqual(actions.raised.first?.reason, "no start by \(rfc3339((start + grace) / 1000, timeZone: "UTC"))")
        // Watching moves on to the next minute, due at its own offset.
        let next = occurrence + 60_000
        XCTAssertEqual(monitor.expectedOccurrence, next)
        XCTAssertEqual(monitor.nextDeadline, try spec().startDeadline(of: next))
        // A start after the deadline is outside every window: it claims no occurrence.
        _ = monitor.runStarted(runID: "late", host: "web1", at: start + grace + 1)
        XCTAssertNil(monitor.runningRuns["late"]?.scheduledFor)
    }

    func testTheMissedAlertSaysWhenTheJitteredStartWasDue() throws {
        var (monitor, occurrence, start) = try awaiting()
        let incident = try XCTUnwrap(monitor.deadlinePassed(now: start + grace).raised.first)
        let event = PagerDutyEvent(.trigger, incident, spec: try spec(), routingKey: "R0UT1NG",
                                   context: AlertContext(statusPageURL: "https://jobs.example.com/", monitorHost: "jobmond-1"))
        let body = try JSONSerialization.jsonObject(with: JSONEncoder().encode(event)) as? [String: Any]
        // Times of day as alerts write them: seconds only when they are not zero.
        func time(_ ms: Int64, _ length: Int) -> String { String(rfc3339(ms / 1000, timeZone: "UTC").dropFirst(11).prefix(length)) }
        XCTAssertEqual((body?["payload"] as? [String: Any])?["summary"] as? String,
                       "heartbeat missed its \(time(occurrence, 5)) UTC run (due \(time(start, 8)) by its jitter, grace 5s)")
    }

    func testAfterDowntimeWatchingResumesAtTheFirstOccurrenceStillDue() throws {
        var (monitor, occurrence, _) = try awaiting()
        let now = occurrence + 10 * 60_000 + 3_000
        _ = monitor.deadlinePassed(now: now)
        let spec = try spec()
        let resumed = try XCTUnwrap(monitor.expectedOccurrence)
        XCTAssertGreaterThan(spec.startDeadline(of: resumed), now)
        XCTAssertLessThanOrEqual(spec.startDeadline(of: resumed - 60_000), now)
    }

    func testJitterSurvivesTheStoredState() throws {
        let (monitor, _, _) = try awaiting()
        let decoded = try JSONDecoder().decode(JobMonitor.self, from: Data(monitor.json.utf8))
        XCTAssertEqual(decoded.spec, monitor.spec)
        XCTAssertEqual(decoded.spec.jitter, jitter)
    }
}
