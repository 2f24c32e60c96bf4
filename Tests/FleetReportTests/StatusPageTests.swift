import FleetReport
import Foundation
import MonitorCore
import XCTest

final class StatusPageTests: XCTestCase {
    private let now = ms("2026-03-30T09:00:00Z")

    func testFiftyJobsAreSmallAndScriptFree() throws {
        let page = statusPage(jobs: statusFleet(50, now: now), now: now, publicURL: "https://jobs.example.com")
        XCTAssertLessThan(page.utf8.count, 200_000)
        XCTAssertFalse(page.lowercased().contains("<script"))
        XCTAssertFalse(page.contains("src=\"http"), "no external assets")
        for i in 0..<50 { XCTAssertTrue(page.contains("<tr id=\"job-job-\(i)-"), "row \(i)") }
        // Problem jobs come first.
        let failed = page.range(of: "class=\"s-failed\"")!.lowerBound
        let up = page.range(of: "<tr id=\"job-job-0-backup\" class=\"s-up\"")!.lowerBound
        XCTAssertLessThan(failed, up)
        XCTAssertTrue(page.contains("<title>"))
        // Writes the fixture for scripts/screenshot-status-page.
        if let path = ProcessInfo.processInfo.environment["STATUS_PAGE_OUT"] {
            try page.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    func testEverythingUserWrittenIsEscaped() {
        let s = spec("x\"><script>alert(1)</script>", "0 * * * *")
        let bad = runRecord("r1", at: now - hour, for: 1000, .failure, host: "<b>host</b>", output: "ok\n<img src=x onerror=alert(2)>")
        let row = StatusRow(spec: s, state: .failed, lastRun: bad, nextExpected: now + hour, runs: [bad], changes: [])
        let page = statusPage(jobs: [row], now: now, publicURL: "https://x.example/?a=1&b=\"2\"")
        XCTAssertFalse(page.lowercased().contains("<script"))
        XCTAssertFalse(page.contains("<img"))
        XCTAssertFalse(page.contains("<b>host"))
        XCTAssertTrue(page.contains("id=\"job-x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""))
        XCTAssertTrue(page.contains("&lt;img src=x onerror=alert(2)&gt;"))
        XCTAssertTrue(page.contains("href=\"https://x.example/?a=1&amp;b=&quot;2&quot;\""))
    }

    /// SPEC §6: a flapping job says so next to its state; SPEC §6's states get their own pill.
    func testFlappingJobsAreMarkedAndNewStatesShown() {
        let flappy = StatusRow(spec: spec("flappy", "0 * * * *"), state: .recovering, lastRun: nil, nextExpected: nil,
                               runs: [], changes: [], flapping: true)
        let steady = StatusRow(spec: spec("steady", "0 * * * *"), state: .slow, lastRun: nil, nextExpected: nil,
                               runs: [], changes: [])
        let page = statusPage(jobs: [flappy, steady], now: now, publicURL: nil)
        XCTAssertEqual(page.components(separatedBy: ">flapping</span>").count - 1, 1, "only the flapping job")
        XCTAssertTrue(page.contains("<tr id=\"job-flappy\" class=\"s-recovering\"><td><span class=\"pill\">recovering</span> "))
        XCTAssertTrue(page.contains("class=\"s-slow\"><td><span class=\"pill\">slow</span></td>"))
    }

    func testTimelineShowsEachOccurrenceOutcome() {
        let s = spec("daily", "0 6 * * *", zone: "UTC")
        let day: Int64 = 24 * hour
        let first = ms("2026-03-24T06:00:00Z")
        let runs = [
            runRecord("ok", at: first + 2_000, for: 1000, scheduledFor: first),
            runRecord("late", at: first + day + 5 * minute, for: 1000, scheduledFor: first + day),
            runRecord("bad", at: first + 2 * day + 1_000, for: 1000, .failure, scheduledFor: first + 2 * day),
        ]
        let row = StatusRow(spec: s, state: .missed, lastRun: runs.last, nextExpected: nil, runs: runs, changes: [])
        let page = statusPage(jobs: [row], now: now, publicURL: nil)
        XCTAssertEqual(page.components(separatedBy: "<rect class=\"ran\"").count - 1, 1)
        XCTAssertEqual(page.components(separatedBy: "<rect class=\"late\"").count - 1, 1)
        XCTAssertEqual(page.components(separatedBy: "<rect class=\"failed\"").count - 1, 1)
        // 27th, 28th, 29th and 30th March 06:00 had no run.
        XCTAssertEqual(page.components(separatedBy: "<rect class=\"missed\"").count - 1, 4)
        XCTAssertTrue(page.contains("<title>missed 2026-03-27 06:00</title>"))
    }

    func testAJobWithoutScheduleShowsItsRunsAndNoMisses() {
        let s = spec("adhoc", nil, zone: "UTC")
        let runs = [runRecord("ok", at: now - 3 * 24 * hour, for: 1000), runRecord("bad", at: now - hour, for: 1000, .failure)]
        let row = StatusRow(spec: s, state: .failed, lastRun: runs.last, nextExpected: nil, runs: runs, changes: [])
        let page = statusPage(jobs: [row], now: now, publicURL: nil)
        XCTAssertEqual(page.components(separatedBy: "<rect class=\"ran\"").count - 1, 1)
        XCTAssertEqual(page.components(separatedBy: "<rect class=\"failed\"").count - 1, 1)
        XCTAssertFalse(page.contains("<rect class=\"missed\""), "nothing was expected")
    }

    func testThousandJobsRenderQuickly() {
        let fleet = statusFleet(1000, now: now)
        let start = Date()
        let page = statusPage(jobs: fleet, now: now, publicURL: nil)
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(page.components(separatedBy: "<tr id=").count - 1, 1000)
        // The 100 ms target is for release builds; debug builds get headroom.
        XCTAssertLessThan(elapsed, 2.0, "took \(elapsed)s")
        print("status page: 1000 jobs in \(Int(elapsed * 1000)) ms, \(page.utf8.count / 1024) KiB")
    }
}
