import FleetReport
import Foundation
import JobwatchTestSupport
import XCTest

/// deploy/: the Prometheus rules pass `promtool check rules`, and the rules and the Grafana
/// dashboard use only metric names jobmond exposes.
final class DeployFilesTests: XCTestCase {
    private let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private var exposed: Set<String> {
        [JobwatchMetrics.state, JobwatchMetrics.lastSuccess, JobwatchMetrics.runDuration, JobwatchMetrics.missed,
         JobwatchMetrics.failed, JobwatchMetrics.runs, JobwatchMetrics.alerts, JobwatchMetrics.outboxDepth,
         JobwatchMetrics.deliveryFailures, JobwatchMetrics.leader, JobwatchMetrics.eventsBacklog, JobwatchMetrics.spoolDepth]
    }

    /// `jobwatch_…` names in a text, histogram suffixes folded onto their metric.
    private func names(in text: String) -> Set<String> {
        let regex = try! NSRegularExpression(pattern: "jobwatch_[a-z_]+")
        return Set(regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            var name = String(text[Range(match.range, in: text)!])
            for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) && name.hasPrefix(JobwatchMetrics.runDuration) {
                name = String(name.dropLast(suffix.count))
            }
            return name
        })
    }

    func testPrometheusRulesAreValidAndUseExposedMetrics() throws {
        let rules = repo.appendingPathComponent("deploy/prometheus/rules.yaml").path
        let promtool = try XCTUnwrap(which("promtool"), "promtool missing: apt-get install prometheus")
        let check = try Command.run([promtool, "check", "rules", rules])
        XCTAssertEqual(check.status, 0, check.stdoutText + check.stderrText)
        let used = names(in: try String(contentsOfFile: rules, encoding: .utf8))
        XCTAssertFalse(used.isEmpty)
        XCTAssertEqual(used.subtracting(exposed), [], "names jobmond does not expose")
    }

    func testGrafanaDashboardQueriesExposedMetrics() throws {
        let data = try Data(contentsOf: repo.appendingPathComponent("deploy/grafana/jobwatch.json"))
        let dashboard = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try XCTUnwrap(dashboard["panels"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(panels.count, 10)
        var used: Set<String> = []
        for panel in panels {
            let targets = try XCTUnwrap(panel["targets"] as? [[String: Any]], "\(panel["title"] ?? "?")")
            for target in targets { used.formUnion(names(in: try XCTUnwrap(target["expr"] as? String))) }
        }
        XCTAssertEqual(used.subtracting(exposed), [], "names jobmond does not expose")
        XCTAssertEqual(exposed.subtracting(used), [], "metrics the dashboard does not show")
    }
}
