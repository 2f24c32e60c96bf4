import Foundation
import JobwatchTestSupport
import Reporting
import XCTest

final class SpoolTests: XCTestCase {
    private func event(_ i: Int) -> RunEvent {
        RunEvent.skip(job: "job\(i)", runID: "run\(i)", host: "h", reason: .lockHeld, holder: "x", scheduledFor: nil)
    }

    func testFilesArePrivateAtomicAndInCreationOrder() throws {
        let dir = try TemporaryDirectory.make(prefix: "spool") + "/nested/spool"
        var warnings: [String] = []
        let spool = Spool(directory: dir) { warnings.append($0) }
        XCTAssertTrue(spool.isEmpty, "a missing directory is an empty spool")
        for i in 0..<50 { try spool.write(event(i)) }
        let names = spool.pending()
        XCTAssertEqual(names.count, 50)
        for (i, name) in names.enumerated() {
            let data = try XCTUnwrap(FileManager.default.contents(atPath: dir + "/" + name))
            XCTAssertEqual(RunEvent(json: Array(data))?.job, "job\(i)", "lexical order is creation order")
            let mode = try FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.posixPermissions] as? Int
            XCTAssertEqual(mode, 0o600)
        }
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: dir)[.posixPermissions] as? Int, 0o700)
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: dir).contains { $0.hasPrefix(".tmp-") })
        XCTAssertTrue(warnings.isEmpty)
    }

    func testDeliveryIsInOrderAndStopsAtTheFirstFailure() throws {
        let spool = Spool(directory: try TemporaryDirectory.make(prefix: "spool")) { _ in }
        for i in 0..<10 { try spool.write(event(i)) }
        var seen: [String] = []
        let first = spool.deliverAll(wait: true) { e in
            if e.job == "job4" { return .failed("monitor down") }
            seen.append(e.job)
            return .delivered
        }
        XCTAssertEqual(seen, ["job0", "job1", "job2", "job3"])
        XCTAssertEqual(first.delivered, 4)
        XCTAssertEqual(first.remaining, 6)
        XCTAssertEqual(first.failure, "monitor down")
        let second = spool.deliverAll(wait: true) { e in seen.append(e.job); return .delivered }
        XCTAssertEqual(seen, (0..<10).map { "job\($0)" })
        XCTAssertEqual([second.delivered, second.remaining], [6, 0])
        XCTAssertNil(second.failure)
    }

    func testCorruptAndRefusedFilesAreMovedAsideWithoutBlockingTheRest() throws {
        let dir = try TemporaryDirectory.make(prefix: "spool")
        var warnings: [String] = []
        let spool = Spool(directory: dir) { warnings.append($0) }
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/0000000000001-0000000001-000001.event", contents: Data("{\"type\": tru".utf8)))
        try spool.write(event(0))
        try spool.write(event(1))
        try spool.write(event(2))
        var seen: [String] = []
        let result = spool.deliverAll(wait: true) { e in
            if e.job == "job1" { return .rejected("HTTP 400") }
            seen.append(e.job)
            return .delivered
        }
        XCTAssertEqual(seen, ["job0", "job2"])
        XCTAssertEqual(result.remaining, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/bad").count, 2)
        XCTAssertEqual(warnings.count, 2, "\(warnings)")
        XCTAssertTrue(warnings.contains { $0.contains("not a readable event") }, "\(warnings)")
    }

    func testAFullSpoolStillTakesEventsButSaysSo() throws {
        let dir = try TemporaryDirectory.make(prefix: "spool")
        for i in 0..<Spool.warnAbove {
            XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/" + String(format: "0000000000000-%010d-000000.event", i), contents: nil))
        }
        var warnings: [String] = []
        let spool = Spool(directory: dir) { warnings.append($0) }
        try spool.write(event(0))
        XCTAssertEqual(spool.pending().count, Spool.warnAbove + 1)
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].contains("10000 undelivered"), warnings[0])
    }
}
