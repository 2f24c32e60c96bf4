import SystemSupport

/// The parts of a compiled tzdata file (RFC 8536) that cron needs: when the UTC offset
/// changes and the POSIX rule that continues the table past its last explicit transition.
/// Reading the same files as Python's `zoneinfo` keeps us in step with cronsim.
struct TZif {
    var initialOffset: Int64
    var transitions: [(at: Int64, offset: Int64)]
    var footer: String

    static let searchPath = ["/usr/share/zoneinfo", "/usr/lib/zoneinfo", "/usr/share/lib/zoneinfo", "/etc/zoneinfo"]

    static func load(zoneID: String) -> TZif? {
        let components = zoneID.split(separator: "/", omittingEmptySubsequences: false)
        guard !zoneID.isEmpty, !zoneID.hasPrefix("/"),
              components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." })
        else { return nil }
        for directory in searchPath {
            if let bytes = FileSystem.contents(atPath: directory + "/" + zoneID) {
                return parse(bytes)
            }
        }
        return nil
    }

    static func parse(_ bytes: [UInt8]) -> TZif? {
        var reader = ByteReader(bytes: bytes)
        guard let v1 = reader.header() else { return nil }
        var header = v1
        var timeSize = 4
        if v1.version >= 2 {
            reader.skip(v1.dataLength(timeSize: 4))
            guard let v2 = reader.header() else { return nil }
            header = v2
            timeSize = 8
        }
        guard let times = reader.integers(count: header.timeCount, size: timeSize),
              let typeIndices = reader.bytes(count: header.timeCount)
        else { return nil }
        var offsets: [Int64] = []
        for _ in 0..<header.typeCount {
            guard let offset = reader.integers(count: 1, size: 4), reader.bytes(count: 2) != nil else { return nil }
            offsets.append(offset[0])
        }
        guard !offsets.isEmpty, typeIndices.allSatisfy({ Int($0) < offsets.count }) else { return nil }
        reader.skip(header.charCount + header.leapCount * (timeSize + 4) + header.isStdCount + header.isUTCCount)
        var footer = ""
        if v1.version >= 2, let text = reader.remainingText() {
            footer = text.trimmingWhitespace()
        }
        return TZif(
            initialOffset: offsets[0],
            transitions: zip(times, typeIndices).map { ($0, offsets[Int($1)]) },
            footer: footer)
    }
}

private struct TZifHeader {
    var version: Int
    var isUTCCount, isStdCount, leapCount, timeCount, typeCount, charCount: Int

    func dataLength(timeSize: Int) -> Int {
        timeCount * (timeSize + 1) + typeCount * 6 + charCount + leapCount * (timeSize + 4) + isStdCount + isUTCCount
    }
}

private struct ByteReader {
    let bytes: [UInt8]
    var position = 0

    mutating func skip(_ count: Int) { position += count }

    mutating func bytes(count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, position + count <= bytes.count else { return nil }
        defer { position += count }
        return bytes[position..<position + count]
    }

    /// Big-endian signed integers of 4 or 8 bytes.
    mutating func integers(count: Int, size: Int) -> [Int64]? {
        guard let raw = bytes(count: count * size) else { return nil }
        return (0..<count).map { index in
            let start = raw.startIndex + index * size
            let unsigned = raw[start..<start + size].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return size == 4 ? Int64(Int32(truncatingIfNeeded: unsigned)) : Int64(bitPattern: unsigned)
        }
    }

    mutating func header() -> TZifHeader? {
        guard let magic = bytes(count: 5), Array(magic.prefix(4)) == Array("TZif".utf8),
              bytes(count: 15) != nil,
              let counts = integers(count: 6, size: 4)
        else { return nil }
        let version = magic.last == 0 ? 1 : Int(magic.last! - UInt8(ascii: "0"))
        let c = counts.map { Int($0) }
        return TZifHeader(version: version, isUTCCount: c[0], isStdCount: c[1], leapCount: c[2],
                          timeCount: c[3], typeCount: c[4], charCount: c[5])
    }

    func remainingText() -> String? {
        guard position < bytes.count else { return nil }
        return String(decoding: bytes[position...], as: UTF8.self)
    }
}
