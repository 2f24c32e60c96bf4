@testable import MonitorCore
import XCTest

final class MonitorTableTests: XCTestCase {
    func testBehavesLikeADictionaryOfMonitors() throws {
        var table = MonitorTable()
        var expected: [String: JobMonitor] = [:]
        var generator = SystemRandomNumberGenerator()
        for step in 0..<2_000 {
            let job = "job-\(Int.random(in: 0..<50, using: &generator))"
            if Int.random(in: 0..<4, using: &generator) == 0 {
                table[job] = nil
                expected[job] = nil
            } else {
                let monitor = JobMonitor(spec: JobSpec(name: job, schedule: nil, timezone: "UTC"), firstSeen: Int64(step))
                table[job] = monitor
                expected[job] = monitor
            }
            XCTAssertEqual(table[job], expected[job])
        }
        XCTAssertEqual(table.count, expected.count)
        XCTAssertEqual(Set(table.keys), Set(expected.keys))
        var iterated: [String: JobMonitor] = [:]
        for (job, monitor) in table { iterated[job] = monitor }
        XCTAssertEqual(iterated, expected)
    }
}
