import CronSchedule
import Foundation
import JobwatchCore
import MonitorCore
import XCTest

/// SPEC §6 maintenance windows: problems inside are recorded, not alerted; one still open at
/// the window's end is alerted then.
final class MaintenanceTests: XCTestCase {
    private let hour: Int64 = 3_600_000

    /// Daily at 03:00 UTC with 5 minutes' grace, inside a window from 02:00 to 04:00.
    private func nightly() throws -> JobSpec {
        JobSpec(name: "db-backup", schedule: try Schedule("0 3 * * *", timeZone: "UTC"), timezone: "UTC", grace: 300_000,
                realertEvery: 4 * 3_600_000, channels: ["pd"],
                maintenance: [.init(schedule: try Schedule("0 2 * * *", timeZone: "UTC"), duration: 2 * 3_600_000)])
    }

    func testAMissInsideAWindowIsRecordedButNotAlertedAndStillMissedAtTheEndAlertsThen() throws {
        let day = ms("2026-12-07T00:00:00Z")
        var monitor = JobMonitor(spec: try nightly(), firstSeen: day)
        XCTAssertEqual(monitor.nextDeadline, day + 3 * hour + 300_000)
        let missed = monitor.deadlinePassed(now: day + 3 * hour + 300_000)
        XCTAssertEqual(missed.alerts, 0, "inside the window: no page")
        XCTAssertEqual(missed.changes.map(\.to), [.missed], "but the state is recorded")
        XCTAssertEqual(monitor.state(at: day + 3 * hour + 300_000), .missed)
        XCTAssertEqual(monitor.incident?.inhibitedBy, JobMonitor.inMaintenance)
        XCTAssertEqual(monitor.nextDeadline, day + 4 * hour, "a deadline at the window's end")

        let end = monitor.deadlinePassed(now: day + 4 * hour)
        XCTAssertEqual(end.raised.map(\.kind), [.missed])
        XCTAssertEqual(end.raised.first?.occurrence, day + 3 * hour)
        XCTAssertNil(end.raised.first?.inhibitedBy)
        XCTAssertNil(monitor.maintenanceUntil)
        XCTAssertEqual(monitor.run("late", from: day + 5 * hour, to: day + 5 * hour + 1_000).resolved.count, 1,
                       "paged at the end, so its resolve is sent")
    }

    func testAProblemResolvedInsideTheWindowSendsNothingAtAll() throws {
        let day = ms("2026-12-07T00:00:00Z")
        var monitor = JobMonitor(spec: try nightly(), firstSeen: day)
        _ = monitor.deadlinePassed(now: day + 3 * hour + 300_000)
        let fixed = monitor.run("rerun", from: day + 3 * hour + 1_800_000, to: day + 3 * hour + 1_900_000)
        XCTAssertEqual(fixed.alerts, 0)
        XCTAssertEqual(fixed.changes.last?.to, .up)
        XCTAssertEqual(monitor.deadlinePassed(now: day + 4 * hour).alerts, 0)
        XCTAssertNil(monitor.maintenanceUntil)
    }

    func testAFailureOutsideTheWindowAlertsAsUsualAndOneInsideWaits() throws {
        let day = ms("2026-12-07T00:00:00Z")
        var monitor = JobMonitor(spec: try nightly(), firstSeen: day)
        XCTAssertEqual(monitor.run("noon", from: day + 12 * hour, to: day + 12 * hour + 1_000, outcome: .failure,
                                   exitCode: 1).raised.count, 1)
        _ = monitor.run("fix", from: day + 13 * hour, to: day + 13 * hour + 1_000)
        let inside = monitor.run("night", from: day + 27 * hour, to: day + 27 * hour + 1_000, outcome: .failure, exitCode: 1,
                                 scheduledFor: day + 27 * hour)
        XCTAssertEqual(inside.alerts, 0)
        XCTAssertEqual(monitor.state(at: day + 27 * hour + 1_000), .failed)
        XCTAssertEqual(monitor.deadlinePassed(now: day + 28 * hour).raised.map(\.kind), [.failed])
    }

    func testHeldIncidentSurvivesARestart() throws {
        let day = ms("2026-12-07T00:00:00Z")
        var monitor = JobMonitor(spec: try nightly(), firstSeen: day)
        _ = monitor.deadlinePassed(now: day + 3 * hour + 300_000)
        var restored = try JSONDecoder().decode(JobMonitor.self, from: Data(monitor.json.utf8))
        XCTAssertEqual(restored, monitor)
        XCTAssertEqual(restored.deadlinePassed(now: day + 4 * hour).raised.count, 1)
    }

    func testAFleetWindowWithTagsCoversOnlyJobsCarryingOne() throws {
        let fleet = [MaintenanceWindow(schedule: "0 3 * * 0", duration: Timespan(seconds: 3600), tags: ["db"]),
                     MaintenanceWindow(schedule: "0 4 * * 0", duration: Timespan(seconds: 600))]
        var db = JobDefinition(name: "db-backup", timezone: "Europe/Dublin")
        db.tags = ["db", "nightly"]
        let web = JobDefinition(name: "web-cache", timezone: "Europe/Dublin")
        let dbSpec = JobSpec(db, defaultChannels: [], fleetMaintenance: fleet, fleetTimezone: "UTC")
        let webSpec = JobSpec(web, defaultChannels: [], fleetMaintenance: fleet, fleetTimezone: "UTC")
        XCTAssertEqual(dbSpec.maintenance.map(\.schedule.expression), ["0 3 * * 0", "0 4 * * 0"])
        XCTAssertEqual(webSpec.maintenance.map(\.schedule.expression), ["0 4 * * 0"], "no tags: every job")
        XCTAssertEqual(dbSpec.maintenance.first?.schedule.timeZoneID, "UTC", "fleet windows run in the global zone")
        let sunday = ms("2026-12-06T03:30:00Z")
        XCTAssertEqual(dbSpec.maintenanceEnd(covering: sunday), ms("2026-12-06T04:00:00Z"))
        XCTAssertNil(webSpec.maintenanceEnd(covering: sunday))
    }
}
