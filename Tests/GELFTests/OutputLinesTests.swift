import Foundation
import XCTest
@testable import GELF

/// Records what the sending thread delivers; while held, blocks like a stalled Graylog.
final class RecordingTransport: Transport, @unchecked Sendable {
    private let lock = NSCondition()
    private var payloads: [[UInt8]] = []
    private var holding: Bool
    private var blocked = false

    init(holding: Bool = false) { self.holding = holding }

    func deliver(_ batch: ArraySlice<[UInt8]>, giveUp: () -> Bool) -> Int {
        lock.lock()
        defer { lock.unlock() }
        while holding {
            blocked = true
            lock.broadcast()
            if giveUp() { return batch.count }
            _ = lock.wait(until: Date().addingTimeInterval(0.01))
        }
        payloads.append(contentsOf: batch)
        return 0
    }

    func close() {}

    func waitUntilBlocked() {
        lock.lock()
        defer { lock.unlock() }
        while !blocked { lock.wait() }
    }

    func release() {
        lock.lock()
        holding = false
        lock.unlock()
    }

    var messages: [[String: Any]] {
        lock.lock()
        defer { lock.unlock() }
        return payloads.map { (try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any] ?? ["invalid": true] }
    }
}

final class OutputLinesTests: XCTestCase {
    private func makeSender(_ transport: RecordingTransport, capacity: Int = 4 << 20) -> GELFSender {
        let sender = GELFSender(endpoint: .tcp(host: "test", port: 1), queueCapacity: capacity, transport: transport)
        sender.setOutputContext(host: "web-01", fields: [GELFField("_job", "nightly-report")])
        return sender
    }

    /// Finishes the run; returns the output lines received as (stream, line, text) and the
    /// dropped count the finish event reported.
    private func finish(_ sender: GELFSender, _ transport: RecordingTransport) -> (lines: [String], dropped: Int) {
        sender.finish(finalMessage: { dropped in
            GELFMessage(host: "web-01", shortMessage: "finish", timestamp: 1, level: 6,
                        fields: [GELFField("_event", "finish"), GELFField("_dropped_lines", dropped)])
        }, timeout: 5)
        let messages = transport.messages
        XCTAssertFalse(messages.contains { $0["invalid"] != nil }, "every message is valid JSON")
        let lines = messages.filter { $0["_event"] as? String == "output" }.map { message in
            let truncated = message["_truncated"] as? Int == 1 ? " (truncated)" : ""
            return "\(message["_stream"]!) \(message["_line"]!): \(message["short_message"]!)\(truncated)"
        }
        let dropped = messages.last { $0["_event"] as? String == "finish" }?["_dropped_lines"] as? Int ?? -1
        return (lines, dropped)
    }

    func testLinesAcrossChunksCRLFEmptyLinesAndAFinalLineWithoutNewline() throws {
        let transport = RecordingTransport()
        let sender = makeSender(transport)
        for chunk in ["first li", "ne\r\nsecond\n\n", "\nthird\r", "\nlast without newline"] { sender.output(chunk) }
        for chunk in ["err1\n", "\n", "err3"] { sender.output(chunk, .stderr) }
        sender.endOutput(stream: .stdout)   // stderr is ended by finish
        let (lines, dropped) = finish(sender, transport)
        XCTAssertEqual(lines.filter { $0.hasPrefix("stdout") },
                       ["stdout 1: first line", "stdout 2: second", "stdout 5: third", "stdout 6: last without newline"])
        XCTAssertEqual(lines.filter { $0.hasPrefix("stderr") }, ["stderr 1: err1", "stderr 3: err3"])
        XCTAssertEqual(dropped, 0)
        let first = try XCTUnwrap(transport.messages.first { $0["_event"] as? String == "output" })
        XCTAssertEqual(first["host"] as? String, "web-01")
        XCTAssertEqual(first["_job"] as? String, "nightly-report")
        XCTAssertEqual(transport.messages.first { $0["_stream"] as? String == "stderr" }?["level"] as? Int, 3)
        XCTAssertEqual(first["level"] as? Int, 6)
    }

    func testDropsTheOldestOutputCountingExactlyAndLineNumbersSkipIt() throws {
        let transport = RecordingTransport(holding: true)
        let sender = makeSender(transport, capacity: 64)
        sender.output("a1\na2\n")
        transport.waitUntilBlocked()               // the sender holds a1 and a2
        sender.output("b1\nb2\n\nb4\n")             // 3 lines with content and an empty one
        sender.output("c1\nc2\nc3\n")
        sender.output(String(repeating: "d\n", count: 20))
        XCTAssertEqual(sender.droppedCount, 0)
        sender.output("e1\ne2\n")                   // over 64 bytes: the b chunk goes
        XCTAssertEqual(sender.droppedCount, 3)
        transport.release()
        let (lines, dropped) = finish(sender, transport)
        XCTAssertEqual(dropped, 3)
        XCTAssertEqual(lines, ["stdout 1: a1", "stdout 2: a2", "stdout 7: c1", "stdout 8: c2", "stdout 9: c3"]
            + (10...29).map { "stdout \($0): d" } + ["stdout 30: e1", "stdout 31: e2"])
    }

    func testADropThatEndsAHeldLineSendsItsStartTruncated() throws {
        let transport = RecordingTransport(holding: true)
        let sender = makeSender(transport, capacity: 32)
        sender.output("a1\npartial")
        transport.waitUntilBlocked()               // the sender holds "partial" as the start of line 2
        sender.output("-rest\nlost\nhalf")          // ends line 2, all of line 3, starts line 4
        sender.output("-line\nc2\n")
        sender.output("d1\nd2\nd3\n")               // over 32 bytes: the chunk before goes
        XCTAssertEqual(sender.droppedCount, 2)
        transport.release()
        let (lines, dropped) = finish(sender, transport)
        XCTAssertEqual(lines, ["stdout 1: a1", "stdout 2: partial (truncated)", "stdout 4: -line (truncated)",
                               "stdout 5: c2", "stdout 6: d1", "stdout 7: d2", "stdout 8: d3"])
        XCTAssertEqual(dropped, 1, "line 3 alone was lost; line 2 was sent in part")
    }

    func testADropInsideALineMarksItTruncated() throws {
        let transport = RecordingTransport(holding: true)
        let sender = makeSender(transport, capacity: 20)
        sender.output("a1\nstart")
        transport.waitUntilBlocked()
        sender.output("-middle-")
        sender.output("end\nb2\n")
        sender.output("c1\nc2\nc3\n")               // over 20 bytes: "-middle-" goes
        transport.release()
        let (lines, dropped) = finish(sender, transport)
        XCTAssertEqual(lines, ["stdout 1: a1", "stdout 2: startend (truncated)", "stdout 3: b2",
                               "stdout 4: c1", "stdout 5: c2", "stdout 6: c3"])
        XCTAssertEqual(dropped, 0)
    }

    func testTenMegabyteLineWithoutNewlineStreamsOutInBoundedParts() throws {
        let transport = RecordingTransport()
        let sender = makeSender(transport, capacity: 16 << 20)
        var expected: [UInt8] = []
        for index in 0..<160 {
            let chunk = [UInt8](repeating: UInt8(ascii: "a") + UInt8(index % 26), count: 65_536)
            expected += chunk
            sender.output(chunk)
        }
        let deadline = Date().addingTimeInterval(5)
        while transport.messages.isEmpty && Date() < deadline { usleep(10_000) }
        XCTAssertFalse(transport.messages.isEmpty, "parts go out before the line ends")
        let (_, dropped) = finish(sender, transport)
        XCTAssertEqual(dropped, 0)
        let parts = transport.messages.filter { $0["_event"] as? String == "output" }
        XCTAssertEqual(parts.map { $0["_part"] as? Int }, (1...parts.count).map { $0 })
        XCTAssertTrue(parts.allSatisfy { $0["_line"] as? Int == 1 })
        XCTAssertEqual(parts.last?["_parts"] as? Int, parts.count)
        XCTAssertNil(parts.first?["_parts"], "the total is not known while the line streams")
        let texts = parts.compactMap { $0["short_message"] as? String }
        XCTAssertTrue(texts.allSatisfy { $0.utf8.count <= GELFMessage.maxShortMessageBytes })
        XCTAssertEqual(Array(texts.joined().utf8), expected)
    }

    func testUTF8SplitAcrossChunksIsReassembledAndInvalidBytesReplacedOnce() throws {
        let transport = RecordingTransport()
        let sender = makeSender(transport)
        let rocket: [UInt8] = [0xF0, 0x9F, 0x9A, 0x80]
        sender.output([0x61, 0xC3])
        sender.output([0xA9, 0x62, 0xFF])
        sender.output([0xFE, 0x0A, rocket[0]])
        sender.output([rocket[1]])
        sender.output([rocket[2], rocket[3], 0xE2, 0x82])
        sender.output([0x0A])
        let (lines, _) = finish(sender, transport)
        XCTAssertEqual(lines, ["stdout 1: aéb\u{FFFD}\u{FFFD}", "stdout 2: 🚀\u{FFFD}"])
    }
}
