import Foundation
@testable import MonitorService
import XCTest

/// What a lane sends for what waited in it, without a network.
final class AlertDigestTests: XCTestCase {
    private let slack = AlertDigest.Grouping(kind: .slack, burst: 10, intervalMs: 30_000)
    private let hook = AlertDigest.Grouping(kind: .webhook, burst: 10, intervalMs: 30_000)
    private var serial = 0

    private func entry(_ job: String, _ event: String = "trigger", kind: String = "missed", host: String = "") -> OutboxEntry {
        serial += 1
        let body = #"{"event":"\#(event)","job":"\#(job)","state":"\#(kind)","previous_state":"up","occurrence":null,"run":null,"monitor_url":null}"#
        return OutboxEntry(StreamEntry(id: "1-\(serial)", fields: ["channel": "c", "job": job, "event": event, "kind": kind, "host": host, "body": body]))
    }

    func testOneAlertOrAnUngroupedChannelSendsEachAlone() {
        let one = AlertDigest.messages([entry("a")], grouping: slack, statusPageURL: nil)
        XCTAssertEqual(one.map(\.body), [one[0].entries[0].body])
        let many = [entry("a"), entry("b")]
        XCTAssertEqual(AlertDigest.messages(many, grouping: nil, statusPageURL: nil).map(\.jobs), [["a"], ["b"]])
        let pd = AlertDigest.Grouping(kind: .pagerduty, burst: 10, intervalMs: 1000)
        XCTAssertEqual(AlertDigest.messages(many, grouping: pd, statusPageURL: nil).count, 2)
    }

    func testDigestsPerKindAndEventKeepEachJobsOrder() {
        let waiting = [entry("a"), entry("b"), entry("c", kind: "failed"), entry("a", "resolve"), entry("d")]
        let messages = AlertDigest.messages(waiting, grouping: hook, statusPageURL: nil)
        // a's resolve starts a second round, so it goes after the digest that carries a's trigger.
        XCTAssertEqual(messages.map(\.jobs), [["a", "b"], ["c"], ["a"], ["d"]])
        let first = try? JSONSerialization.jsonObject(with: Data(messages[0].body!.utf8)) as? [String: Any]
        XCTAssertEqual(first?["event"] as? String, "digest")
        XCTAssertEqual(first?["alert_event"] as? String, "trigger")
        XCTAssertEqual(first?["jobs"] as? [String], ["a", "b"])
        XCTAssertEqual((first?["alerts"] as? [[String: Any]])?.compactMap { $0["job"] as? String }, ["a", "b"])
    }

    func testASlackDigestOfThousandsStaysWithinBlockKitLimitsAndNamesEveryJobOnce() throws {
        let jobs = (0..<10_000).map { "warehouse-export-\($0)" }
        let messages = AlertDigest.messages(jobs.map { entry($0) }, grouping: slack, statusPageURL: "https://jobs.example.com")
        XCTAssertGreaterThan(messages.count, 1)
        XCTAssertLessThanOrEqual(messages.count, 3, "10,000 names in at most three messages")
        var named: [String] = []
        for message in messages {
            let body = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(message.body!.utf8)) as? [String: Any])
            let blocks = try XCTUnwrap(body["blocks"] as? [[String: Any]])
            XCTAssertLessThanOrEqual(blocks.count, 50)
            for block in blocks where block["type"] as? String == "section" {
                let text = try XCTUnwrap((block["text"] as? [String: Any])?["text"] as? String)
                XCTAssertLessThanOrEqual(text.count, 3000)
                named += text.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " `")) }
            }
            XCTAssertEqual(message.jobs.count, Set(message.jobs).count)
        }
        XCTAssertEqual(named, jobs)
        XCTAssertTrue((messages[0].body ?? "").contains("10000 jobs missed their run (part 1 of"))
    }

    func testWebhookDigestsCarryAtMostFiveHundredAlerts() {
        let messages = AlertDigest.messages((0..<1_200).map { entry("j\($0)") }, grouping: hook, statusPageURL: nil)
        XCTAssertEqual(messages.map(\.entries.count), [500, 500, 200])
    }

    /// `group_by: [host]`: one digest per host, whatever the kinds; `[]`: one per event.
    func testGroupByHostOrNothingSplitsDigestsThatWay() throws {
        let waiting = [entry("a", host: "db1"), entry("b", kind: "failed", host: "db1"), entry("c", host: "web<!here>"),
                       entry("d", host: "web<!here>")]
        let byHost = AlertDigest.Grouping(kind: .slack, burst: 10, intervalMs: 30_000, groupBy: [.host])
        let messages = AlertDigest.messages(waiting, grouping: byHost, statusPageURL: nil)
        XCTAssertEqual(messages.map(\.jobs), [["a", "b"], ["c", "d"]])
        let second = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(messages[1].body!.utf8)) as? [String: Any])
        XCTAssertEqual(second["text"] as? String, "2 jobs alerting on web&lt;!here&gt;", "a host name is escaped in mrkdwn")
        let everything = AlertDigest.Grouping(kind: .webhook, burst: 10, intervalMs: 30_000, groupBy: [])
        let one = AlertDigest.messages(waiting, grouping: everything, statusPageURL: nil)
        XCTAssertEqual(one.map(\.jobs), [["a", "b", "c", "d"]])
        let body = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(one[0].body!.utf8)) as? [String: Any])
        XCTAssertEqual(body["kind"] as? String, "mixed")
    }
}
