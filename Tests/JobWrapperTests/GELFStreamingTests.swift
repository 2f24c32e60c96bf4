import Foundation
import JobwatchTestSupport
import XCTest

/// jobrun → Graylog end to end: the real binary, a loopback receiver, and a decoder written
/// from the GELF spec (Tests/GELFTests/gelf_decode.py) as the judge.
final class GELFStreamingTests: XCTestCase {
    private static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    private static let decoder = testsDir.deletingLastPathComponent().appendingPathComponent("GELFTests/gelf_decode.py").path

    /// A receiver process; `port` is where it listens.
    final class Receiver {
        let running: Command.Running
        let port: Int
        let capture: String
        let mode: String

        init(running: Command.Running, port: Int, capture: String, mode: String) {
            self.running = running
            self.port = port
            self.capture = capture
            self.mode = mode
        }

        /// Stops the receiver and decodes everything it got: one verdict per message.
        func messages() throws -> [[String: Any]] {
            running.signal(SIGTERM)
            _ = running.wait(timeout: 10)
            let r = try Command.run(["python3", GELFStreamingTests.decoder, mode == "udp" ? "udp" : "tcp", capture])
            XCTAssertEqual(r.status, 0, r.stderrText)
            return try r.stdoutText.split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            }
        }
    }

    override func setUpWithError() throws {
        guard which("python3") != nil else { throw XCTSkip("python3 is needed for the GELF receiver and decoder") }
    }

    private func startReceiver(_ mode: String, _ h: JobrunHarness) throws -> Receiver {
        // The capture script prints its port first; the harness reads it from a side file.
        let capture = h.path("capture-\(mode)")
        let wrapper = h.path("recv-\(mode).sh")
        try """
            #!/bin/sh
            exec python3 \(Self.testsDir.appendingPathComponent("gelf_capture.py").path) "$1" "$2" > "$2.port"
            """.write(toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o755)
        let running = try Command.start([wrapper, mode, capture])
        var port = 0
        XCTAssertTrue(waitUntil(timeout: 10) {
            port = Int((try? String(contentsOfFile: capture + ".port", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            return port > 0
        }, "receiver did not start")
        return Receiver(running: running, port: port, capture: capture, mode: mode)
    }

    /// 10,000 lines on each stream, interleaved: some 100 KiB long, some invalid UTF-8, some
    /// empty, the last one without a newline. Paced like a real job so that a live receiver
    /// on loopback can keep up and nothing is dropped.
    private func writeJob(_ h: JobrunHarness) throws -> String {
        let script = h.path("chatty.py")
        try """
            import os, sys, time
            out, err = sys.stdout.buffer, sys.stderr.buffer
            for i in range(1, 10001):
                for stream, name in ((out, b"out"), (err, b"err")):
                    if i % 1000 == 0:
                        line = name + b" " + b"L" * (100 * 1024)
                    elif i % 777 == 0:
                        line = name + b" bad \\xff\\xfe utf-8 %d" % i
                    elif i % 500 == 0:
                        line = b""
                    else:
                        line = name + b" line %d" % i
                    stream.write(line + (b"" if i == 10000 else b"\\n"))
                if i % 100 == 0:
                    out.flush(); err.flush(); time.sleep(0.004)
            """.write(toFile: script, atomically: true, encoding: .utf8)
        return script
    }

    private func checkComplete(_ verdicts: [[String: Any]], ordered: Bool, file: StaticString = #filePath, line: UInt = #line) {
        let bad = verdicts.filter { ($0["ok"] as? Bool) != true }
        XCTAssertTrue(bad.isEmpty, "invalid GELF: \(bad.prefix(3))", file: file, line: line)
        let messages = verdicts.compactMap { $0["message"] as? [String: Any] }
        for stream in ["stdout", "stderr"] {
            let name = stream == "stdout" ? "out" : "err"
            let lines = messages.filter { $0["_stream"] as? String == stream }
            var texts: [Int: String] = [:]
            var previous = 0
            for m in lines {
                let number = m["_line"] as! Int
                if ordered { XCTAssertGreaterThanOrEqual(number, previous, "\(stream) out of order", file: file, line: line) }
                previous = number
                texts[number, default: ""] += m["short_message"] as! String
            }
            let expectedNumbers = Set((1...10000).filter { $0 % 500 != 0 || $0 % 1000 == 0 })
            XCTAssertEqual(Set(texts.keys), expectedNumbers, "\(stream): lines missing", file: file, line: line)
            XCTAssertEqual(texts[1000], "\(name) " + String(repeating: "L", count: 100 * 1024), file: file, line: line)
            XCTAssertEqual(texts[777], "\(name) bad \u{FFFD}\u{FFFD} utf-8 777", "invalid UTF-8 is replaced, never dropped", file: file, line: line)
            XCTAssertEqual(texts[9999], "\(name) line 9999", file: file, line: line)
        }
        let finish = messages.first { $0["_event"] as? String == "finish" }
        XCTAssertEqual(finish?["_dropped_lines"] as? Int, 0, file: file, line: line)
        XCTAssertEqual(finish?["_exit_code"] as? Int, 0, file: file, line: line)
        XCTAssertNotNil(messages.first { $0["_event"] as? String == "start" }, file: file, line: line)
    }

    func testTwentyThousandLinesArriveCompleteAndInOrderOverTCP() throws {
        let h = try JobrunHarness()
        let receiver = try startReceiver("tcp", h)
        let r = try h.jobrun(["--quiet", "--gelf", "tcp://127.0.0.1:\(receiver.port)", "chatty", "--", "python3", try writeJob(h)],
                             environment: ["JOBWATCH_SPOOL_DIR": h.path("spool")], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderrText)
        checkComplete(try receiver.messages(), ordered: true)
    }

    func testTwentyThousandLinesArriveCompleteOverUDPWithChunkingAndGzip() throws {
        let h = try JobrunHarness()
        let receiver = try startReceiver("udp", h)
        let r = try h.jobrun(["--quiet", "--gelf", "udp://127.0.0.1:\(receiver.port)", "chatty", "--", "python3", try writeJob(h)],
                             environment: ["JOBWATCH_GELF_COMPRESSION": "gzip", "JOBWATCH_GELF_CHUNK_SIZE": "1420"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderrText)
        checkComplete(try receiver.messages(), ordered: false)
    }

    /// Graylog gone in three ways: the job is never held up, memory stays bounded, and the
    /// dropped lines are counted (jobrun says how many with --verbose).
    func testAGigabyteJobIsNeverHeldUpByADeadReceiver() throws {
        let h = try JobrunHarness()
        let stall = try startReceiver("tcp-stall", h)
        defer { stall.running.signal(SIGKILL) }
        let job = "head -c 1000000000 /dev/zero | tr '\\\\0' 'x' | fold -w 1023"
        func run(_ gelf: [String]) throws -> (seconds: Double, rssKB: Int, stderr: String) {
            let started = Date()
            let r = try Command.run(["/bin/sh", "-c",
                "/usr/bin/time -f 'RSS %M' \(Command.binary("jobrun")) --verbose --no-monitor \(gelf.joined(separator: " ")) gig -- sh -c \"\(job)\" > /dev/null"],
                environment: h.environment, timeout: 600)
            XCTAssertEqual(r.status, 0, r.stderrText)
            let rss = Int(r.stderrText.components(separatedBy: "RSS ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            return (Date().timeIntervalSince(started), rss, r.stderrText)
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/time") else { throw XCTSkip("GNU time (/usr/bin/time) is needed to measure RSS") }
        let off = try run(["--no-gelf"])
        for target in ["udp://127.0.0.1:\(try refusedPort())", "tcp://127.0.0.1:\(try refusedPort())", "tcp://127.0.0.1:\(stall.port)"] {
            let on = try run(["--gelf", target])
            XCTAssertLessThan(on.rssKB, 64 * 1024, "\(target): memory must stay bounded")
            XCTAssertTrue(on.stderr.contains("output line(s) dropped"), "\(target): \(on.stderr)")
            // Generous on purpose (a loaded 2-core CI machine): what must never happen is the
            // job waiting on Graylog, which would take minutes, not seconds.
            XCTAssertLessThan(on.seconds, off.seconds * 3 + 10, "\(target): \(on.seconds)s vs \(off.seconds)s with GELF off")
        }
    }

    private func refusedPort() throws -> Int { try freePort() }
}
