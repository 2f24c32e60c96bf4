import Foundation
import JobwatchTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `jobctl status` as an operator sees it, over a fleet of 21 jobs in every state.
final class StatusOutputTests: XCTestCase {
    func testFleetTableIsAlignedAndTrue() throws {
        var jobs: [String: String] = [:]
        for name in ["billing-sync", "cache-warm", "db-backup", "invoice-mail", "log-rotate", "sitemap"] {
            jobs[name] = "schedule: \"0 * * * *\"\n"                          // up
        }
        for name in ["quarterly-close", "yearly-archive", "new-feed"] { jobs[name] = "schedule: \"30 2 * * *\"\n" }
        for name in ["etl-import", "video-encode"] { jobs[name] = "schedule: \"@daily\"\n" }    // running
        for name in ["late-report", "late-digest"] { jobs[name] = "schedule: \"every 10s\"\ngrace: 1h\n" }
        for name in ["missed-ping", "missed-export"] { jobs[name] = "schedule: \"every 10s\"\ngrace: 1s\n" }
        for name in ["failing-a", "failing-b", "failing-c"] { jobs[name] = "{}\n" }
        jobs["stuck-job"] = "max_runtime: 1s\n"
        for name in ["paused-a", "paused-b"] { jobs[name] = "schedule: \"0 * * * *\"\n" }
        let h = try MonitorHarness(jobs: jobs, defaultAlerts: [])
        try h.start()

        func report(_ job: String, _ run: String, _ kind: String, _ body: String) throws {
            XCTAssertEqual(try h.request("POST", "/api/v1/jobs/\(job)/runs/\(run)/\(kind)", token: "report-token", body: Array(body.utf8)).status, 202)
        }
        for (i, name) in ["billing-sync", "cache-warm", "db-backup", "invoice-mail", "log-rotate", "sitemap"].enumerated() {
            try report(name, "r\(i)", "start", #"{"host":"web\#(i % 3 + 1)"}"#)
            try report(name, "r\(i)", "finish", #"{"host":"web\#(i % 3 + 1)","exit_code":0,"duration_ms":\#(1500 * (i + 1)),"outcome":"success"}"#)
        }
        XCTAssertEqual(try h.jobrun("db-backup", "true", host: "db1").status, 0)
        let running = try Command.start([Command.binary("jobrun"), "--host", "worker7", "--no-gelf", "--quiet", "etl-import", "--",
                                         "/bin/sh", "-c", "sleep 30"], environment: h.environment)
        defer { running.signal(SIGTERM); _ = running.wait(timeout: 10) }
        try report("video-encode", "v1", "start", #"{"host":"gpu2"}"#)
        for (i, name) in ["failing-a", "failing-b", "failing-c"].enumerated() {
            try report(name, "f\(i)", "finish", #"{"host":"web1","exit_code":\#(i + 1),"duration_ms":300,"outcome":"failure"}"#)
        }
        try report("stuck-job", "s1", "start", #"{"host":"web2"}"#)
        let pause = try h.jobctl(["pause", "paused-a", "--for", "2h"])
        XCTAssertEqual(pause.status, 0, pause.stderrText + pause.stdoutText)
        XCTAssertEqual(try h.jobctl(["pause", "paused-b"]).status, 0)

        let expected: [String: String] = [
            "billing-sync": "up", "cache-warm": "up", "db-backup": "up", "invoice-mail": "up", "log-rotate": "up",
            "sitemap": "up", "quarterly-close": "new", "yearly-archive": "new", "new-feed": "new", "etl-import": "running",
            "video-encode": "running", "late-report": "late", "late-digest": "late", "missed-ping": "missed",
            "missed-export": "missed", "failing-a": "failed", "failing-b": "failed", "failing-c": "failed",
            "stuck-job": "overdue", "paused-a": "paused", "paused-b": "paused",
        ]
        XCTAssertEqual(expected.count, 21)
        let settled = waitUntil(timeout: 25) { expected.allSatisfy { h.state($0.key) == $0.value } }
        let output = try h.jobctl(["status"])
        print("---- jobctl status (\(output.stdout.count) bytes) ----\n" + output.stdoutText + "----")
        XCTAssertTrue(settled, "states: \(expected.keys.sorted().map { "\($0)=\(h.state($0) ?? "?")" })")
        XCTAssertEqual(output.status, 0, output.stderrText)
        XCTAssertFalse(output.stdoutText.contains("\u{1B}["), "no colour when stdout is not a terminal")

        let lines = output.stdoutText.split(separator: "\n").map { Array(String($0)) }
        XCTAssertEqual(lines.count, 22)
        let header = lines[0]
        XCTAssertEqual(String(header), "JOB" + String(repeating: " ", count: header.firstIndex(of: "S")! - 3)
                       + String(header[header.firstIndex(of: "S")!...]))
        // Every column starts where its header does, after at least two spaces.
        let titles = ["STATE", "LAST RUN", "HOST", "RESULT", "DURATION", "NEXT EXPECTED", "LOCK"]
        let starts = titles.map { title in String(header).range(of: title).map { String(header).distance(from: String(header).startIndex, to: $0.lowerBound) }! }
        for line in lines.dropFirst() {
            for start in starts {
                XCTAssertGreaterThan(line.count, start, String(line))
                guard line.count > start else { continue }
                XCTAssertEqual(String(line[start - 2..<start]), "  ", "misaligned: \(String(line))")
                XCTAssertNotEqual(line[start], " ", "misaligned: \(String(line))")
            }
        }
        // Rows are sorted by job and say what the API says.
        let rows = Dictionary(uniqueKeysWithValues: lines.dropFirst().map { (String($0).split(separator: " ")[0].description, String($0)) })
        XCTAssertEqual(lines.dropFirst().map { String($0).split(separator: " ")[0].description }, expected.keys.sorted())
        for (job, state) in expected { XCTAssertTrue(rows[job]?.contains("  \(state)") ?? false, rows[job] ?? job) }
        XCTAssertTrue(rows["paused-a"]?.contains("paused until in 1h59m") ?? false, rows["paused-a"] ?? "")
        XCTAssertTrue(rows["db-backup"]?.contains("db1") ?? false)
        XCTAssertTrue(rows["failing-b"]?.contains("failure (exit 2)") ?? false, rows["failing-b"] ?? "")
        XCTAssertTrue(rows["log-rotate"]?.contains("7s ") ?? false, rows["log-rotate"] ?? "")
        XCTAssertTrue(rows["etl-import"]?.contains("worker7:") ?? false, "the lock holder: \(rows["etl-import"] ?? "")")
        XCTAssertTrue(rows["quarterly-close"]?.contains("never") ?? false)

        // On a terminal the state column is coloured, and the alignment is unchanged.
        let tty = try Command.run(["script", "-qec", "\(Command.binary("jobctl")) status", "/dev/null"],
                                  environment: h.environment.merging(["NO_COLOR": ""]) { $1 }.filter { $0.key != "NO_COLOR" })
        XCTAssertTrue(tty.stdoutText.contains("\u{1B}[1;31mfailed"), tty.stdoutText)
        let stripped = tty.stdoutText.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
            .replacingOccurrences(of: "\r\n", with: "\n")
        XCTAssertEqual(stripped.split(separator: "\n").first.map(String.init), String(header))

        let json = try h.jobctl(["status", "--json"])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any])
        XCTAssertEqual((object["jobs"] as? [[String: Any]])?.count, 21)
        let one = try h.jobctl(["status", "ghost"])
        XCTAssertEqual(one.status, 1)
        XCTAssertTrue(one.stderrText.contains("unknown job \"ghost\""), one.stderrText)
        let history = try h.jobctl(["history", "db-backup"])
        XCTAssertTrue(history.stdoutText.hasPrefix("STARTED"), history.stdoutText)
        XCTAssertEqual(history.stdoutText.split(separator: "\n").count, 3, history.stdoutText)
    }
}
