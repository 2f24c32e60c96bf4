import Foundation
import JobwatchTestSupport
import XCTest

final class ChildProcessTests: XCTestCase {
    func testExitCodesPassThrough() throws {
        let h = try JobrunHarness()
        for code in [0, 1, 3, 199, 250] {
            let r = try h.jobrun(["codes", "--", "/bin/sh", "-c", "exit \(code)"])
            XCTAssertEqual(r.status, Int32(code))
        }
        let killed = try h.jobrun(["codes", "--", "/bin/sh", "-c", "kill -USR1 $$"])
        XCTAssertEqual(killed.status, 128 + SIGUSR1)
        let missing = try h.jobrun(["codes", "--", "/nonexistent/binary"])
        XCTAssertEqual(missing.status, 127)
        XCTAssertTrue(missing.stderrText.contains("/nonexistent/binary"), missing.stderrText)
    }

    func testOutputPassesThroughByteForByte() throws {
        let h = try JobrunHarness()
        var payload = [UInt8](0...255)
        var rng = SystemRandomNumberGenerator()
        payload += (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        payload += Array("final line without newline".utf8)
        let file = h.path("payload.bin")
        try Data(payload).write(to: URL(fileURLWithPath: file))
        let r = try h.jobrun(["bytes", "--", "/bin/sh", "-c", "cat \(file); cat \(file) >&2"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout == payload, "stdout differs: \(r.stdout.count) bytes vs \(payload.count)")
        XCTAssertTrue(r.stderr == payload, "stderr differs: \(r.stderr.count) bytes vs \(payload.count)")
    }

    func testStdinIsPassedThrough() throws {
        let h = try JobrunHarness()
        let r = try h.jobrun(["stdin", "--", "/usr/bin/wc", "-c"], stdin: Array(repeating: 65, count: 100_000))
        XCTAssertEqual(r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), "100000")
    }

    func testQuietSwallowsOutput() throws {
        let h = try JobrunHarness()
        let r = try h.jobrun(["--quiet", "quiet", "--", "/bin/sh", "-c", "echo out; echo err >&2"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.isEmpty && r.stderr.isEmpty)
    }

    func testSigtermReachesTheWholeProcessGroup() throws {
        let h = try JobrunHarness()
        // A shell with a background grandchild: both must receive the signal.
        let script = "sleep 300 & echo $! > \(h.path("grandchild.pid")); echo $$ > \(h.path("child.pid")); wait"
        let run = try h.start(["group", "--", "/bin/sh", "-c", script])
        XCTAssertTrue(waitUntil(timeout: 20) { h.exists("grandchild.pid") && h.exists("child.pid") && !h.lines("child.pid").isEmpty })
        let grandchild = Int32(h.lines("grandchild.pid").first ?? "") ?? 0
        let child = Int32(h.lines("child.pid").first ?? "") ?? 0
        XCTAssertTrue(processAlive(grandchild))
        run.signal(SIGTERM)
        let r = run.wait(timeout: 20)
        XCTAssertEqual(r.status, 128 + SIGTERM)
        XCTAssertTrue(waitUntil(timeout: 5) { !processAlive(grandchild) && !processAlive(child) }, "signal not forwarded to the group")
        XCTAssertEqual(try h.redis.cli("EXISTS", "test:lock:group"), "0")
    }

    func testTimeoutEscalatesFromTermToKill() throws {
        let h = try JobrunHarness()
        try h.writeJob("stubborn", """
            command: trap '' TERM; echo $$ > \(h.path("child.pid")); while true; do sleep 0.1; done
            max_runtime: 1s
            kill_on_timeout: true
            kill_after: 1s
            """)
        let started = Date()
        let r = try h.jobrun(["stubborn"])
        XCTAssertEqual(r.status, 202, r.stderrText)
        XCTAssertTrue(r.stderrText.contains("SIGTERM") && r.stderrText.contains("SIGKILL"), r.stderrText)
        XCTAssertLessThan(Date().timeIntervalSince(started), 15)
        let pid = Int32(h.lines("child.pid").first ?? "") ?? 0
        XCTAssertFalse(processAlive(pid))
    }

    func testTimeoutFlagStopsAPoliteJobWithTermOnly() throws {
        let h = try JobrunHarness()
        let r = try h.jobrun(["--timeout", "1s", "polite", "--", "/bin/sleep", "30"])
        XCTAssertEqual(r.status, 202)
        XCTAssertFalse(r.stderrText.contains("SIGKILL"), r.stderrText)
    }

    func testCommandFromJobFileRunsThroughShellOrDirectly() throws {
        let h = try JobrunHarness()
        try h.writeJob("shell", "command: echo a | tr a b\nenv: { GREETING: hello }\n")
        try h.writeJob("direct", "command: [/bin/echo, 'a | tr a b', '$GREETING']\n")
        XCTAssertEqual(try h.jobrun(["shell"]).stdoutText, "b\n")
        XCTAssertEqual(try h.jobrun(["direct"]).stdoutText, "a | tr a b $GREETING\n")
        try h.writeJob("envy", "command: echo $GREETING\nenv: { GREETING: hello }\n")
        XCTAssertEqual(try h.jobrun(["envy"]).stdoutText, "hello\n")
    }

    func testBadConfigurationIsLocatedAndExits201() throws {
        let h = try JobrunHarness()
        let cases: [(String, String, String)] = [
            ("typo", "command: echo\nshedule: \"* * * * *\"\n", "typo.yaml:2:1: job: unknown key \"shedule\" (did you mean \"schedule\"?)"),
            ("badspan", "command: echo\ngrace: 5 minutes\n", "badspan.yaml:2:8: grace: invalid duration \"5 minutes\""),
            ("badcron", "command: echo\nschedule: \"61 * * * *\"\n", "badcron.yaml:2:11: schedule:"),
            ("syntax", "command: [echo\nschedule: x\n", "syntax.yaml:2:"),
            ("badzone", "command: echo\ntimezone: Mars/Olympus\n", "badzone.yaml:2:11: timezone: unknown IANA time zone"),
        ]
        for (name, yaml, expected) in cases {
            try h.writeJob(name, yaml)
            let r = try h.jobrun([name])
            XCTAssertEqual(r.status, 201, name)
            XCTAssertTrue(r.stderrText.contains(h.jobsDir + "/" + expected), "\(name): \(r.stderrText)")
        }
        try "redis: [\"http://nope\"]\n".write(toFile: h.path("jobwatch.yaml"), atomically: true, encoding: .utf8)
        let r = try h.jobrun(["anything", "--", "true"], environment: ["JOBWATCH_REDIS": ""])
        XCTAssertEqual(r.status, 201)
        XCTAssertTrue(r.stderrText.contains("jobwatch.yaml:1:8: redis: invalid URL"), r.stderrText)
    }

    func testUsageErrorsExit201() throws {
        let h = try JobrunHarness()
        XCTAssertEqual(try h.jobrun([]).status, 201)
        XCTAssertEqual(try h.jobrun(["--bogus", "x"]).status, 201)
        XCTAssertEqual(try h.jobrun(["../etc/passwd", "--", "true"]).status, 201)
        XCTAssertEqual(try h.jobrun(["nocommand"]).status, 201)
        XCTAssertEqual(try h.jobrun(["--help"]).status, 0)
    }
}
