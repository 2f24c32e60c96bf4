import JobwatchCore
import XCTest

/// Broken job files: every problem is reported as `path:line:column: message`, pointing at
/// the offending value (or key), and all problems of a file are reported together.
final class JobDefinitionErrorTests: XCTestCase {
    private let path = "/etc/jobwatch/jobs.d/nightly.yaml"

    private func problems(_ text: String, path: String? = nil, file: StaticString = #filePath, line: UInt = #line) -> [ConfigError] {
        do {
            let job = try JobDefinition.parse(text: text, path: path ?? self.path, defaultTimezone: "UTC")
            XCTFail("expected a ConfigErrors, parsed \(job.name)", file: file, line: line)
            return []
        } catch let e as ConfigErrors {
            return e.errors
        } catch {
            XCTFail("expected ConfigErrors, got \(type(of: error)): \(error)", file: file, line: line)
            return []
        }
    }

    /// The file has exactly one problem, rendered exactly as `expected` (path prefix added).
    private func assertOnly(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        let found = problems(text, file: file, line: line).map(\.description)
        XCTAssertEqual(found, ["\(path):\(expected)"], file: file, line: line)
    }

    func testBadDurationPointsAtTheValue() {
        assertOnly("schedule: \"@daily\"\ngrace: 10 minutes\n",
                   "2:8: grace: invalid duration \"10 minutes\" (use e.g. 90s, 10m, 2h, 1d, 1h30m)")
        assertOnly("max_runtime:   \"1h30\"\n",
                   "1:16: max_runtime: invalid duration \"1h30\" (use e.g. 90s, 10m, 2h, 1d, 1h30m)")
        assertOnly("lock_wait: -5\n", "1:12: lock_wait: invalid duration \"-5\" (use e.g. 90s, 10m, 2h, 1d, 1h30m)")
    }

    func testDurationBelowMinimum() {
        assertOnly("lock_ttl: 1s\n", "1:11: lock_ttl: 1s is below the minimum of 3s")
        assertOnly("max_runtime: 0s\n", "1:14: max_runtime: 0s is below the minimum of 1s")
    }

    func testUnknownKeyPointsAtTheKeyWithASuggestion() {
        assertOnly("command: /bin/true\nshedule: \"@daily\"\n",
                   "2:1: job: unknown key \"shedule\" (did you mean \"schedule\"?)")
        assertOnly("maxruntime: 1h\n", "1:1: job: unknown key \"maxruntime\" (did you mean \"max_runtime\"?)")
        assertOnly("Timezone: UTC\n", "1:1: job: unknown key \"Timezone\" (did you mean \"timezone\"?)")
    }

    func testUnknownKeyWithNothingCloseHasNoSuggestion() {
        assertOnly("grace: 1m\nfrobnicate: 1\n", "2:1: job: unknown key \"frobnicate\"")
    }

    func testBadScheduleNamesTheField() {
        let minute = problems("description: x\nschedule: \"61 2 * * *\"\n")
        XCTAssertEqual(minute.count, 1)
        XCTAssertEqual(minute.first.map { "\($0.line):\($0.column)" }, "2:11")
        XCTAssertTrue(minute.first?.message.hasPrefix("schedule: minute field:") == true, "\(minute)")
        XCTAssertTrue(minute.first?.message.contains("61") == true, "\(minute)")

        let hour = problems("schedule: 30 25 * * *\n")
        XCTAssertEqual(hour.first.map { "\($0.line):\($0.column)" }, "1:11")
        XCTAssertTrue(hour.first?.message.hasPrefix("schedule: hour field:") == true, "\(hour)")

        let dow = problems("schedule: \"0 0 * * fri-mon\"\n")
        XCTAssertTrue(dow.first?.message.hasPrefix("schedule: day-of-week field:") == true, "\(dow)")

        assertOnly("schedule: \"* * * *\"\n", "1:11: schedule: expected 5 fields, got 4")
        assertOnly("schedule: \"0 0 30 2 *\"\n", "1:11: schedule: expression \"0 0 30 2 *\" can never fire")
    }

    func testUnknownTimezone() {
        let found = problems("schedule: \"@daily\"\ntimezone: Mars/Olympus_Mons\n").map(\.description)
        XCTAssertTrue(found.contains("\(path):2:11: timezone: unknown IANA time zone \"Mars/Olympus_Mons\""), "\(found)")
        // The zone is the one problem here: the schedule itself is fine.
        XCTAssertEqual(found.count, 1, "\(found)")
    }

    func testUnknownTimezoneStillValidatesTheSchedule() {
        let found = problems("schedule: \"99 * * * *\"\ntimezone: Nowhere/Land\n")
        XCTAssertEqual(found.map(\.line).sorted(), [1, 2], "\(found)")
        XCTAssertTrue(found.contains { $0.line == 1 && $0.message.hasPrefix("schedule: minute field:") }, "\(found)")
    }

    func testWrongTypes() {
        assertOnly("max_runtime: 1h\nkill_on_timeout: maybe\n", "2:18: kill_on_timeout: expected true or false, got \"maybe\"")
        assertOnly("alert_after_failures: lots\n", "1:23: alert_after_failures: expected a whole number, got \"lots\"")
        assertOnly("alert_after_failures: 0\n", "1:23: alert_after_failures: 0 is out of range 1-1000")
        assertOnly("hosts: {web1: yes}\n", "1:8: hosts: expected a list of strings")
        assertOnly("tags: [ok, [nested]]\n", "1:12: tags: list items must be strings")
        assertOnly("description: [a, b]\n", "1:14: description: expected a string")
        assertOnly("command: {run: x}\n", "1:10: command: expected a string (run with /bin/sh -c) or a list (exec'd directly)")
        assertOnly("command: []\n", "1:10: command: an empty list has nothing to run")
        assertOnly("lock: shared\n", "1:7: lock: must be one of exclusive, none, got \"shared\"")
        assertOnly("on_lock_lost: ignore\n", "1:15: on_lock_lost: must be one of stop, continue, got \"ignore\"")
        assertOnly("env: [A, B]\n", "1:6: env must be a mapping of keys")
        assertOnly("env:\n  A: [1]\n", "2:3: env: entries must be NAME: value strings")
        assertOnly("env: {\"A=B\": x}\n", "1:6: env: invalid variable name \"A=B\"")
    }

    func testYAMLSyntaxErrorIsLocatedWhereTheParserStopped() {
        let found = problems("description: x\nschedule: \"@daily\"\n\tgrace: 5m\n")
        XCTAssertEqual(found.count, 1, "\(found)")
        XCTAssertEqual(found.first.map { "\($0.line):\($0.column)" }, "3:1", "\(found)")
        XCTAssertTrue(found.first?.message.hasPrefix("YAML syntax error:") == true, "\(found)")

        let unclosed = problems("grace: 1m\ncommand: \"echo hi\ntags: [a]\n")
        XCTAssertEqual(unclosed.count, 1, "\(unclosed)")
        XCTAssertTrue(unclosed.first?.message.hasPrefix("YAML syntax error:") == true, "\(unclosed)")
        XCTAssertGreaterThanOrEqual(unclosed.first?.line ?? 0, 2, "\(unclosed)")
        XCTAssertFalse(unclosed.first?.message.contains("\n") ?? true, "one line per problem")
    }

    func testDuplicateKeyIsLocatedOnOneLine() {
        let found = problems("grace: 1m\nschedule: \"@daily\"\ngrace: 2m\n")
        XCTAssertEqual(found.count, 1, "\(found)")
        XCTAssertTrue(found.first?.message.contains("grace") == true, "\(found)")
        XCTAssertFalse(found.first?.message.contains("\n") ?? true, "one line per problem: \(found)")
        XCTAssertTrue([1, 3].contains(found.first?.line ?? 0), "points at a grace key: \(found)")
    }

    func testInvalidJobFileName() {
        let bad = "/etc/jobwatch/jobs.d/nightly report.yaml"
        let found = problems("schedule: \"@daily\"\n", path: bad).map(\.description)
        XCTAssertEqual(found, ["\(bad):1:1: invalid job name \"nightly report\": use 1-128 characters from A-Z a-z 0-9 . _ - starting with a letter or digit"])
        XCTAssertEqual(problems("{}\n", path: "jobs.d/-x.yaml").count, 1)
    }

    func testKillOnTimeoutNeedsMaxRuntime() {
        assertOnly("schedule: \"@daily\"\nkill_on_timeout: true\n", "2:1: kill_on_timeout: needs max_runtime to know when to kill")
    }

    func testNonMappingFile() {
        assertOnly("- a\n- b\n", "1:1: the file must be a mapping of keys")
        assertOnly("just a string\n", "1:1: the file must be a mapping of keys")
    }

    func testEmptyFileKeepsEveryDefault() throws {
        for text in ["", "# only a comment\n"] {
            let job = try JobDefinition.parse(text: text, path: path, defaultTimezone: "UTC")
            XCTAssertEqual(job.name, "nightly")
            XCTAssertNil(job.schedule)
            XCTAssertEqual(job.lock, .exclusive)
        }
    }

    func testEveryProblemInAFileIsReported() {
        let text = """
            shedule: "@daily"
            grace: soon
            lock: shared
            hosts: {a: b}
            kill_on_timeout: true
            """
        let found = problems(text)
        XCTAssertEqual(found.map(\.line).sorted(), [1, 2, 3, 4, 5], "\(found)")
        XCTAssertTrue(found.allSatisfy { $0.path == path })
        let error = ConfigErrors(found)
        XCTAssertEqual(error.description.split(separator: "\n").count, 5)
        XCTAssertEqual(error.description, found.map(\.description).joined(separator: "\n"))
    }

    func testConfigErrorDescription() {
        let e = ConfigError(path: "a.yaml", line: 3, column: 7, message: "boom")
        XCTAssertEqual(e.description, "a.yaml:3:7: boom")
    }
}
