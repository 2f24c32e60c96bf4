import JobwatchCore
import JobwatchTestSupport
@testable import RedisLease
import XCTest

/// Commands written in the wire format by hand, and replies read in place: a byte wrong in
/// either would desynchronise a connection carrying a thousand-event batch.
final class RESPBufferTests: XCTestCase {
    func testWritesRedisArraysOfBulkStrings() {
        var buffer = RESPBuffer()
        buffer.command("SET", 4)
        buffer.argument("k")
        buffer.argument("é 日")
        buffer.argument("PX")
        buffer.argument(Int64(86_400_000))
        buffer.command("ZADD", 3)
        buffer.argument("z")
        buffer.argument(Int64(-7))
        buffer.argument(Int64.min)
        buffer.command("PING", 0)
        let set = "*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\né 日\r\n$2\r\nPX\r\n$8\r\n86400000\r\n"
        let expected = set + "*4\r\n$4\r\nZADD\r\n$1\r\nz\r\n$2\r\n-7\r\n$20\r\n-9223372036854775808\r\n" + "*1\r\n$4\r\nPING\r\n"
        XCTAssertEqual(String(decoding: buffer.bytes, as: UTF8.self), expected)
        XCTAssertEqual(buffer.count, 3)
        XCTAssertTrue(buffer.isComplete)
        XCTAssertEqual(RESPBuffer([["SET", "k", "é 日", "PX", "86400000"]]).bytes, Array(set.utf8))
    }

    func testBuffersGoOutInOrderAndEveryReplyIsReadInPlace() throws {
        let server = try startRedis()
        let connection = RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port))
        var first = RESPBuffer([["DEL", "t:list"], ["RPUSH", "t:list", "a", "", "ccc"]])
        first.command("SET", 2)
        first.argument("t:n")
        first.argument(Int64(-42))
        let second = RESPBuffer([["LRANGE", "t:list", "0", "-1"], ["GET", "t:n"], ["GET", "t:missing"], ["INCR", "t:list"]])
        var seen: [String] = []
        try connection.pipeline([first, RESPBuffer(), second]) { index, reply in
            switch index {
            case 1: XCTAssertEqual(reply.integer, 3)
            case 2: XCTAssertTrue(reply.equals("OK"))
            case 3:
                XCTAssertEqual(reply.count, 3)
                seen = (0..<reply.count).map { reply[$0]!.text }
                XCTAssertNil(reply[3])
                XCTAssertTrue(reply[1]!.equals(""))
                XCTAssertFalse(reply[2]!.equals("cc"))
            case 4: XCTAssertEqual(reply.integer, -42)
            case 5: XCTAssertTrue(reply.isNull)
            case 6:
                XCTAssertTrue(reply.isError)
                XCTAssertTrue(reply.text.hasPrefix("WRONGTYPE"), reply.text)
            default: break
            }
        }
        XCTAssertEqual(seen, ["a", "", "ccc"])
        // A reader that throws leaves the connection usable: it is dropped and re-opened.
        XCTAssertThrowsError(try connection.pipeline([RESPBuffer([["PING"], ["PING"]])]) { _, _ in
            throw RedisError(.server, "stop reading")
        })
        XCTAssertEqual(try connection.command(["GET", "t:n"]).string, "-42")
        XCTAssertEqual(try connection.command(["ECHO", "x"]) { $0.text }, "x")
    }

    /// Stream fields are anyone's to XADD: a number too large for Int64 is not a number,
    /// and must never trap (it would crash every replica that re-claims the entry).
    func testIntegersOutOfRangeOrMalformedAreNil() throws {
        let server = try startRedis()
        let connection = RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port))
        let cases: [(String, Int64?)] = [
            ("0", 0), ("7", 7), ("-1", -1), ("9223372036854775807", .max), ("-9223372036854775808", .min),
            ("9223372036854775808", nil), ("9999999999999999999", nil), ("-9223372036854775809", nil),
            ("18446744073709551616", nil), ("-", nil), ("", nil), ("1-2", nil), ("+5", nil), ("1.5", nil), (" 1", nil),
        ]
        let echoes = RESPBuffer(cases.map { ["ECHO", $0.0] })
        var parsed: [Int64?] = []
        try connection.pipeline([echoes]) { _, reply in parsed.append(reply.integer) }
        XCTAssertEqual(parsed, cases.map(\.1))
    }
}
