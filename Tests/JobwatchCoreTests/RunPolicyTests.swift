import JobwatchCore
import XCTest

/// `retries`, `retry_delay`, `concurrency` and `output_rules` (SPEC §6): read, defaulted, and
/// refused at `path:line:column` naming the key.
final class RunPolicyTests: XCTestCase {
    private let path = "/etc/jobwatch/jobs.d/nightly.yaml"

    private func problems(_ text: String) -> [String] {
        do {
            _ = try JobDefinition.parse(text: text, path: path, defaultTimezone: "UTC")
            return []
        } catch let e as ConfigErrors {
            return e.errors.map { $0.description.replacingOccurrences(of: path + ":", with: "") }
        } catch {
            return ["\(error)"]
        }
    }

    func testDefaultsLeaveEveryRuleOff() throws {
        let job = try JobDefinition.parse(text: "command: /bin/true\n", path: path, defaultTimezone: "UTC")
        XCTAssertEqual(job.retries, 0)
        XCTAssertEqual(job.retryDelay, Timespan(seconds: 10))
        XCTAssertEqual(job.concurrency, .forbid)
        XCTAssertTrue(job.outputRules.isEmpty)
    }

    func testEveryKeyIsRead() throws {
        let job = try JobDefinition.parse(text: """
            retries: 2
            retry_delay: 30s
            concurrency: replace
            output_rules:
              fail_if: ["^ERROR", "Traceback"]
              require: "rows copied: [1-9]"
            """, path: path, defaultTimezone: "UTC")
        XCTAssertEqual(job.retries, 2)
        XCTAssertEqual(job.retryDelay, Timespan(seconds: 30))
        XCTAssertEqual(job.concurrency, .replace)
        XCTAssertEqual(job.outputRules, OutputRules(failIf: ["^ERROR", "Traceback"], require: ["rows copied: [1-9]"]))
    }

    func testAnInvalidExpressionQuotesRegcompAtItsOwnItem() {
        XCTAssertEqual(problems("output_rules:\n  fail_if:\n    - ok\n    - \"(unclosed\"\n"),
                       ["4:7: output_rules.fail_if: invalid regular expression \"(unclosed\": Unmatched ( or \\("])
        XCTAssertEqual(problems("output_rules: { require: [\"a{2,1}\"] }\n"),
                       ["1:27: output_rules.require: invalid regular expression \"a{2,1}\": Invalid content of \\{\\}"])
        XCTAssertEqual(problems("output_rules: { fail_if: [null] }\n"), ["1:27: output_rules.fail_if: list items must be strings"])
        XCTAssertEqual(problems("output_rules: { fail_if: [\"\"] }\n"),
                       ["1:27: output_rules.fail_if: an empty expression matches every line"])
    }

    func testBadValuesNameTheirKey() {
        XCTAssertEqual(problems("concurrency: parallel\n"),
                       ["1:14: concurrency: must be one of forbid, allow, replace, got \"parallel\""])
        XCTAssertEqual(problems("retries: 101\n"), ["1:10: retries: 101 is out of range 0-100"])
        XCTAssertEqual(problems("retries: -1\n"), ["1:10: retries: -1 is out of range 0-100"])
        XCTAssertEqual(problems("retry_delay: soon\n"),
                       ["1:14: retry_delay: invalid duration \"soon\" (use e.g. 90s, 10m, 2h, 1d, 1h30m)"])
        XCTAssertEqual(problems("output_rules:\n  fail_iff: [x]\n"),
                       ["2:3: output_rules: unknown key \"fail_iff\" (did you mean \"fail_if\"?)"])
        XCTAssertEqual(problems("output_rules: [\"^ERROR\"]\n"), ["1:15: output_rules must be a mapping of keys"])
    }

    func testAPatternMatchesALineWithoutItsNewlineAndWithoutCopyingIt() throws {
        let pattern = try PosixPattern("^ERROR: .*full$")
        func matches(_ text: String) -> Bool { Array(text.utf8).withUnsafeBytes { pattern.matches($0) } }
        XCTAssertTrue(matches("ERROR: disk full"))
        XCTAssertFalse(matches("WARN ERROR: disk full"))
        // Only the given bytes are searched: what follows in memory is not part of the line.
        let buffer = Array("ERROR: disk fullness".utf8)
        XCTAssertTrue(buffer.withUnsafeBytes { pattern.matches(UnsafeRawBufferPointer(rebasing: $0[0..<16])) })
        XCTAssertFalse(buffer.withUnsafeBytes { pattern.matches($0) })
    }

    /// The prefilter: a line without one of these literals cannot match, so regexec is skipped.
    func testRequiredLiteralsAreOnlyWhatEveryMatchMustContain() throws {
        func literals(_ source: String) throws -> [String]? {
            try PosixPattern(source).requiredLiterals?.map { String(decoding: $0, as: UTF8.self) }
        }
        XCTAssertEqual(try literals("^ERROR"), ["ERROR"])
        XCTAssertEqual(try literals("FATAL|PANIC"), ["FATAL", "PANIC"])
        XCTAssertEqual(try literals("rows copied: [1-9]"), ["rows copied: "])
        XCTAssertEqual(try literals("Traceback \\(most recent call last\\)"), ["Traceback (most recent call last)"])
        XCTAssertEqual(try literals("errors?: [0-9]+ found"), [" found"], "the s may be absent")
        XCTAssertEqual(try literals("ab+c"), ["ab"])
        XCTAssertEqual(try literals("x{0,3}yz"), ["yz"])
        XCTAssertEqual(try literals("disk (full|gone)"), ["disk "], "a group's content is not looked into")
        XCTAssertEqual(try literals("[]x]abc[[:digit:]]"), ["abc"])
        XCTAssertEqual(try literals("a\\.b"), ["a.b"])
        XCTAssertEqual(try literals("\\bword\\b"), ["word"])
        XCTAssertNil(try literals("[0-9]+"))
        XCTAssertNil(try literals("(a|b)c?"))
        XCTAssertNil(try literals("ERROR|.*"), "one branch without a literal: no prefilter")
    }
}
