import Foundation
import JobwatchCore
import XCTest

/// The shipped `jobs.d/` examples are documentation people copy: they must stay valid.
final class ExampleJobsTests: XCTestCase {
    func testEveryExampleJobLoads() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("jobs.d").path
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }
        XCTAssertGreaterThanOrEqual(files.count, 5)
        for file in files {
            XCTAssertNoThrow(try JobDefinition.load(path: "\(dir)/\(file)", defaultTimezone: "UTC"), file)
        }
    }
}
