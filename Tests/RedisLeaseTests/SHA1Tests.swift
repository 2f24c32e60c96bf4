import Foundation
import JobwatchTestSupport
@testable import RedisLease
import XCTest

/// EVALSHA only works if our SHA-1 is the one Redis computes, so it is checked against the
/// FIPS 180 vectors, against `sha1sum` around the padding boundaries, and against Redis itself.
final class SHA1Tests: XCTestCase {
    private func sha1(_ text: String) -> String { SHA1.hex(Array(text.utf8)) }

    func testKnownVectors() {
        XCTAssertEqual(sha1(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(sha1("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1", "the 448-bit vector")
        XCTAssertEqual(sha1("The quick brown fox jumps over the lazy dog"), "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12")
    }

    func testMillionAs() {
        XCTAssertEqual(SHA1.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    func testPaddingBoundariesAndOneMebibyteAgainstSha1sum() throws {
        guard which("sha1sum") != nil else { throw XCTSkip("sha1sum not installed") }
        for length in [1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1 << 20] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let r = try Command.run(["sha1sum"], stdin: bytes)
            let expected = String(r.stdoutText.prefix(40))
            XCTAssertEqual(expected.count, 40, r.stderrText)
            XCTAssertEqual(SHA1.hex(bytes), expected, "length \(length)")
        }
    }

    func testScriptNamesMatchWhatRedisComputes() throws {
        let server = try startRedis()
        let scripts = [
            LeaseScripts.acquire, LeaseScripts.renew, LeaseScripts.release,
            RedisScript("return 1"),
            RedisScript("return 'héllo ✓ — ünïcode'"),
        ]
        for script in scripts {
            XCTAssertEqual(try server.cli("SCRIPT", "LOAD", script.source), script.sha1, script.source)
        }
    }
}
