import Foundation
import JobwatchTestSupport
import XCTest

/// `retries` and `output_rules` end to end: real jobrun, jobmond, Redis and alert receivers.
final class RunRulesAlertTests: XCTestCase {
    private func runs(_ h: MonitorHarness, _ job: String) throws -> [[String: Any]] {
        try h.json("/api/v1/jobs/\(job)/runs")["runs"] as? [[String: Any]] ?? []
    }

    func testARunThatSucceedsOnItsThirdAttemptIsOneSuccessAndAlertsNoOne() throws {
        let h = try MonitorHarness(jobs: ["flaky": "retries: 2\nretry_delay: 1s\n"], defaultAlerts: ["pd", "slack", "hook"])
        try h.start()
        let counter = h.root + "/count"
        let r = try h.jobrun("flaky", "n=$(cat \(counter) 2>/dev/null || echo 0); n=$((n+1)); echo $n > \(counter); [ $n -ge 3 ] || exit 1")
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertTrue(waitUntil(timeout: 10) { (try? self.runs(h, "flaky"))?.first?["outcome"] as? String == "success" })
        let all = try runs(h, "flaky")
        XCTAssertEqual(all.count, 1, "one run, however many attempts")
        XCTAssertEqual(all[0]["attempts"] as? Int, 3)
        XCTAssertEqual(all[0]["attempt_exit_codes"] as? [Int], [1, 1, 0])
        XCTAssertTrue(all[0]["reason"] is NSNull)
        XCTAssertEqual(h.state("flaky"), "up")
        XCTAssertTrue(h.job("flaky")?["alert"] is NSNull, "only the last attempt counts: no incident")
        XCTAssertEqual(h.receivers.requests.count, 0)
        let history = try h.jobctl(["history", "flaky"])
        XCTAssertEqual(history.status, 0, history.stderrText)
        XCTAssertTrue(history.stdoutText.contains("success, 3 attempts (1,1,0)"), history.stdoutText)
    }

    func testAFailIfLineTurnsAnExitZeroRunIntoAFailureWhoseAlertQuotesIt() throws {
        let h = try MonitorHarness(jobs: ["export": "output_rules:\n  fail_if: [\"^ERROR\"]\n"], defaultAlerts: ["pd", "slack", "hook"])
        try h.start()
        // A hostile line: Slack must show it, not act on it.
        let r = try h.jobrun("export", "echo starting; echo 'ERROR: disk full <!channel>'; exit 0")
        XCTAssertEqual(r.status, 0, r.stderrText)
        let reason = "fail_if \"^ERROR\" matched line 2: ERROR: disk full <!channel>"
        XCTAssertTrue(waitUntil(timeout: 10) { h.receivers.requests("/pd").count == 1 && h.receivers.requests("/slack").count == 1
                                               && h.receivers.requests("/hook").count == 1 })
        let payload = try XCTUnwrap(h.receivers.requests("/pd")[0].object["payload"] as? [String: Any])
        XCTAssertEqual(payload["summary"] as? String, "export failed on web1: \(reason)")
        XCTAssertEqual((payload["custom_details"] as? [String: Any])?["reason"] as? String, reason)
        let slack = h.receivers.requests("/slack")[0].object
        XCTAssertEqual(slack["text"] as? String, "export failed on web1: fail_if \"^ERROR\" matched line 2: ERROR: disk full &lt;!channel&gt;")
        let hook = h.receivers.requests("/hook")[0].object
        XCTAssertEqual((hook["run"] as? [String: Any])?["reason"] as? String, reason)
        XCTAssertEqual((hook["run"] as? [String: Any])?["exit_code"] as? Int, 0)
        for request in h.receivers.requests where !request.problems.isEmpty { XCTFail("\(request.path): \(request.problems)") }

        let run = try XCTUnwrap(try runs(h, "export").first)
        XCTAssertEqual(run["outcome"] as? String, "failure")
        XCTAssertEqual(run["exit_code"] as? Int, 0)
        XCTAssertEqual(run["reason"] as? String, reason)
        let history = try h.jobctl(["history", "export"])
        XCTAssertTrue(history.stdoutText.contains("\(run["run_id"] as? String ?? "?"): \(reason)"), history.stdoutText)
    }

    func testAFinishReportedOverHTTPCarriesAttemptsAndReason() throws {
        let h = try MonitorHarness(jobs: ["viahttp": "{}\n"], defaultAlerts: ["hook"])
        try h.start()
        let body = #"{"host":"web3","exit_code":0,"outcome":"failure","attempts":2,"attempt_exit_codes":[4,0],"reason":"require \"done\" matched none of 3 line(s)"}"#
        let r = try h.request("POST", "/api/v1/jobs/viahttp/runs/r-http-1/finish", token: "report-token", body: Array(body.utf8))
        XCTAssertEqual(r.status, 202, r.text)
        XCTAssertTrue(waitUntil(timeout: 10) { (try? self.runs(h, "viahttp"))?.isEmpty == false })
        let run = try XCTUnwrap(try runs(h, "viahttp").first)
        XCTAssertEqual(run["attempt_exit_codes"] as? [Int], [4, 0])
        XCTAssertEqual(run["reason"] as? String, "require \"done\" matched none of 3 line(s)")
        let bad = try h.request("POST", "/api/v1/jobs/viahttp/runs/r-http-2/finish", token: "report-token",
                                body: Array(#"{"host":"web3","attempt_exit_codes":[1,"x"]}"#.utf8))
        XCTAssertEqual(bad.status, 400, bad.text)
    }
}
