import Foundation
import JobwatchTestSupport
import XCTest

/// The status page in a real browser (Debian's chromium, headless) against a real jobmond with
/// real runs: it renders the jobs and their timeline, the browser reports no console error
/// and no Content-Security-Policy violation, and a screenshot is kept in
/// `.build/test-artifacts/status-page.png`.
final class StatusPageBrowserTests: XCTestCase {
    private func chromium(_ arguments: [String]) throws -> Command.Result {
        let binary = try XCTUnwrap(which("chromium"), "chromium missing: apt-get install chromium")
        let profile = try TemporaryDirectory.make(prefix: "chromium")
        return try Command.run([binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                "--user-data-dir=\(profile)", "--enable-logging=stderr", "--v=0"] + arguments, timeout: 90)
    }

    func testThePageRendersJobsAndRunsWithoutErrors() throws {
        // Scheduled, so the timeline has occurrences; real runs through jobrun claim them.
        let every = "schedule: every 1m\ngrace: 5m\n"
        let h = try MonitorHarness(jobs: ["nightly": every, "backup": every], defaultAlerts: [], publicStatusPage: true)
        try h.start()
        XCTAssertEqual(try h.jobrun("nightly", "exit 3").status, 3)
        XCTAssertEqual(try h.jobrun("backup", "true").status, 0)
        XCTAssertTrue(waitUntil(timeout: 10) { h.state("nightly") == "failed" && h.state("backup") == "up" })
        let url = "http://127.0.0.1:\(h.port)/"

        let dom = try chromium(["--dump-dom", url])
        XCTAssertEqual(dom.status, 0, dom.stderrText)
        let page = dom.stdoutText
        XCTAssertTrue(page.contains("<h1>Jobwatch</h1>"), "a heading")
        XCTAssertTrue(page.contains("lang=\"en\""))
        for job in ["nightly", "backup"] { XCTAssertTrue(page.contains("id=\"job-\(job)\""), "row of \(job)") }
        XCTAssertTrue(page.contains("<rect class=\"failed\""), "the failed run on the timeline: \(page.components(separatedBy: "id=\"job-nightly\"").last?.prefix(1500) ?? "")")
        XCTAssertTrue(page.contains("<span class=\"pill\">failed</span>"), "the state in words, not only colour")
        let problems = dom.stderrText.split(separator: "\n").filter {
            $0.contains("CONSOLE") || $0.contains("Refused to") || $0.contains("Uncaught")
        }
        XCTAssertEqual(problems, [], "console errors or CSP violations")

        let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let png = artifacts.appendingPathComponent("status-page.png").path
        try? FileManager.default.removeItem(atPath: png)
        let shot = try chromium(["--window-size=1280,800", "--screenshot=\(png)", url])
        XCTAssertEqual(shot.status, 0, shot.stderrText)
        let size = (try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
        XCTAssertGreaterThan(size, 10_000, "a rendered screenshot")
    }
}
