import MonitorCore
import XCTest

/// The host-silence rule alone, `now` given: which misses page, which one host alert stands for.
final class HostSilenceTests: XCTestCase {
    private let rule = HostSilence.Settings(fraction: 0.5, minJobs: 3, windowMs: 600_000)

    func testMissesOfOneRoundOnASilentHostBecomeOneSilence() {
        var silence = HostSilence(settings: rule)
        _ = silence.heard(from: "db1", at: 1_000)
        for job in ["a", "b", "c"] { XCTAssertEqual(silence.missed(job: job, host: "db1", due: 60_000), .hold) }
        let decided = silence.endRound(now: 62_000) { _ in 5 }
        XCTAssertEqual(decided.count, 1)
        XCTAssertEqual(decided[0].host, "db1")
        XCTAssertEqual(decided[0].held, ["a", "b", "c"])
        XCTAssertEqual(decided[0].silence, .init(lastHeard: 1_000, jobsOnHost: 5, jobs: ["a", "b", "c"]))
        // Later misses of its jobs are explained by it.
        XCTAssertEqual(silence.missed(job: "d", host: "db1", due: 120_000), .inhibit(host: "db1"))
        XCTAssertEqual(silence.silent["db1"]?.jobs, ["a", "b", "c", "d"])
        // Its next report ends it, with every job it explained.
        XCTAssertEqual(silence.heard(from: "db1", at: 130_000)?.jobs, ["a", "b", "c", "d"])
        XCTAssertNil(silence.silent["db1"])
    }

    func testBelowTheShareOrMinimumEachMissPages() {
        var silence = HostSilence(settings: rule)
        XCTAssertEqual(silence.missed(job: "a", host: "db1", due: 60_000), .hold)
        XCTAssertEqual(silence.missed(job: "b", host: "db1", due: 60_000), .hold)
        XCTAssertEqual(silence.missed(job: "x", host: "web1", due: 60_000), .hold)
        let decided = silence.endRound(now: 62_000) { $0 == "db1" ? 3 : 1 }
        XCTAssertEqual(decided.map(\.host), ["db1", "web1"])
        XCTAssertTrue(decided.allSatisfy { $0.silence == nil }, "2 of 3 is under min_jobs; web1 has one job")
        XCTAssertEqual(silence.missed(job: "c", host: "db1", due: 120_000), .hold)
        // With the two paged within the window, the third makes the host silent.
        let next = silence.endRound(now: 122_000) { _ in 3 }
        XCTAssertEqual(next.first?.silence?.jobs, ["a", "b", "c"])
        XCTAssertEqual(next.first?.held, ["c"])
    }

    func testMissesPagedBeforeTheWindowDoNotCount() {
        var silence = HostSilence(settings: rule)
        for job in ["a", "b"] { _ = silence.missed(job: job, host: "db1", due: 0) }
        _ = silence.endRound(now: 1_000) { _ in 4 }
        _ = silence.missed(job: "c", host: "db1", due: 700_000)
        XCTAssertNil(silence.endRound(now: 702_000) { _ in 4 }.first?.silence)
    }

    func testAHostHeardSinceTheOccurrenceWasDueIsNotSilent() {
        var silence = HostSilence(settings: rule)
        _ = silence.heard(from: "db1", at: 61_000)
        XCTAssertEqual(silence.missed(job: "a", host: "db1", due: 60_000), .page)
        XCTAssertEqual(silence.missed(job: "b", host: nil, due: 60_000), .page, "never ran: no host to blame")
        var off = HostSilence(settings: .init(fraction: 0, minJobs: 3, windowMs: 600_000))
        XCTAssertEqual(off.missed(job: "a", host: "db1", due: 60_000), .page)
    }

    func testASilenceRestoredByANewLeaderKeepsExplainingMisses() {
        var silence = HostSilence(settings: rule)
        silence.restore(host: "db1", jobs: ["a", "b", "c"], jobsOnHost: 4)
        XCTAssertEqual(silence.missed(job: "a", host: "db1", due: 60_000), .inhibit(host: "db1"))
        XCTAssertEqual(silence.silent["db1"]?.jobs, ["a", "b", "c"], "listed once")
    }

    /// A host name is whatever a host sends: in a host alert it stays text on every channel.
    func testAHostileHostNameIsInertInTheHostAlert() throws {
        let host = "<!channel> <@U1|boss> <http://evil.example|x>\u{1B}[2J"
        let alert = InhibitingAlert(.hostSilent(host: host, lastHeard: 1_000, jobsOnHost: 4), jobs: ["a", "b", "c"], at: 60_000)
        let context = AlertContext(statusPageURL: nil, monitorHost: "mon1")
        let slack = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(alert.slack(context: context))) as? [String: Any])
        var markdown = [try XCTUnwrap(slack["text"] as? String)]
        var plain: [String] = []
        for block in slack["blocks"] as? [[String: Any]] ?? [] {
            guard let text = block["text"] as? [String: Any], let content = text["text"] as? String else { continue }
            if text["type"] as? String == "plain_text" { plain.append(content) } else { markdown.append(content) }
        }
        XCTAssertEqual(markdown.count, 3)
        for text in markdown {
            XCTAssertFalse(text.contains("<!") || text.contains("<@") || text.contains("<http"), text)
        }
        for text in markdown + plain {   // plain text (the header) is never parsed for mentions
            XCTAssertFalse(text.unicodeScalars.contains { $0.value == 0x1B }, text)
        }
        let webhook = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(alert.webhook(context: context))) as? [String: Any])
        XCTAssertEqual(webhook["host"] as? String, host, "JSON carries it as data, encoded")
        XCTAssertEqual(webhook["action"] as? String, "trigger")
    }
}
