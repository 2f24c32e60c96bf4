import Foundation
import JobwatchTestSupport
import XCTest

/// With a Redlock quorum, reports go to the stream `jobmond` reads, the first master's; while
/// that master is down, to the next master that answers, whose stream the monitor relays.
final class RedlockReportingTests: XCTestCase {
    func testReportsGoToTheFirstMasterAndToTheNextOneWhileItIsDown() throws {
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
        XCTAssertEqual(try others[0].cli("XLEN", "test:events"), "2", "start and finish on the next master")
        XCTAssertEqual(try others[1].cli("EXISTS", "test:events"), "0", "and only there")
        let spooled = (try? FileManager.default.contentsOfDirectory(atPath: h.path("spool")))?.filter { $0.hasSuffix(".event") }
        XCTAssertEqual(spooled ?? [], [], "nothing waits in the spool")
        let entries = try others[0].cli("XRANGE", "test:events", "-", "+")
        XCTAssertTrue(entries.contains("lease_ms\n\n") || !entries.contains("lease_ms"),
                      "a lease the first master never saw cannot be watched there: \(entries)")
    }
}
