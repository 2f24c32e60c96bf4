import Foundation
import XCTest
@testable import GELF

final class HTTPTransportTests: XCTestCase {
    /// Starts gelf_http_receiver.py expecting `count` requests; returns it and its port.
    private func startReceiver(count: Int) throws -> (Process, Pipe, Int) {
        let process = Process()
        process.executableURL = try PythonDecoder.python()
        process.arguments = [PythonDecoder.directory.appendingPathComponent("gelf_http_receiver.py").path, String(count)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var firstLine = Data()
        while !firstLine.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            firstLine.append(chunk)
        }
        let port = try XCTUnwrap(Int(String(decoding: firstLine, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        return (process, output, port)
    }

    func testPostsOneMessagePerRequestOverOneKeptAliveConnection() throws {
        for compression in GELFCompression.allCases {
            let (process, output, port) = try startReceiver(count: 3)
            let sender = try GELFSender(url: "http://127.0.0.1:\(port)/gelf", compression: compression)
            sender.output("line 1\nline 2\n")
            sender.finish(finalMessage: { dropped in
                GELFMessage(host: "web-01", shortMessage: "finish", timestamp: 2, level: 6,
                            fields: [GELFField("_dropped_lines", dropped)])
            }, timeout: 5)
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let requests = try PythonDecoder.jsonLines(data)
            XCTAssertEqual(requests.compactMap { ($0["message"] as? [String: Any])?["short_message"] as? String },
                           ["line 1", "line 2", "finish"], "\(compression)")
            let expectedEncoding: [GELFCompression: String] = [.gzip: "gzip", .zlib: "deflate", .none: ""]
            XCTAssertTrue(requests.allSatisfy { $0["encoding"] as? String == expectedEncoding[compression] })
            XCTAssertTrue(requests.allSatisfy { $0["content_type"] as? String == "application/json" })
            XCTAssertEqual(Set(requests.compactMap { $0["client_port"] as? Int }).count, 1, "keep-alive")
            XCTAssertEqual(sender.droppedCount, 0)
        }
    }

    func testUnreachableServerDoesNotHoldUpFinish() throws {
        let sender = try GELFSender(url: "http://127.0.0.1:\(refusedPort())/gelf")
        sender.output((1...1000).map { "line \($0)\n" }.joined())
        let start = Date()
        var reported = -1
        sender.finish(finalMessage: { reported = $0
            return GELFMessage(host: "h", shortMessage: "finish", timestamp: 1, level: 6)
        }, timeout: 5)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2.5, "dropped at once, not held until the deadline")
        XCTAssertEqual(reported, 1000)
    }
}
