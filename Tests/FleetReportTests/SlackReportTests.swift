import FleetReport
import Foundation
import MonitorCore
import XCTest

final class SlackReportTests: XCTestCase {
    /// 500 jobs with 200-character names, every one with problems: Slack must still accept it.
    func testFiveHundredJobFleetStaysInsideBlockKitLimits() throws {
        let histories = (0..<500).map { i in
            JobHistory(spec: spec("job-\(i)-" + String(repeating: "<&>", count: 66), "0 * * * *"), runs: [], changes: [])
        }
        let report = FleetReport(histories, from: dstWeek.from, to: dstWeek.to, now: dstWeek.to, timeZone: "UTC")
        let message = SlackReport(report, statusPageURL: "https://jobs.example.com/")
        XCTAssertLessThanOrEqual(message.blocks.count, 50)
        XCTAssertEqual(message.blocks.first?.type, "header")
        XCTAssertLessThanOrEqual(message.blocks[0].text!.text.utf16.count, 150)
        for block in message.blocks where block.type == "section" {
            XCTAssertLessThanOrEqual(block.text!.text.utf16.count, 3000)
        }
        let sections = message.blocks.compactMap { $0.type == "section" ? $0.text?.text : nil }
        XCTAssertTrue(sections[0].contains("500 jobs, 500 missed 84000 runs"))
        XCTAssertTrue(sections.last!.contains("_and 460 more with problems_"))
        XCTAssertFalse(sections.joined().contains("<&>"), "job names are escaped for mrkdwn")
        XCTAssertEqual(message.blocks.last?.elements?.first?.text, "<https://jobs.example.com/|Status page>")
        // The message is what is POSTed: it must encode.
        XCTAssertNoThrow(try JSONEncoder().encode(message))
    }

    func testHealthyFleetHasNoOffenders() {
        let s = spec("ok", "0 3 * * *")
        let report = FleetReport([JobHistory(spec: s, runs: punctualRuns(s, from: dstWeek.from, to: dstWeek.to), changes: [])],
                                 from: dstWeek.from, to: dstWeek.to, now: dstWeek.to, timeZone: "UTC")
        let message = SlackReport(report, statusPageURL: nil)
        XCTAssertEqual(message.blocks.map(\.type), ["header", "section"])
        XCTAssertEqual(message.blocks[1].text?.text, "✅ *1 job, no missed or failed runs*\n7 runs expected, 7 started, 0 missed, 0 failed")
    }
}
