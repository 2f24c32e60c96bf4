/// Reads back the one JSON shape `RunEvent.json` writes: a single object whose values are
/// strings, whole numbers, lists of whole numbers, booleans or null. Anything else — nesting, fractions, trailing
/// bytes — is not a spooled event and reads as nil. Kept here rather than taking Foundation's
/// `JSONSerialization` because `jobrun` replays the spool and must start fast (see
/// docs/BENCHMARKS.md).
enum FlatJSON {
    enum Value: Equatable {
        case string(String)
        case number(Int64)
        case numbers([Int64])
        case bool(Bool)
        case null
    }

    static func object(_ bytes: [UInt8]) -> [String: Value]? {
        var reader = Reader(bytes: bytes)
        return reader.object()
    }

    private struct Reader {
        let bytes: [UInt8]
        var i = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func object() -> [String: Value]? {
            guard take("{") else { return nil }
            var result: [String: Value] = [:]
            if !take("}") {
                repeat {
                    skipSpace()
                    guard let key = string(), take(":"), let value = value() else { return nil }
                    result[key] = value
                } while take(",")
                guard take("}") else { return nil }
            }
            skipSpace()
            return i == bytes.count ? result : nil
        }

        private mutating func value() -> Value? {
            skipSpace()
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "\""): return string().map(Value.string)
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "["): return numbers().map(Value.numbers)
            default: return number().map(Value.number)
            }
        }

        private mutating func numbers() -> [Int64]? {
            guard take("[") else { return nil }
            var list: [Int64] = []
            if take("]") { return list }
            repeat {
                skipSpace()
                guard let n = number() else { return nil }
                list.append(n)
            } while take(",")
            return take("]") ? list : nil
        }

        private mutating func number() -> Int64? {
            let start = i
            if i < bytes.count && bytes[i] == UInt8(ascii: "-") { i += 1 }
            while i < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
            return Int64(String(decoding: bytes[start..<i], as: UTF8.self))
        }

        private mutating func string() -> String? {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            var scalars = String.UnicodeScalarView()
            var run = i   // start of the current stretch of unescaped bytes
            func flush(_ end: Int) { scalars.append(contentsOf: String(decoding: bytes[run..<end], as: UTF8.self).unicodeScalars) }
            while i < bytes.count {
                let c = bytes[i]
                if c == UInt8(ascii: "\"") {
                    flush(i)
                    i += 1
                    return String(scalars)
                }
                if c < 0x20 { return nil }
                guard c == UInt8(ascii: "\\") else { i += 1; continue }
                flush(i)
                i += 1
                guard i < bytes.count else { return nil }
                let escape = bytes[i]
                i += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{8}")
                case UInt8(ascii: "f"): scalars.append("\u{c}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    guard var code = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(code) {   // a surrogate pair spells one scalar
                        guard take("\\"), take("u"), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { return nil }
                    scalars.append(scalar)
                default: return nil
                }
                run = i
            }
            return nil
        }

        private mutating func hex4() -> UInt32? {
            guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else { return nil }
            i += 4
            return v
        }

        private mutating func literal(_ word: String) -> Bool {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { return false }
            i += w.count
            return true
        }

        private mutating func take(_ c: Unicode.Scalar) -> Bool {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(c.value) else { return false }
            i += 1
            return true
        }

        private mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        }
    }
}
