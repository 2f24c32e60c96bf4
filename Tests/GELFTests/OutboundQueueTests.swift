import Foundation
import XCTest
@testable import GELF

final class OutboundQueueTests: XCTestCase {
    private func payload(_ number: Int) -> [UInt8] { Array("line \(number)".utf8) }

    private func drain(_ queue: OutboundQueue) -> [String] {
        var seen: [String] = []
        while queue.waitUntilDrained(deadline: 0) == false, let batch = queue.nextBatch() {
            seen += batch.payloads.map { String(decoding: $0, as: UTF8.self) }
            queue.batchDone(batch, undelivered: 0)
        }
        return seen
    }

    func testDropsTheOldestLinesAndCountsThem() {
        let queue = OutboundQueue(byteCapacity: 1 << 20, countCapacity: 10)
        for number in 1...15 { queue.push(payload(number), isEvent: false) }
        XCTAssertEqual(queue.droppedCount, 5)
        XCTAssertEqual(drain(queue), (6...15).map { "line \($0)" })
    }

    func testByteCapacityBoundsTheQueue() {
        let queue = OutboundQueue(byteCapacity: 10 * (100 + 48), countCapacity: 1000)
        for _ in 1...50 { queue.push([UInt8](repeating: 65, count: 100), isEvent: false) }
        XCTAssertEqual(queue.droppedCount, 40)
    }

    func testEventsAreNeverPushedOutByLinesAndGoFirst() {
        let queue = OutboundQueue(byteCapacity: 1 << 20, countCapacity: 4)
        queue.push(payload(1), isEvent: false)
        queue.push(Array("start".utf8), isEvent: true)
        for number in 2...10 { queue.push(payload(number), isEvent: false) }
        XCTAssertEqual(drain(queue), ["start", "line 8", "line 9", "line 10"])
        XCTAssertEqual(queue.droppedCount, 7)
    }

    func testAbandonedLinesAreCountedAndLaterLinesRefused() {
        let queue = OutboundQueue(byteCapacity: 1 << 20, countCapacity: 100)
        for number in 1...3 { queue.push(payload(number), isEvent: false) }
        XCTAssertEqual(queue.abandonLines(deadline: 0), 3)
        queue.push(payload(4), isEvent: false)
        queue.push(Array("finish".utf8), isEvent: true)
        XCTAssertEqual(queue.droppedCount, 4)
        XCTAssertEqual(drain(queue), ["finish"])
    }

    func testSendIsSafeFromTwoReaderThreads() throws {
        let receiver = UDPReceiver()
        defer { receiver.stop() }
        let sender = try GELFSender(url: receiver.url, compression: .none)
        DispatchQueue.concurrentPerform(iterations: 2) { stream in
            for number in 1...20_000 {
                sender.send(GELFMessage(host: "h", shortMessage: "line \(number)", timestamp: 1, level: 6,
                                        fields: [GELFField("_stream", stream == 0 ? "stdout" : "stderr")]))
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
