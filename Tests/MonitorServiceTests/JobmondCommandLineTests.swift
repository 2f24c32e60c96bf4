import Foundation
import JobwatchTestSupport
import XCTest

/// jobmond's own flags: an unknown one is refused, `--check-config` validates without starting.
final class JobmondCommandLineTests: XCTestCase {
    func testUnknownArgumentsAreRefusedNotIgnored() throws {
        let r = try Command.run([Command.binary("jobmond"), "--listne", "127.0.0.1:1"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderrText.contains("unknown argument \"--listne\""), r.stderrText)
    }

    func testCheckConfigNamesEachProblemAndExitsWithoutStarting() throws {
        let root = try TemporaryDirectory.make(prefix: "jobmond-check")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/jobs.d", withIntermediateDirectories: true)
        let config = root + "/jobwatch.yaml"
        try """
            jobs_dir: \(root)/jobs.d
            monitor:
              channels:
                pd: { type: pagerduty, routing_key: "file:\(root)/missing.key" }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        try "schedule: \"61 * * * *\"\n".write(toFile: root + "/jobs.d/broken.yaml", atomically: true, encoding: .utf8)
        try "schedule: \"@daily\"\nalerts: [nowhere]\n".write(toFile: root + "/jobs.d/lost.yaml", atomically: true, encoding: .utf8)
        let bad = try Command.run([Command.binary("jobmond"), "--check-config", "--config", config])
        XCTAssertEqual(bad.status, 1, bad.stderrText)
        XCTAssertTrue(bad.stderrText.contains("monitor.channels.pd: cannot read secret file \(root)/missing.key"), bad.stderrText)
        XCTAssertTrue(bad.stderrText.contains("\(root)/jobs.d/broken.yaml:1:"), bad.stderrText)
        XCTAssertTrue(bad.stderrText.contains("\(root)/jobs.d/lost.yaml:2:") && bad.stderrText.contains("unknown channel \"nowhere\""), bad.stderrText)
        XCTAssertTrue(bad.stdoutText.contains("3 problem(s)"), bad.stdoutText)

        try "key\n".write(toFile: root + "/missing.key", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: root + "/jobs.d/broken.yaml")
        try "schedule: \"@daily\"\nalerts: [pd]\n".write(toFile: root + "/jobs.d/lost.yaml", atomically: true, encoding: .utf8)
        let good = try Command.run([Command.binary("jobmond"), "--check-config", "--config=\(config)"])
        XCTAssertEqual(good.status, 0, good.stderrText)
        XCTAssertTrue(good.stdoutText.contains("1 channel(s) and 1 job(s)") && good.stdoutText.hasSuffix("all valid\n"), good.stdoutText)
    }
}
