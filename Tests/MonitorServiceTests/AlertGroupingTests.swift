import Foundation
import JobwatchTestSupport
import XCTest

/// Storm control end to end: a real jobmond, strict Slack and webhook receivers, a channel
/// allowed 2 messages per 4 s. Thirty jobs failing at once reach each channel as a few
/// messages that name every job exactly once; a failure after the storm is not stuck behind it.
final class AlertGroupingTests: XCTestCase {
    private let names = (1...30).map { String(format: "batch-%02d", $0) }

    /// The jobs a Slack message names: a digest lists them as `name`, a single alert in its text.
    private func named(in request: AlertReceivers.Request, among jobs: [String]) -> [String] {
        let text = String(decoding: (try? JSONSerialization.data(withJSONObject: request.body)) ?? Data(), as: UTF8.self)
        return jobs.filter { text.contains($0) }
    }

    private func webhookJobs(_ request: AlertReceivers.Request) -> [String] {
        let o = request.object
        if o["event"] as? String == "digest" { return o["jobs"] as? [String] ?? [] }
        return (o["job"] as? String).map { [$0] } ?? []
    }

    func testAStormArrivesAsDigestsNamingEveryJobOnceAndALaterFailureIsNotHeldUp() throws {
        var jobs = Dictionary(uniqueKeysWithValues: names.map { ($0, "{}\n") })
        jobs["other"] = "{}\n"
        let h = try MonitorHarness(jobs: jobs, defaultAlerts: ["slack", "hook"], grouping: "group_burst: 2, group_wait: 1s, group_interval: 4s")
        try h.start()
        for name in names {
            XCTAssertEqual(try h.request("POST", "/ping/\(name)/fail", token: "report-token").status, 202)
        }
        let all = names + ["other"]
        XCTAssertTrue(waitUntil(timeout: 30) {
            Set(h.receivers.requests("/slack").flatMap { self.named(in: $0, among: all) }) == Set(self.names)
                && Set(h.receivers.requests("/hook").flatMap(self.webhookJobs)) == Set(self.names)
        }, "every job reaches both channels")
        let slack = h.receivers.requests("/slack")
        XCTAssertEqual(slack.flatMap { named(in: $0, among: all) }.sorted(), names, "each job named once")
        XCTAssertLessThanOrEqual(slack.count, 5, "2 single alerts, then digests: \(slack.count) messages")
        XCTAssertTrue(slack.contains { ($0.object["text"] as? String)?.hasSuffix("jobs failed") == true }, "a digest")
        let hooks = h.receivers.requests("/hook")
        XCTAssertEqual(hooks.flatMap(webhookJobs).sorted(), names)
        XCTAssertLessThanOrEqual(hooks.count, 5)
        for r in h.receivers.requests {
            XCTAssertEqual(r.problems, [], "\(r.path) rejected")
            XCTAssertEqual(r.status / 100, 2)
        }

        // After the storm, an unrelated failure waits at most one window (4 s) for its turn.
        let sent = Date().timeIntervalSince1970
        XCTAssertEqual(try h.request("POST", "/ping/other/fail", token: "report-token").status, 202)
        XCTAssertTrue(waitUntil(timeout: 15) { h.receivers.requests("/slack").contains { self.named(in: $0, among: ["other"]) == ["other"] } })
        let arrived = try XCTUnwrap(h.receivers.requests("/slack").first { named(in: $0, among: ["other"]) == ["other"] }).time
        XCTAssertLessThan(arrived - sent, 4 + 3, "within group_interval, with room for a loaded machine")

        // Every alert is counted once, whichever message carried it.
        let lines = ["slack", "hook"].map { #"jobwatch_alerts_total{channel="\#($0)",kind="failed",result="sent"} 31"# }
        var metrics = ""
        XCTAssertTrue(waitUntil(timeout: 10) {
            metrics = (try? h.request("GET", "/metrics", token: nil).text) ?? ""
            return lines.allSatisfy { line in metrics.split(separator: "\n").contains { $0 == line } }
        }, "\(lines) in\n\(metrics)")
    }

    /// jobmond down for minutes: on its return one outage alert per channel, valid on each
    /// receiver, instead of one missed alert per job.
    func testAnOutageOfTheMonitorIsOneValidAlertPerChannel() throws {
        let jobs = Dictionary(uniqueKeysWithValues: ["tick", "tock"].map { ($0, "schedule: every 2s\ngrace: 1s\n") })
        let h = try MonitorHarness(jobs: jobs, defaultAlerts: ["pd", "slack", "hook"])
        try h.start()
        XCTAssertTrue(waitUntil(timeout: 10) { h.state("tick") != nil && h.state("tock") != nil })
        _ = h.stop()
        _ = try h.redis.cli("SET", "jw:mon:alive", String(Int64(Date().timeIntervalSince1970 * 1000) - 300_000))
        Thread.sleep(forTimeInterval: 3.5)
        let restarted = Date().timeIntervalSince1970
        try h.start()
        func text(_ r: AlertReceivers.Request) -> String {
            String(decoding: (try? JSONSerialization.data(withJSONObject: r.body)) ?? Data(), as: UTF8.self)
        }
        XCTAssertTrue(waitUntil(timeout: 10) {
            ["/pd", "/slack", "/hook"].allSatisfy { h.receivers.requests($0).contains { text($0).contains("jobmond was down") } }
        })
        for path in ["/pd", "/slack", "/hook"] {
            let requests = h.receivers.requests(path)
            XCTAssertEqual(requests.flatMap(\.problems), [], path)
            let outage = requests.filter { text($0).contains("jobmond was down") }
            XCTAssertEqual(outage.count, 1, "\(path): one outage alert")
            XCTAssertTrue(outage.allSatisfy { text($0).contains("jobmond was down 5 min") && text($0).contains("tick") && text($0).contains("tock") },
                          "\(path): \(outage.map(text))")
        }
        // Whatever else arrived is a miss after the monitor was back (tick and tock keep going
        // every 2 s), never one of the occurrences the outage alert stands for.
        let iso = ISO8601DateFormatter()
        for r in h.receivers.requests("/hook") where r.time >= restarted && r.object["event"] as? String == "trigger" {
            let occurrence = try XCTUnwrap((r.object["occurrence"] as? String).flatMap { iso.date(from: $0) })
            XCTAssertGreaterThan(occurrence.timeIntervalSince1970 + 1, restarted - 0.5, "\(r.object)")
        }
    }
}
