import Foundation
import JobwatchTestSupport
import XCTest

/// With a Redlock quorum, reports go to the stream `jobmond` reads — the first master's —
/// and nowhere else: a report in another master's stream would never be applied.
final class RedlockReportingTests: XCTestCase {
    func testReportsGoToTheFirstMasterOnlyAndWaitInTheSpoolWhileItIsDown() throws {
        let h = try JobrunHarness()
        let others = try (0..<2).map { _ in try RedisServer() }
        let environment = [
            "JOBWATCH_REDIS": ([h.redis] + others).map(\.url).joined(separator: ","),
            "JOBWATCH_MONITOR_URL": "http://127.0.0.1:\(try freePort())",
        ]
        let healthy = try h.jobrun(["quorum-job", "--", "true"], environment: environment)
        XCTAssertEqual(healthy.status, 0, healthy.stderrText)
        XCTAssertEqual(try h.redis.cli("XLEN", "test:events"), "2", "start and finish on the first master")
        XCTAssertTrue(try h.redis.cli("XRANGE", "test:events", "-", "+").contains("lease_ms\n3000") ||
                      (try h.redis.cli("XRANGE", "test:events", "-", "+")).contains("lease_ms\n60000"),
                      "the monitor can watch a lease its master granted")
        for other in others { XCTAssertEqual(try other.cli("EXISTS", "test:events"), "0") }

        h.redis.stop()
        let degraded = try h.jobrun(["quorum-job", "--", "true"], environment: environment)
        XCTAssertEqual(degraded.status, 0, "two of three masters still grant the lease: \(degraded.stderrText)")
        for other in others {
            XCTAssertEqual(try other.cli("EXISTS", "test:events"), "0", "no report in a stream nobody reads")
        }
        let spooled = try FileManager.default.contentsOfDirectory(atPath: h.path("spool")).filter { $0.hasSuffix(".event") }
        XCTAssertEqual(spooled.count, 2, "start and finish wait in the spool for the first master")
        let start = try XCTUnwrap(spooled.sorted().first.flatMap { FileManager.default.contents(atPath: h.path("spool") + "/" + $0) })
        let body = try XCTUnwrap(try JSONSerialization.jsonObject(with: start) as? [String: Any])
        XCTAssertEqual(body["type"] as? String, "start")
        XCTAssertTrue(body["lease_ms"] is NSNull, "a lease the first master never saw cannot be watched there: \(body)")
    }
}
