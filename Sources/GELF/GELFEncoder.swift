/// GELF JSON, written straight into a byte buffer.
///
/// The sending thread encodes every output line, and how many lines a second it keeps up with
/// decides how much Graylog misses of a chatty job, so this is the hot path: no Foundation,
/// no intermediate `String`s, one pass over each line that both escapes it and repairs
/// invalid UTF-8.
public enum GELFEncoder {
    /// Appends the JSON object for `message` to `out`.
    public static func encode(_ message: GELFMessage, into out: inout [UInt8]) {
        // Writing through a raw pointer into a worst-case-sized scratch buffer, then copying
        // once, is several times faster than growing an Array byte by byte.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: worstCaseSize(message)) { scratch in
            var writer = ByteWriter(scratch.baseAddress!)
            write(message, to: &writer)
            out.append(contentsOf: UnsafeBufferPointer(start: scratch.baseAddress, count: writer.count))
        }
    }

    public static func encode(_ message: GELFMessage) -> [UInt8] {
        var out: [UInt8] = []
        encode(message, into: &out)
        return out
    }

    /// Escaping turns one byte into at most six (`\u001f`); a number takes at most 32.
    private static func worstCaseSize(_ message: GELFMessage) -> Int {
        var size = 128 + 6 * (message.host.utf8.count + message.shortMessage.count)
        for field in message.fields {
            size += 8 + 6 * field.name.utf8.count
            if case .string(let text) = field.value { size += 6 * text.utf8.count } else { size += 32 }
        }
        return size
    }

    private static func write(_ message: GELFMessage, to out: inout ByteWriter) {
        out.write(#"{"version":"1.1","host":"#)
        writeString(message.host, to: &out)
        out.write(#","short_message":"#)
        message.shortMessage.withUnsafeBufferPointer { writeJSONString($0, to: &out) }
        out.write(#","timestamp":"#)
        writeTimestamp(message.timestamp, to: &out)
        out.write(#","level":"#)
        writeInt(message.level, to: &out)
        writeFields(message.fields, to: &out)
        out.write(UInt8(ascii: "}"))
    }

    fileprivate static func writeFields(_ fields: [GELFField], to out: inout ByteWriter) {
        for field in fields {
            out.write(UInt8(ascii: ","))
            writeString(field.name, to: &out)
            out.write(UInt8(ascii: ":"))
            switch field.value {
            case .string(let text): writeString(text, to: &out)
            case .int(let number): writeInt(number, to: &out)
            case .double(let number): writeDouble(number, to: &out)
            }
        }
    }

    fileprivate static func writeString(_ text: String, to out: inout ByteWriter) {
        var text = text
        text.withUTF8 { writeJSONString($0, to: &out) }
    }

    fileprivate static func writeInt(_ value: Int, to out: inout ByteWriter) {
        if value < 0 { out.write(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var scale: UInt = 1
        while magnitude / scale >= 10 {
            scale *= 10
            digits += 1
        }
        for _ in 0..<digits {
            out.write(UInt8(ascii: "0") + UInt8(magnitude / scale))
            magnitude %= scale
            scale /= 10
        }
    }

    /// Milliseconds: Graylog keeps no more, and a fixed format avoids Double-to-text costs.
    /// A nonsensical clock value is clamped to 1970...9999 rather than trapping.
    fileprivate static func writeTimestamp(_ seconds: Double, to out: inout ByteWriter) {
        let millis = seconds.isFinite ? Int((min(max(seconds, 0), 253_402_300_799) * 1000).rounded()) : 0
        writeInt(millis / 1000, to: &out)
        let fraction = millis % 1000
        out.write(UInt8(ascii: "."))
        out.write(UInt8(ascii: "0") + UInt8(fraction / 100))
        out.write(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        out.write(UInt8(ascii: "0") + UInt8(fraction % 10))
    }

    /// JSON has no NaN or infinity; sending them as text keeps the message valid.
    private static func writeDouble(_ value: Double, to out: inout ByteWriter) {
        if value.isFinite {
            var text = value.description
            text.withUTF8 { out.write($0) }
        } else {
            writeString(value.description, to: &out)
        }
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    /// Writes `bytes` as a quoted JSON string. Each maximal ill-formed UTF-8 subsequence becomes
    /// one U+FFFD (the Unicode-recommended practice, which Python and Swift follow too).
    fileprivate static func writeJSONString(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout ByteWriter) {
        out.write(UInt8(ascii: "\""))
        var index = 0
        var runStart = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            if byte >= 0x80 {
                let length = validSequenceLength(bytes, at: index)
                if length > 0 {
                    index += length
                    continue
                }
            }
            out.write(UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            if byte >= 0x80 {
                out.write("\u{FFFD}")
                index += illFormedLength(bytes, at: index)
            } else {
                writeEscape(byte, to: &out)
                index += 1
            }
            runStart = index
        }
        out.write(UnsafeBufferPointer(rebasing: bytes[runStart..<count]))
        out.write(UInt8(ascii: "\""))
    }

    private static func writeEscape(_ byte: UInt8, to out: inout ByteWriter) {
        out.write(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.write(byte)
        case 0x0A: out.write(UInt8(ascii: "n"))
        case 0x0D: out.write(UInt8(ascii: "r"))
        case 0x09: out.write(UInt8(ascii: "t"))
        default:
            out.write("u00")
            hexDigits.withUTF8Buffer { digits in
                out.write(digits[Int(byte >> 4)])
                out.write(digits[Int(byte & 0x0F)])
            }
        }
    }

    /// The second byte's allowed range for each lead byte, per Unicode Table 3-7; later bytes
    /// are always 0x80...0xBF.
    private static func leadInfo(_ lead: UInt8) -> (length: Int, low: UInt8, high: UInt8)? {
        switch lead {
        case 0xC2...0xDF: return (2, 0x80, 0xBF)
        case 0xE0: return (3, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: return (3, 0x80, 0xBF)
        case 0xED: return (3, 0x80, 0x9F)
        case 0xF0: return (4, 0x90, 0xBF)
        case 0xF1...0xF3: return (4, 0x80, 0xBF)
        case 0xF4: return (4, 0x80, 0x8F)
        default: return nil
        }
    }

    /// Length of the well-formed sequence starting at `index`, or 0.
    private static func validSequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let prefix = wellFormedPrefix(bytes, at: index)
        return prefix.complete ? prefix.length : 0
    }

    /// Length of the maximal ill-formed subpart starting at `index` (at least 1).
    private static func illFormedLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        max(1, wellFormedPrefix(bytes, at: index).length)
    }

    private static func wellFormedPrefix(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int)
        -> (length: Int, complete: Bool)
    {
        guard let lead = leadInfo(bytes[index]) else { return (1, false) }
        var length = 1
        while length < lead.length {
            guard index + length < bytes.count else { return (length, false) }
            let byte = bytes[index + length]
            let (low, high) = length == 1 ? (lead.low, lead.high) : (UInt8(0x80), UInt8(0xBF))
            guard byte >= low && byte <= high else { return (length, false) }
            length += 1
        }
        return (length, true)
    }
}

/// The fields every output line of one stream shares, encoded once: per line only the text,
/// timestamp and line number are written (the general `encode` would copy and re-escape all
/// fields for each of millions of lines).
struct OutputLineTemplate {
    let host: String
    let level: Int
    /// The context fields plus `_stream` and `_event`, for the rare message rebuilt in full.
    let fields: [GELFField]
    private let head: [UInt8]
    private let middle: [UInt8]

    init(host: String, level: Int, fields: [GELFField]) {
        self.host = host
        self.level = level
        self.fields = fields
        let size = 64 + 6 * host.utf8.count + fields.reduce(0) { size, field in
            if case .string(let text) = field.value { return size + 8 + 6 * (field.name.utf8.count + text.utf8.count) }
            return size + 40 + 6 * field.name.utf8.count
        }
        var head: [UInt8] = []
        var middle: [UInt8] = []
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { scratch in
            var writer = ByteWriter(scratch.baseAddress!)
            writer.write(#"{"version":"1.1","host":"#)
            GELFEncoder.writeString(host, to: &writer)
            writer.write(#","short_message":"#)
            head = Array(UnsafeBufferPointer(start: scratch.baseAddress, count: writer.count))
            writer = ByteWriter(scratch.baseAddress!)
            writer.write(#","level":"#)
            GELFEncoder.writeInt(level, to: &writer)
            GELFEncoder.writeFields(fields, to: &writer)
            middle = Array(UnsafeBufferPointer(start: scratch.baseAddress, count: writer.count))
        }
        self.head = head
        self.middle = middle
    }

    /// One output message: `text` as `short_message`, then `_line`, and `_part`/`_parts`/
    /// `_truncated` where given. Same JSON as `GELFEncoder.encode` of `message(...)`.
    func encode(_ text: UnsafeRawBufferPointer, timestamp: Double, line: Int, part: Int?, parts: Int?,
                truncated: Bool) -> [UInt8] {
        // After the text: the timestamp (up to 16 bytes), `_line`, `_part` and `_parts` (up to 20
        // each, `Int.min`), `_truncated` and their keys come to 133 bytes at most.
        let size = head.count + middle.count + 6 * text.count + 136
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { scratch in
            var writer = ByteWriter(scratch.baseAddress!)
            head.withUnsafeBufferPointer { writer.write($0) }
            GELFEncoder.writeJSONString(text.assumingMemoryBound(to: UInt8.self), to: &writer)
            writer.write(#","timestamp":"#)
            GELFEncoder.writeTimestamp(timestamp, to: &writer)
            middle.withUnsafeBufferPointer { writer.write($0) }
            writer.write(#","_line":"#)
            GELFEncoder.writeInt(line, to: &writer)
            if let part {
                writer.write(#","_part":"#)
                GELFEncoder.writeInt(part, to: &writer)
            }
            if let parts {
                writer.write(#","_parts":"#)
                GELFEncoder.writeInt(parts, to: &writer)
            }
            if truncated { writer.write(#","_truncated":1"#) }
            writer.write(UInt8(ascii: "}"))
            return Array(UnsafeBufferPointer(start: scratch.baseAddress, count: writer.count))
        }
    }

    /// The same message as a `GELFMessage`, for UDP truncation (see `encodedTruncated`).
    func message(_ text: UnsafeRawBufferPointer, timestamp: Double, line: Int, part: Int?, parts: Int?,
                 truncated: Bool) -> GELFMessage {
        var all = fields + [GELFField("_line", line)]
        if let part { all.append(GELFField("_part", part)) }
        if let parts { all.append(GELFField("_parts", parts)) }
        if truncated { all.append(GELFField("_truncated", 1)) }
        return GELFMessage(host: host, shortMessage: Array(text), timestamp: timestamp, level: level, fields: all)
    }
}

/// Unchecked writes into a buffer sized by `GELFEncoder.worstCaseSize`.
private struct ByteWriter {
    let base: UnsafeMutablePointer<UInt8>
    var count = 0

    init(_ base: UnsafeMutablePointer<UInt8>) { self.base = base }

    mutating func write(_ byte: UInt8) {
        base[count] = byte
        count += 1
    }

    mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    mutating func write(_ literal: StaticString) {
        literal.withUTF8Buffer { write($0) }
    }
}
