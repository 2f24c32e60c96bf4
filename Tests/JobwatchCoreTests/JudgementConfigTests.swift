import JobwatchCore
import XCTest

/// `anomaly:` and `resolve_after` (SPEC §6): accepted forms, and every invalid value located
/// at `path:line:column` with the key named.
final class JudgementConfigTests: XCTestCase {
    private let path = "/etc/jobwatch/jobs.d/nightly.yaml"

    private func parse(_ text: String) throws -> JobDefinition {
        try JobDefinition.parse(text: text, path: path, defaultTimezone: "UTC")
    }

    private func assertOnly(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try parse(text)
            XCTFail("expected \(expected)", file: file, line: line)
        } catch let e as ConfigErrors {
            XCTAssertEqual(e.errors.map(\.description), ["\(path):\(expected)"], file: file, line: line)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
    }

    func testDefaultsAreOff() throws {
        let job = try parse("schedule: \"@daily\"\n")
        XCTAssertNil(job.anomaly)
        XCTAssertEqual(job.resolveAfter, 1)
    }

    func testTheSpecExampleParses() throws {
        let job = try parse("anomaly: { slower: 3x, faster: 0.2x, baseline: 20 }\nresolve_after: 2\n")
        XCTAssertEqual(job.anomaly, AnomalyRule(slower: Multiplier(thousandths: 3_000), faster: Multiplier(thousandths: 200),
                                                baseline: 20))
        XCTAssertEqual(job.resolveAfter, 2)
        XCTAssertEqual(try parse("anomaly: { slower: 1.25x }\n").anomaly,
                       AnomalyRule(slower: Multiplier(thousandths: 1_250), faster: nil, baseline: 20))
    }

    func testMultipliersReadAndPrintAsWritten() {
        for text in ["3x", "0.2x", "1.25x", "10x", "0.005x"] {
            XCTAssertEqual(Multiplier(parsing: text)?.description, text)
        }
        for text in ["3", "x", ".5x", "1.x", "-2x", "1.2345x", "2 x", "1e3x", ""] {
            XCTAssertNil(Multiplier(parsing: text), text)
        }
    }

    func testInvalidAnomalyValuesAreLocatedAndNamed() {
        assertOnly("anomaly: { slower: 1x }\n", "1:20: anomaly.slower: 1x must be more than 1x")
        assertOnly("anomaly: { slower: 0.5x }\n", "1:20: anomaly.slower: 0.5x must be more than 1x")
        assertOnly("anomaly: { faster: 1x }\n", "1:20: anomaly.faster: 1x must be more than 0x and less than 1x")
        assertOnly("anomaly: { faster: 0x }\n", "1:20: anomaly.faster: 0x must be more than 0x and less than 1x")
        assertOnly("anomaly: { slower: three }\n",
                   "1:20: anomaly.slower: expected a multiplier such as 3x or 0.2x, got \"three\"")
        assertOnly("anomaly: { slower: 3x, baseline: 4 }\n",
                   "1:34: anomaly.baseline: expected a whole number of runs from 5 to 100, got \"4\"")
        assertOnly("anomaly: { slower: 3x, baseline: 101 }\n",
                   "1:34: anomaly.baseline: expected a whole number of runs from 5 to 100, got \"101\"")
        assertOnly("anomaly:\n  baseline: 10\n", "2:3: anomaly: needs slower, faster or both (e.g. { slower: 3x, faster: 0.2x })")
        assertOnly("anomaly: { slower: 3x, fastr: 0.2x }\n", "1:24: anomaly: unknown key \"fastr\" (did you mean \"faster\"?)")
        assertOnly("anomaly: 3x\n", "1:10: anomaly must be a mapping of keys")
    }

    func testResolveAfterZeroIsAnError() {
        assertOnly("resolve_after: 0\n", "1:16: resolve_after: 0 is out of range 1-100")
        assertOnly("resolve_after: often\n", "1:16: resolve_after: expected a whole number, got \"often\"")
    }
}

/// `maintenance:` on a job and `monitor.maintenance`: a window needs a schedule that parses
/// and a duration above zero.
final class MaintenanceConfigTests: XCTestCase {
    private let path = "/etc/jobwatch/jobs.d/nightly.yaml"

    private func assertOnly(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try JobDefinition.parse(text: text, path: path, defaultTimezone: "UTC")
            XCTFail("expected \(expected)", file: file, line: line)
        } catch let e as ConfigErrors {
            XCTAssertEqual(e.errors.map(\.description), ["\(path):\(expected)"], file: file, line: line)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
    }

    func testJobWindowsParse() throws {
        let job = try JobDefinition.parse(text: "timezone: Europe/Dublin\nmaintenance:\n  - { schedule: \"0 2 * * 0\", duration: 2h }\n",
                                          path: path, defaultTimezone: "UTC")
        XCTAssertEqual(job.maintenance, [MaintenanceWindow(schedule: "0 2 * * 0", duration: Timespan(seconds: 7200))])
    }

    func testInvalidJobWindowsAreLocatedAndNamed() {
        assertOnly("maintenance:\n  - { schedule: \"0 2 * * 0\" }\n",
                   "2:5: maintenance[0]: needs a duration (e.g. 2h); a window without one covers nothing")
        assertOnly("maintenance:\n  - { schedule: \"0 2 * * 0\", duration: 0s }\n",
                   "2:40: maintenance[0].duration: expected a duration above 0 such as 2h, got \"0s\"")
        assertOnly("maintenance:\n  - { schedule: \"0 25 * * 0\", duration: 1h }\n",
                   "2:17: maintenance[0].schedule: hour field: value 25 out of range 0-23 in \"25\"")
        assertOnly("maintenance:\n  - { duration: 1h }\n", "2:5: maintenance[0]: needs a schedule (cron) that starts the window")
        assertOnly("maintenance: { schedule: \"0 2 * * 0\", duration: 1h }\n",
                   "1:14: maintenance: expected a list of { schedule, duration }")
        assertOnly("maintenance:\n  - { schedule: \"0 2 * * 0\", duration: 1h, tags: [db] }\n",
                   "2:44: maintenance[0]: unknown key \"tags\"")
    }

    func testFleetWindowsTakeTagsAndAreChecked() throws {
        var config = GlobalConfig()
        try config.read(text: "timezone: Europe/Dublin\nmonitor:\n  maintenance:\n    - { schedule: \"0 3 * * 0\", duration: 1h, tags: [db] }\n",
                        path: "jobwatch.yaml")
        XCTAssertEqual(config.monitor.maintenance,
                       [MaintenanceWindow(schedule: "0 3 * * 0", duration: Timespan(seconds: 3600), tags: ["db"])])
        var broken = GlobalConfig()
        XCTAssertThrowsError(try broken.read(text: "monitor:\n  maintenance:\n    - { schedule: \"0 3 * * 0\", duration: 0 }\n",
                                             path: "jobwatch.yaml")) { error in
            XCTAssertEqual((error as? ConfigErrors)?.errors.map(\.description),
                           ["jobwatch.yaml:3:42: monitor.maintenance[0].duration: expected a duration above 0 such as 2h, got \"0\""])
        }
    }
}
