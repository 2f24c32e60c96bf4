import Foundation
import XCTest
@testable import GELF

final class OutboundQueueTests: XCTestCase {
    private func push(_ queue: OutboundQueue, _ text: String, _ stream: GELFOutputStream = .stdout) {
        Array(text.utf8).withUnsafeBytes { queue.pushOutput($0, stream: stream, time: 1) }
    }

    func testDroppedChunksCountTheirLinesWithContent() throws {
        let queue = OutboundQueue(byteCapacity: 10)
        push(queue, "ab\n\ncd")   // "ab", an empty line, and "cd" continuing in the next chunk
        push(queue, "ef\n")
        XCTAssertEqual(queue.droppedCount, 0)
        push(queue, "g\n")        // pushes out the first chunk: only "ab" had content
        XCTAssertEqual(queue.droppedCount, 1)
        push(queue, "h\n")
        push(queue, "xxxxxx")     // pushes out "ef\n", the end of "cdef"
        XCTAssertEqual(queue.droppedCount, 2)
        guard case .output(let chunk, _)? = queue.nextWork() else { return XCTFail("expected output") }
        XCTAssertEqual(chunk.bytes, Array("g\n".utf8))
        XCTAssertEqual(chunk.gap.bytes, 9)
        XCTAssertEqual(chunk.gap.newlines, 3, "line numbers jump by every line dropped")
        XCTAssertEqual(chunk.gap.lines, 2)
        XCTAssertFalse(chunk.gap.endsMidLine)
    }

    func testStreamsKeepTheirOwnGapsAndEventsGoFirst() throws {
        let queue = OutboundQueue(byteCapacity: 8)
        push(queue, "out1\n")
        push(queue, "err1", .stderr)   // pushes out stdout's chunk
        queue.pushEvent(Array("start".utf8))
        guard case .events(let events)? = queue.nextWork() else { return XCTFail("expected events") }
        XCTAssertEqual(events, [Array("start".utf8)])
        queue.workDone(droppedDelta: 0)
        guard case .output(let chunk, _)? = queue.nextWork() else { return XCTFail("expected output") }
        XCTAssertEqual(chunk.stream, .stderr)
        XCTAssertEqual(chunk.gap.bytes, 0, "the gap belongs to stdout")
        queue.workDone(droppedDelta: 0)
        queue.endOutput(stream: .stdout)
        guard case .end(let stream, let gap, _)? = queue.nextWork() else { return XCTFail("expected end") }
        XCTAssertEqual(stream, .stdout)
        XCTAssertEqual(gap.lines, 1)
    }

    func testSendOutputIsSafeFromTwoReaderThreads() throws {
        let receiver = UDPReceiver()
        defer { receiver.stop() }
        let sender = try GELFSender(url: receiver.url, compression: .none)
        DispatchQueue.concurrentPerform(iterations: 2) { stream in
            for block in 0..<200 {
                let text = (1...100).map { "line \(block * 100 + $0)\n" }.joined()
                sender.output(text, stream == 0 ? .stdout : .stderr)
            }
        }
        var reported = -1
        sender.finish(finalMessage: { reported = $0
            return GELFMessage(host: "h", shortMessage: "finish", timestamp: 1, level: 6)
        }, timeout: 5)
        let datagrams = receiver.datagrams(timeout: 5) { $0.count >= 40_001 - reported }
        XCTAssertEqual(datagrams.count + reported, 40_001, "every line was sent or counted as dropped")
    }
}
