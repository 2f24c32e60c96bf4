import CProcess
import XCTest

/// The C scans behind output rules, against the obvious loops.
final class ByteScanTests: XCTestCase {
    func testCountingAByteAgreesWithALoopAtEveryLengthAndAlignment() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<70_000).map { _ in UInt8.random(in: 0...15, using: &generator) == 0 ? 0x0A : UInt8.random(in: 0...255, using: &generator) }
        bytes.withUnsafeBytes { all in
            // Past 255 × 16 bytes the SIMD counters are summed and restarted.
            for (start, length) in [(0, 0), (1, 15), (3, 16), (5, 17), (0, 4_080), (7, 4_097), (11, 65_536), (0, 70_000)] {
                let slice = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                let expected = slice.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                XCTAssertEqual(jw_count_byte(slice.baseAddress ?? all.baseAddress!, length, 0x0A), expected, "start \(start), length \(length)")
            }
        }
        let all0A = [UInt8](repeating: 0x0A, count: 10_000)
        XCTAssertEqual(all0A.withUnsafeBytes { jw_count_byte($0.baseAddress!, $0.count, 0x0A) }, 10_000, "every byte: no counter wraps")
    }

    func testFindingReportsTheProbeAndItsFalseHitsSoACommonByteCanBeRankedAway() {
        var ranks = [UInt8](repeating: 0, count: 256)
        ranks.withUnsafeMutableBufferPointer { jw_byte_ranks($0.baseAddress!) }
        let text = Array(String(repeating: "2026-12-06T10:00:00Z INFO done\n", count: 100).utf8) + Array("Traceback (most recent call last)\n".utf8)
        let needle = Array("Traceback".utf8)
        func find() -> (offset: Int?, falseHits: Int, probe: UInt8) {
            var falseHits = 0
            var probe: UInt8 = 0
            let offset = text.withUnsafeBytes { haystack in
                needle.withUnsafeBytes { n in
                    jw_find(haystack.baseAddress!, haystack.count, n.baseAddress!, n.count, ranks, &falseHits, &probe)
                        .map { UnsafeRawPointer($0) - haystack.baseAddress! }
                }
            }
            return (offset, falseHits, probe)
        }
        let first = find()
        XCTAssertEqual(first.offset, 3_100)
        XCTAssertEqual(first.probe, UInt8(ascii: "T"), "upper case is guessed rare")
        XCTAssertEqual(first.falseHits, 100, "one T per timestamp")
        ranks[Int(first.probe)] = 255
        let second = find()
        XCTAssertEqual(second.offset, 3_100, "the same match through another byte")
        XCTAssertNotEqual(second.probe, UInt8(ascii: "T"))
        XCTAssertEqual(second.falseHits, 0)
    }
}
