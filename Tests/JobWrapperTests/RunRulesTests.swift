import Foundation
import JobwatchTestSupport
import XCTest

extension JobrunHarness {
    /// The `test:events` stream, oldest first, each entry as a field → value map.
    func events() throws -> [[String: String]] {
        let json = try redis.cli("EVAL", "return cjson.encode(redis.call('XRANGE', KEYS[1], '-', '+'))", "1", "test:events")
        let entries = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[Any]] ?? []
        return entries.map { entry in
            let flat = entry.count > 1 ? entry[1] as? [String] ?? [] : []
            return Dictionary(uniqueKeysWithValues: stride(from: 0, to: flat.count - 1, by: 2).map { (flat[$0], flat[$0 + 1]) })
        }
    }
}

/// `retries` and `output_rules` (SPEC §6) with the real jobrun and Redis.
final class RunRulesTests: XCTestCase {
    func testACommandFailingTwiceThenSucceedingIsOneSuccessfulRunOfThreeAttempts() throws {
        let h = try JobrunHarness()
        try h.writeJob("flaky", "retries: 2\nretry_delay: 1s\n")
        let counter = h.path("count")
        let script = "n=$(cat \(counter) 2>/dev/null || echo 0); n=$((n+1)); echo $n > \(counter); "
            + "echo \"attempt $JOBWATCH_ATTEMPT fence $JOBWATCH_FENCE\" >> \(h.path("log")); [ $n -ge 3 ] || exit 1"
        let r = try h.jobrun(["flaky", "--", "/bin/sh", "-c", script])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let fence = try h.redis.cli("GET", "test:fence:flaky")
        XCTAssertEqual(h.lines("log"), (1...3).map { "attempt \($0) fence \(fence)" }, "one lease, one fence for every attempt")
        let events = try h.events()
        XCTAssertEqual(events.map { $0["type"] }, ["start", "finish"], "one start and one finish for the run")
        let finish = events[1]
        XCTAssertEqual(finish["run_id"], events[0]["run_id"])
        XCTAssertEqual(finish["outcome"], "success")
        XCTAssertEqual(finish["exit_code"], "0")
        XCTAssertEqual(finish["attempts"], "3")
        XCTAssertEqual(finish["attempt_exit_codes"], "1,1,0")
        XCTAssertEqual(finish["reason"], "")
        XCTAssertEqual(try h.redis.cli("EXISTS", "test:lock:flaky"), "0", "released once, after the last attempt")
    }

    func testJobrunExitsWithTheLastAttemptsCodeAndMaxRuntimeAppliesToEachAttempt() throws {
        let h = try JobrunHarness()
        try h.writeJob("stuck", "retries: 1\nretry_delay: 0s\nmax_runtime: 1s\nkill_on_timeout: true\nkill_after: 1s\n")
        let counter = h.path("count")
        // The first attempt hangs past max_runtime and is killed; the second fails quickly.
        let script = "if [ -e \(counter) ]; then exit 3; fi; touch \(counter); exec sleep 30"
        let r = try h.jobrun(["stuck", "--", "/bin/sh", "-c", script])
        XCTAssertEqual(r.status, 3, r.stderrText)
        let finish = try XCTUnwrap(try h.events().last)
        XCTAssertEqual(finish["outcome"], "failure")
        XCTAssertEqual(finish["attempt_exit_codes"], "202,3", "a max_runtime kill is a failed attempt, retried")
        XCTAssertEqual(try h.events().filter { $0["type"] == "start" }.count, 1)
    }

    func testFailIfTurnsAnExitZeroRunIntoAFailureNamingTheLineEvenBeyondTheTail() throws {
        let h = try JobrunHarness()
        try h.writeJob("report", "output_rules:\n  fail_if: [\"^ERROR\", \"Traceback\"]\n")
        // The matching line is followed by 200 KiB of output: long gone from the 64 KiB tail.
        let script = "echo starting; echo 'ERROR: disk full'; i=0; while [ $i -lt 2000 ]; do "
            + "printf '%0100d\\n' $i; i=$((i+1)); done; exit 0"
        let r = try h.jobrun(["--quiet", "report", "--", "/bin/sh", "-c", script])
        XCTAssertEqual(r.status, 0, "jobrun's own exit code stays the command's: \(r.stderrText)")
        let finish = try XCTUnwrap(try h.events().last)
        XCTAssertEqual(finish["outcome"], "failure")
        XCTAssertEqual(finish["exit_code"], "0")
        XCTAssertEqual(finish["reason"], "fail_if \"^ERROR\" matched line 2: ERROR: disk full")
        XCTAssertFalse(finish["output_tail"]?.contains("ERROR") ?? true, "the line matched was outside the tail")
        XCTAssertEqual(finish["attempts"], "", "no retries configured: no attempts field")
    }

    /// The literal prefilter never decides alone: a line holding the literal but not matching
    /// is passed over, and a line cut across two reads is judged whole.
    func testLinesAreJudgedWholeAcrossReadsAndOnlyByTheExpression() throws {
        let h = try JobrunHarness()
        try h.writeJob("split", "output_rules:\n  fail_if: [\"^ERROR: \"]\n  require: [\"[0-9]{3}\"]\n")
        // The pause makes the pump read the third line in two pieces.
        let script = "echo 'note: ERROR: not at the start'; echo 'code 404'; printf 'ERR'; sleep 0.3; "
            + "printf 'OR: split line\\r\\n'; echo 'ERROR: later'"
        let r = try h.jobrun(["--quiet", "split", "--", "/bin/sh", "-c", script])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let finish = try XCTUnwrap(try h.events().last)
        XCTAssertEqual(finish["reason"], "fail_if \"^ERROR: \" matched line 3: ERROR: split line")
    }

    func testRequireWithNoMatchingLineFailsAndAMatchPasses() throws {
        let h = try JobrunHarness()
        try h.writeJob("copy", "output_rules:\n  require: [\"rows copied: [1-9]\"]\n")
        let none = try h.jobrun(["--quiet", "copy", "--", "/bin/sh", "-c", "echo 'rows copied: 0'"])
        XCTAssertEqual(none.status, 0, none.stderrText)
        let some = try h.jobrun(["--quiet", "copy", "--", "/bin/sh", "-c", "echo start; printf 'rows copied: 42'"])
        XCTAssertEqual(some.status, 0, some.stderrText)
        let finishes = try h.events().filter { $0["type"] == "finish" }
        XCTAssertEqual(finishes.map { $0["outcome"] }, ["failure", "success"], "a last line without a newline counts")
        XCTAssertEqual(finishes[0]["reason"], "require \"rows copied: [1-9]\" matched none of 1 line(s)")
        XCTAssertEqual(finishes[1]["reason"], "")
    }

    func testAnOutputRuleFailureIsAFailedAttemptAndIsRetried() throws {
        let h = try JobrunHarness()
        try h.writeJob("noisy", "retries: 1\nretry_delay: 0s\noutput_rules: { fail_if: [\"^ERROR\"] }\n")
        let counter = h.path("count")
        let script = "if [ -e \(counter) ]; then echo fine; else touch \(counter); echo ERROR once; fi"
        let r = try h.jobrun(["--quiet", "noisy", "--", "/bin/sh", "-c", script])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let finish = try XCTUnwrap(try h.events().last)
        XCTAssertEqual(finish["outcome"], "success")
        XCTAssertEqual(finish["attempt_exit_codes"], "0,0")
        XCTAssertEqual(finish["reason"], "", "only the last attempt is judged")
    }

    func testJobctlCheckAndJobrunRefuseABadRegexAndABadConcurrencyAtTheirLines() throws {
        let h = try JobrunHarness()
        try h.writeJob("broken", "command: /bin/true\nconcurrency: sometimes\noutput_rules:\n  fail_if: [\"(ERROR\"]\n")
        let check = try Command.run([Command.binary("jobctl"), "check"], environment: h.environment)
        XCTAssertEqual(check.status, 1)
        let path = h.jobsDir + "/broken.yaml"
        XCTAssertEqual(check.stderrText.split(separator: "\n").map(String.init), [
            "\(path):2:14: concurrency: must be one of forbid, allow, replace, got \"sometimes\"",
            "\(path):4:13: output_rules.fail_if: invalid regular expression \"(ERROR\": Unmatched ( or \\(",
        ])
        let run = try h.jobrun(["broken"])
        XCTAssertEqual(run.status, 201, "a broken job file is a Jobwatch error, never a run")
        XCTAssertTrue(run.stderrText.contains("\(path):4:13: output_rules.fail_if"), run.stderrText)
    }
}
