import Foundation
import XCTest
@testable import GELF

final class TCPTransportTests: XCTestCase {
    private func lines(_ numbers: ClosedRange<Int>, padding: Int = 0) -> String {
        numbers.map { "line \($0)" + String(repeating: ".", count: padding) + "\n" }.joined()
    }

    /// Hands lines over in chunks of 100, as a pipe reader would.
    private func output(_ numbers: ClosedRange<Int>, to sender: GELFSender) {
        for start in stride(from: numbers.lowerBound, through: numbers.upperBound, by: 100) {
            sender.output(lines(start...min(start + 99, numbers.upperBound)))
        }
    }

    private func finishMessage(_ dropped: Int) -> GELFMessage {
        GELFMessage(host: "web-01", shortMessage: "finish", timestamp: 1, level: 6,
                    fields: [GELFField("_event", "finish"), GELFField("_dropped_lines", dropped)])
    }

    func testFramesArriveNulTerminatedUncompressedAndInOrder() throws {
        let receiver = TCPReceiver(reading: true)
        defer { receiver.stop() }
        let sender = try GELFSender(url: receiver.url, compression: .gzip, queueCapacity: 64 << 20)
        sender.setOutputContext(host: "web-01", fields: [GELFField("_job", "nightly-report")])
        output(1...20_000, to: sender)
        sender.finish(finalMessage: finishMessage, timeout: 10)
        let frames = receiver.waitForFrames(20_001)
        XCTAssertEqual(frames.count, 20_001)
        let messages = try frames.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0)) as? [String: Any]) }
        XCTAssertEqual(messages.dropLast().compactMap { $0["_line"] as? Int }, Array(1...20_000))
        XCTAssertEqual(messages.last?["_dropped_lines"] as? Int, 0)
        XCTAssertEqual(sender.droppedCount, 0)
        if (try? PythonDecoder.python()) != nil {
            XCTAssertEqual(validMessages(try PythonDecoder.decodeTCP(receiver.bytes)).count, 20_001)
        }
    }

    func testRefusedConnectionNeverBlocksTheJobAndCountsEveryLine() throws {
        let sender = try GELFSender(url: "tcp://127.0.0.1:\(refusedPort())", queueCapacity: 1 << 20)
        let start = Date()
        output(1...200_000, to: sender)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "sendOutput() must not wait for the network")
        let finishStart = Date()
        var reported = -1
        // With no connection there is nothing to wait for: finish must not use up its time.
        sender.finish(finalMessage: { reported = $0; return self.finishMessage($0) }, timeout: 5)
        XCTAssertLessThan(Date().timeIntervalSince(finishStart), 2.5, "dropped at once, not held until the deadline")
        XCTAssertEqual(reported, 200_000, "every line was dropped, and counted")
        XCTAssertEqual(sender.droppedCount, 200_000)
    }

    func testPeerThatAcceptsButNeverReadsCannotBlockOrGrowMemory() throws {
        let receiver = TCPReceiver(reading: false)
        defer { receiver.stop() }
        let sender = try GELFSender(url: receiver.url, compression: .none)
        let before = residentBytes()
        var slowest = 0.0
        // About 100 MB of output: far more than the queue and the kernel's socket buffers hold.
        let block = lines(1...60, padding: 1000)
        for _ in 1...1_700 {
            let start = Date()
            sender.output(block)
            slowest = max(slowest, Date().timeIntervalSince(start))
        }
        let growth = residentBytes() - before
        XCTAssertLessThan(slowest, 0.25, "sendOutput() must not wait for the network")
        XCTAssertLessThan(growth, 64 << 20, "queue memory is bounded")
        XCTAssertGreaterThan(sender.droppedCount, 0)
        XCTAssertGreaterThanOrEqual(receiver.connectionCount, 1)
        let finishStart = Date()
        sender.finish(finalMessage: finishMessage, timeout: 1)
        XCTAssertLessThan(Date().timeIntervalSince(finishStart), 1.5)
    }

    func testReconnectsAfterTheReceiverRestarts() throws {
        let first = TCPReceiver(reading: true)
        let sender = try GELFSender(url: first.url)
        sender.output(lines(1...1))
        XCTAssertEqual(first.waitForFrames(1).count, 1)
        let port = first.port
        first.stop()
        // A receiver on the same port again; the sender must find it without help.
        let second = TCPReceiver(reading: true, port: port)
        defer { second.stop() }
        let deadline = Date().addingTimeInterval(10)
        var number = 2
        while second.frames.isEmpty && Date() < deadline {
            sender.output(lines(number...number))
            number += 1
            usleep(50_000)
        }
        XCTAssertFalse(second.frames.isEmpty, "reconnected")
        sender.finish(finalMessage: finishMessage, timeout: 2)
    }
}
