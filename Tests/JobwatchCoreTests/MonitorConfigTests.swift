import JobwatchCore
import XCTest

/// The `monitor:` section of the global config (SPEC §1.1).
final class MonitorConfigTests: XCTestCase {
    private func read(_ text: String) throws -> GlobalConfig {
        var config = GlobalConfig()
        try config.read(text: text, path: "cfg.yaml")
        return config
    }

    private func problems(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            _ = try read(text)
            XCTFail("expected ConfigErrors", file: file, line: line)
        } catch let e as ConfigErrors {
            return e.errors.map(\.description)
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
        return []
    }

    private let channels = """
        monitor:
          channels:
            pd-ops:    { type: pagerduty, routing_key: file:/etc/jobwatch/pd.key, url: https://events.eu.pagerduty.com/v2/enqueue }
            slack-ops: { type: slack, webhook_url: file:/etc/jobwatch/slack.url }
            hook:      { type: webhook, url: https://example.com/hook }

        """

    func testFullMonitorSection() throws {
        let c = try read("""
            monitor:
              listen: 0.0.0.0:9000
              public_url: https://jobs.example.com
              tokens:
                - { name: hosts, secret: file:/etc/jobwatch/ping.token, scopes: [report] }
                - { name: ops,   secret: inline, scopes: [read, admin] }
              channels:
                pd-ops:    { type: pagerduty, routing_key: file:/etc/jobwatch/pd.key }
                slack-ops: { type: slack, webhook_url: https://hooks.slack.com/x }
                hook:      { type: webhook, url: https://example.com/hook }
              default_alerts: [slack-ops, hook]
              public_status_page: true
              report: { schedule: "0 8 * * 1", timezone: Europe/Dublin, channels: [slack-ops] }
              history_days: 30
            """)
        let m = c.monitor
        XCTAssertEqual(m.listen, "0.0.0.0:9000")
        XCTAssertEqual(m.publicURL, "https://jobs.example.com")
        XCTAssertEqual(m.tokens.map(\.name), ["hosts", "ops"])
        XCTAssertEqual(m.tokens.map(\.scopes), [["report"], ["read", "admin"]])
        XCTAssertEqual(m.tokens.first?.secret, Secret("file:/etc/jobwatch/ping.token"))
        XCTAssertEqual(Set(m.channels.keys), ["pd-ops", "slack-ops", "hook"])
        XCTAssertEqual(m.channels["pd-ops"]?.kind, .pagerduty)
        XCTAssertEqual(m.channels["pd-ops"]?.target, Secret("file:/etc/jobwatch/pd.key"))
        XCTAssertNil(m.channels["pd-ops"]?.url, "nil means the US endpoint")
        XCTAssertEqual(m.channels["slack-ops"]?.kind, .slack)
        XCTAssertEqual(m.channels["slack-ops"]?.target, Secret("https://hooks.slack.com/x"))
        XCTAssertEqual(m.channels["hook"]?.kind, .webhook)
        XCTAssertEqual(m.channels["hook"]?.target, Secret("https://example.com/hook"))
        XCTAssertEqual(m.defaultAlerts, ["slack-ops", "hook"])
        XCTAssertTrue(m.publicStatusPage)
        XCTAssertEqual(m.report.schedule, "0 8 * * 1")
        XCTAssertEqual(m.report.timezone, "Europe/Dublin")
        XCTAssertEqual(m.report.channels, ["slack-ops"])
        XCTAssertEqual(m.historyDays, 30)
    }

    func testPagerDutyURLOverride() throws {
        let c = try read(channels)
        XCTAssertEqual(c.monitor.channels["pd-ops"]?.url, "https://events.eu.pagerduty.com/v2/enqueue")
    }

    func testMonitorDefaults() throws {
        let m = try read("monitor:\n").monitor
        XCTAssertEqual(m.listen, "127.0.0.1:8427")
        XCTAssertFalse(m.publicStatusPage)
        XCTAssertEqual(m.report.schedule, "0 9 * * 1")
        XCTAssertEqual(m.historyDays, 93)
        XCTAssertTrue(m.channels.isEmpty)
    }

    func testUnknownChannelInDefaultAlerts() {
        XCTAssertEqual(problems(channels + "  default_alerts: [slack-ops, slack-dev]\n"),
                       ["cfg.yaml:6:19: monitor.default_alerts: unknown channel \"slack-dev\""])
    }

    func testUnknownChannelInReport() {
        XCTAssertEqual(problems(channels + "  report: { channels: [email] }\n"),
                       ["cfg.yaml:6:23: monitor.report.channels: unknown channel \"email\""])
    }

    func testChannelMissingItsTargetKey() {
        XCTAssertEqual(problems("monitor:\n  channels:\n    pd: { type: pagerduty, url: https://x }\n"),
                       ["cfg.yaml:3:5: monitor.channels.pd: a pagerduty channel needs routing_key"])
        XCTAssertEqual(problems("monitor:\n  channels:\n    s: { type: slack, url: https://x }\n"),
                       ["cfg.yaml:3:5: monitor.channels.s: a slack channel needs webhook_url"])
        XCTAssertEqual(problems("monitor:\n  channels:\n    h: { type: webhook }\n"),
                       ["cfg.yaml:3:5: monitor.channels.h: a webhook channel needs url"])
    }

    func testChannelTypeProblems() {
        XCTAssertEqual(problems("monitor:\n  channels:\n    x: { url: https://x }\n"),
                       ["cfg.yaml:3:5: monitor.channels.x: missing type (pagerduty, slack or webhook)"])
        XCTAssertEqual(problems("monitor:\n  channels:\n    x: { type: email, url: a }\n"),
                       ["cfg.yaml:3:16: type: must be one of pagerduty, slack, webhook, got \"email\""])
        XCTAssertEqual(problems("monitor:\n  channels:\n    x: { type: slack, webhook_url: a, room: b }\n"),
                       ["cfg.yaml:3:39: monitor.channels.x: unknown key \"room\""])
    }

    func testBadScope() {
        XCTAssertEqual(problems("monitor:\n  tokens:\n    - { name: ci, secret: s, scopes: [report, write] }\n"),
                       ["cfg.yaml:3:38: monitor.tokens: unknown scope \"write\" (report, read, admin)"])
    }

    func testTokenNeedsNameAndSecret() {
        XCTAssertEqual(problems("monitor:\n  tokens:\n    - { name: ci, scopes: [read] }\n"),
                       ["cfg.yaml:3:7: monitor.tokens: each token needs name and secret"])
    }

    func testTokensMustBeAList() {
        let found = problems("monitor:\n  tokens: { name: ci, secret: s }\n")
        XCTAssertEqual(found.count, 1, "\(found)")
        XCTAssertTrue(found.first?.hasPrefix("cfg.yaml:2:11: monitor.tokens") == true, "\(found)")
    }

    func testUnknownMonitorKey() {
        XCTAssertEqual(problems("monitor:\n  listne: 1.2.3.4:80\n"),
                       ["cfg.yaml:2:3: monitor: unknown key \"listne\" (did you mean \"listen\"?)"])
    }

    func testSeveralMonitorProblemsAtOnce() {
        let found = problems("""
            monitor:
              history_days: 0
              channels:
                s: { type: slack }
              default_alerts: [nope]
            """)
        XCTAssertEqual(found.count, 3, "\(found)")
        XCTAssertEqual(Set(found.map { $0.split(separator: ":")[1] }), ["2", "4", "5"], "\(found)")
    }
}
