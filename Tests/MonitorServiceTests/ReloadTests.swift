import Foundation
import JobwatchTestSupport
import XCTest

/// SIGHUP reloads the `monitor:` section for everything that routes alerts, not only for
/// delivery: a channel added by a reload gets its jobs' alerts without a restart.
final class ReloadTests: XCTestCase {
    func testAChannelAddedBySIGHUPReceivesTheAlertsOfItsJobs() throws {
        let h = try MonitorHarness(jobs: ["nightly": "{}\n"], defaultAlerts: ["pd"])
        try h.start()
        func schedule() -> String? {
            guard let r = try? h.request("GET", "/api/v1/jobs/nightly"), r.status == 200 else { return nil }
            return ((try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any])?["schedule"] as? String
        }
        XCTAssertTrue(waitUntil(timeout: 10) { (try? h.request("GET", "/api/v1/jobs/nightly").status) == 200 })

        let config = try String(contentsOfFile: h.configPath, encoding: .utf8)
        let added = "    hook2: { type: webhook, url: http://127.0.0.1:\(h.receivers.port)/hook }\n  default_alerts: [pd, hook2]"
        XCTAssertTrue(config.contains("  default_alerts: [pd]"))
        try h.write(config.replacingOccurrences(of: "  default_alerts: [pd]", with: added), to: "jobwatch.yaml")
        // The job file changes too: its new schedule shows when the leader has re-read the definitions.
        try h.write("schedule: \"0 3 * * *\"\n", to: "jobs.d/nightly.yaml")
        h.daemon?.signal(SIGHUP)
        XCTAssertTrue(waitUntil(timeout: 10) { schedule() == "0 3 * * *" }, "reloaded: \(schedule() ?? "nil")")

        XCTAssertEqual(try h.request("POST", "/ping/nightly/fail", token: "report-token").status, 202)
        XCTAssertTrue(waitUntil(timeout: 10) {
            h.receivers.requests("/hook").contains { $0.object["job"] as? String == "nightly" && $0.object["event"] as? String == "trigger" }
        }, "the new channel got the alert")
        XCTAssertEqual(h.receivers.requests("/hook").flatMap(\.problems), [])
        XCTAssertTrue(waitUntil(timeout: 10) { h.receivers.requests("/pd").count == 1 }, "the old channel too, once")
    }
}
