import Foundation
import XCTest
@testable import GELF

final class UDPTransportTests: XCTestCase {
    private var receiver: UDPReceiver!

    override func setUpWithError() throws {
        _ = try PythonDecoder.python()
        receiver = UDPReceiver()
    }

    override func tearDown() {
        receiver.stop()
    }

    private func finish(_ sender: GELFSender) {
        sender.finish(finalMessage: { dropped in
            GELFMessage(host: "web-01", shortMessage: "finish", timestamp: 1_732_371_300, level: 6,
                        fields: [GELFField("_event", "finish"), GELFField("_dropped_lines", dropped)])
        }, timeout: 5)
    }

    /// Sends `output` as the job's stdout, in chunks of `readSize` bytes, then the finish
    /// event; returns what the Python decoder made of the datagrams, fed to it in shuffled order.
    private func roundTrip(_ output: [UInt8], compression: GELFCompression, chunkSize: Int = 8192, readSize: Int = 4096,
                           expectedMessages: Int) throws -> (messages: [[String: Any]], datagrams: [[UInt8]]) {
        let sender = try GELFSender(url: receiver.url, compression: compression, chunkSize: chunkSize, queueCapacity: 64 << 20)
        sender.setOutputContext(host: "web-01", fields: [GELFField("_job", "nightly-report")])
        for start in stride(from: 0, to: output.count, by: readSize) {
            sender.output(Array(output[start..<min(start + readSize, output.count)]))
        }
        finish(sender)
        let datagrams = receiver.datagrams(timeout: 5) { received in
            (try? PythonDecoder.decodeUDP(received).count) ?? 0 >= expectedMessages
        }
        XCTAssertTrue(datagrams.allSatisfy { $0.count <= chunkSize })
        let decoded = validMessages(try PythonDecoder.decodeUDP(datagrams.shuffled()))
        return (decoded, datagrams)
    }

    private func lines(_ texts: [String]) -> [UInt8] { Array(texts.map { $0 + "\n" }.joined().utf8) }

    func testEveryCompressionModeRoundTrips() throws {
        let magic: [GELFCompression: UInt8] = [.gzip: 0x1F, .zlib: 0x78, .none: UInt8(ascii: "{")]
        for compression in GELFCompression.allCases {
            receiver.stop()
            receiver = UDPReceiver()
            let output = lines((1...50).map { "line \($0) of the job's output" + String(repeating: "=", count: 600) })
            let (messages, datagrams) = try roundTrip(output, compression: compression, expectedMessages: 51)
            // The short finish message is below the compression threshold and goes as plain JSON.
            let large = datagrams.filter { $0.count > 300 || $0.first != UInt8(ascii: "{") }
            XCTAssertEqual(large.count, 50)
            XCTAssertTrue(large.allSatisfy { $0.first == magic[compression] }, "\(compression)")
            let lines = messages.compactMap { $0["_line"] as? Int }.sorted()
            XCTAssertEqual(lines, Array(1...50), "\(compression)")
            XCTAssertEqual(messages.last { $0["_event"] as? String == "finish" }?["_dropped_lines"] as? Int, 0)
        }
    }

    func testLargeMessagesAreChunkedAndReassembleInAnyOrder() throws {
        var generator = SystemRandomNumberGenerator()
        // Random hex does not compress much, so these need many chunks even gzipped.
        let bodies = (0..<5).map { _ in (0..<20_000).map { _ in String(UInt8.random(in: 0...15, using: &generator), radix: 16) }.joined() }
        let (decoded, datagrams) = try roundTrip(lines(bodies), compression: .gzip, chunkSize: 1420, expectedMessages: 6)
        XCTAssertTrue(datagrams.contains { $0.starts(with: [0x1E, 0x0F]) })
        XCTAssertEqual(decoded.count, 6)
        for (index, body) in bodies.enumerated() {
            XCTAssertEqual(decoded.first { $0["_line"] as? Int == index + 1 }?["short_message"] as? String, body)
        }
    }

    func testMessageNeedingMoreThan128ChunksIsTruncatedNotDropped() throws {
        let body = String(repeating: "0123456789abcdef", count: 2048)  // exactly 32 KiB
        // 128 chunks of 116 data bytes hold 14,848 bytes: far less than the message.
        let (decoded, datagrams) = try roundTrip(lines([body]), compression: .none, chunkSize: 128, expectedMessages: 2)
        let chunkCounts = Set(datagrams.filter { $0.starts(with: [0x1E, 0x0F]) }.map { $0[11] })
        XCTAssertTrue(chunkCounts.allSatisfy { $0 <= 128 })
        let truncated = try XCTUnwrap(decoded.first { $0["_line"] as? Int == 1 })
        XCTAssertEqual(truncated["_truncated"] as? Int, 1)
        let text = try XCTUnwrap(truncated["short_message"] as? String)
        XCTAssertTrue(body.hasPrefix(text) && !text.isEmpty && text.count < body.count)
    }

    func testInvalidUTF8IsReplacedOnTheWire() throws {
        let bytes: [UInt8] = Array("before ".utf8) + [0xFF, 0xC3] + Array(" after\n".utf8)
        let (decoded, _) = try roundTrip(bytes, compression: .gzip, expectedMessages: 2)
        XCTAssertEqual(decoded.first { $0["_line"] as? Int == 1 }?["short_message"] as? String,
                       "before \u{FFFD}\u{FFFD} after")
    }

    func test100KiBLineIsSplitIntoParts() throws {
        let text = (0..<102_400).map { String(UnicodeScalar(UInt8(97 + $0 % 26))) }.joined()
        let (decoded, _) = try roundTrip(lines(Array(repeating: "", count: 8) + [text]), compression: .zlib, expectedMessages: 5)
        let parts = decoded.filter { $0["_line"] as? Int == 9 }.sorted { ($0["_part"] as! Int) < ($1["_part"] as! Int) }
        XCTAssertEqual(parts.count, 4)
        XCTAssertEqual(parts.map { $0["_parts"] as? Int }, [4, 4, 4, 4])
        XCTAssertEqual(parts.compactMap { $0["short_message"] as? String }.joined(), text)
    }

    func testEmptyLinesAreNotSentButCounted() throws {
        let (decoded, _) = try roundTrip(lines(["", "second", "\r", "fourth"]), compression: .none, expectedMessages: 3)
        XCTAssertEqual(decoded.count, 3)
        XCTAssertEqual(decoded.compactMap { $0["_line"] as? Int }.sorted(), [2, 4])
        XCTAssertFalse(decoded.contains { ($0["short_message"] as? String)?.isEmpty == true })
    }

    /// The Python decoder is checked against graypy (a third-party GELF sender), and then our
    /// encoding of the same record must decode to the same fields.
    func testAgreesWithGraypyOnTheSameRecord() throws {
        let verdicts = try PythonDecoder.graypyRoundTrip()
        if let reason = verdicts.first?["skip"] as? String { throw XCTSkip(reason) }
        XCTAssertEqual(verdicts.count, 2, "graypy sent two records: \(verdicts)")
        XCTAssertTrue(verdicts.contains { ($0["chunks"] as? Int ?? 1) > 1 }, "graypy's long record was chunked")
        let theirs = try XCTUnwrap(verdicts.compactMap { $0["message"] as? [String: Any] }
            .first { $0["short_message"] as? String == "crosscheck short" })
        let (decoded, _) = try roundTrip(lines(Array(repeating: "", count: 6) + ["crosscheck short"]), compression: .zlib,
                                         expectedMessages: 2)
        let mine = try XCTUnwrap(decoded.first { $0["short_message"] as? String == "crosscheck short" })
        for key in ["host", "short_message", "level", "_job", "_line", "_stream"] {
            XCTAssertEqual("\(mine[key] ?? "missing")", "\(theirs[key] ?? "missing")", key)
        }
    }
}
