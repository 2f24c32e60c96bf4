import Foundation
import XCTest
@testable import GELF

final class GELFEncoderTests: XCTestCase {
    private func decoded(_ message: GELFMessage) throws -> [String: Any] {
        let bytes = GELFEncoder.encode(message)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    func testRequiredFieldsAndTypes() throws {
        let message = GELFMessage(host: "web-01", shortMessage: "hello", timestamp: 1_732_371_234.1234,
                                  level: 6, fields: [GELFField("_job", "nightly"), GELFField("_line", 42),
                                                     GELFField("_ratio", .double(0.25))])
        let text = String(decoding: GELFEncoder.encode(message), as: UTF8.self)
        XCTAssertTrue(text.contains(#""timestamp":1732371234.123,"#), text)
        let json = try decoded(message)
        XCTAssertEqual(json["version"] as? String, "1.1")
        XCTAssertEqual(json["host"] as? String, "web-01")
        XCTAssertEqual(json["short_message"] as? String, "hello")
        XCTAssertEqual(json["level"] as? Int, 6)
        XCTAssertEqual(json["_job"] as? String, "nightly")
        XCTAssertEqual(json["_line"] as? Int, 42)
        XCTAssertEqual(json["_ratio"] as? Double, 0.25)
    }

    func testEscapesControlCharactersQuotesAndBackslashes() throws {
        let line = "tab\there \"quoted\" back\\slash \u{01}\u{1F} bell\u{07} cr\r"
        let json = try decoded(GELFMessage(host: "h", shortMessage: line, timestamp: 1, level: 6))
        XCTAssertEqual(json["short_message"] as? String, line)
    }

    func testKeepsValidMultibyteUTF8() throws {
        let line = "naïve café – 日本語 – 🚀 – \u{10FFFF}"
        let json = try decoded(GELFMessage(host: "h", shortMessage: line, timestamp: 1, level: 6))
        XCTAssertEqual(json["short_message"] as? String, line)
    }

    func testReplacesInvalidUTF8LikeSwiftAndPythonDo() throws {
        let samples: [[UInt8]] = [
            [0x61, 0xFF, 0x62],                   // impossible byte
            [0x61, 0xC3],                          // truncated at the end
            [0xE2, 0x82, 0x41],                    // truncated in the middle
            [0xED, 0xA0, 0x80],                    // UTF-16 surrogate
            [0xC0, 0xAF],                          // overlong
            [0xF4, 0x90, 0x80, 0x80],              // beyond U+10FFFF
            [0x80, 0x80, 0xF0, 0x9F, 0x9A, 0x80],  // stray continuations, then valid 🚀
        ]
        for bytes in samples {
            let json = try decoded(GELFMessage(host: "h", shortMessage: bytes, timestamp: 1, level: 6))
            XCTAssertEqual(json["short_message"] as? String, String(decoding: bytes, as: UTF8.self),
                           "bytes \(bytes)")
        }
    }

    func testRandomBytesAlwaysEncodeToValidJSONAndTheSameTextSwiftDecodes() throws {
        var generator = SystemRandomNumberGenerator()
        let interesting: [UInt8] = [0x00, 0x0A, 0x1F, 0x22, 0x5C, 0x7F, 0x80, 0xBF, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xFF]
        for _ in 0..<500 {
            let bytes = (0..<Int.random(in: 0...300, using: &generator)).map { _ in
                Bool.random(using: &generator) ? interesting.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
            }
            let message = GELFMessage(host: "h", shortMessage: bytes, timestamp: .greatestFiniteMagnitude, level: .min,
                                      fields: [GELFField("_raw", String(decoding: bytes, as: UTF8.self)), GELFField("_n", .max)])
            let json = try decoded(message)
            XCTAssertEqual(json["short_message"] as? String, String(decoding: bytes, as: UTF8.self))
            XCTAssertEqual(json["_raw"] as? String, String(decoding: bytes, as: UTF8.self))
        }
    }

    func testRepairsFieldNamesInsteadOfDroppingThem() {
        XCTAssertEqual(GELFField("_job", "x").name, "_job")
        XCTAssertEqual(GELFField("job", "x").name, "_job")
        XCTAssertEqual(GELFField("_id", "x").name, "__id")
        XCTAssertEqual(GELFField("id", "x").name, "__id")
        XCTAssertEqual(GELFField("_my field/ä", "x").name, "_my_field___")
        XCTAssertEqual(GELFField("_a.b-c_9", "x").name, "_a.b-c_9")
    }

    func testSplitsLongLinesAtUTF8BoundariesWithPartMarkers() {
        // 3-byte characters so that 32 KiB never falls on a character boundary.
        let line = Array(String(repeating: "€", count: 40_000).utf8)  // 120,000 bytes
        let parts = GELFMessage(host: "h", shortMessage: line, timestamp: 1, level: 6,
                                fields: [GELFField("_line", 7)]).splitIntoParts()
        XCTAssertEqual(parts.count, 4)
        XCTAssertEqual(parts.flatMap(\.shortMessage), line)
        for (index, part) in parts.enumerated() {
            XCTAssertLessThanOrEqual(part.shortMessage.count, GELFMessage.maxShortMessageBytes)
            XCTAssertNotNil(String(validatingCString: part.shortMessage.map { CChar(bitPattern: $0) } + [0]))
            XCTAssertEqual(part.fields, [GELFField("_line", 7), GELFField("_part", index + 1), GELFField("_parts", 4)])
        }
        let short = GELFMessage(host: "h", shortMessage: "short", timestamp: 1, level: 6)
        XCTAssertEqual(short.splitIntoParts().count, 1)
        XCTAssertTrue(short.splitIntoParts()[0].fields.isEmpty)
    }

    func testParsesEndpointsAndExplainsBadOnes() throws {
        XCTAssertEqual(try GELFEndpoint(parsing: "udp://graylog.internal:12201"), .udp(host: "graylog.internal", port: 12201))
        XCTAssertEqual(try GELFEndpoint(parsing: "tcp://[::1]:5555"), .tcp(host: "::1", port: 5555))
        XCTAssertEqual(try GELFEndpoint(parsing: "udp://graylog"), .udp(host: "graylog", port: 12201))
        XCTAssertEqual(try GELFEndpoint(parsing: "https://logs.example.com/gelf"), .http(url: "https://logs.example.com/gelf"))
        for bad in ["graylog:12201", "ftp://x", "udp://:12201", "udp://host:99999", "udp://host:abc", "tcp://h:1/path", "http:///gelf"] {
            XCTAssertThrowsError(try GELFEndpoint(parsing: bad), bad) { error in
                XCTAssertTrue("\(error)".contains(bad), "\(error)")
            }
        }
        XCTAssertThrowsError(try GELFSender(url: "udp://h:1", chunkSize: 10))
    }
}
