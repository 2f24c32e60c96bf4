/// GELF JSON, written straight into a byte buffer.
///
/// jobrun encodes every output line on the thread that reads the job's pipe, so this is the
/// hot path: no Foundation, no intermediate `String`s, one pass over each line that both
/// escapes it and repairs invalid UTF-8.
public enum GELFEncoder {
    /// Appends the JSON object for `message` to `out`.
    public static func encode(_ message: GELFMessage, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + message.shortMessage.count + 192 + 48 * message.fields.count)
        append(#"{"version":"1.1","host":"#, to: &out)
        appendString(message.host, to: &out)
        append(#","short_message":"#, to: &out)
        message.shortMessage.withUnsafeBufferPointer { appendJSONString($0, to: &out) }
        append(#","timestamp":"#, to: &out)
        appendTimestamp(message.timestamp, to: &out)
        append(#","level":"#, to: &out)
        appendInt(message.level, to: &out)
        for field in message.fields {
            out.append(UInt8(ascii: ","))
            appendString(field.name, to: &out)
            out.append(UInt8(ascii: ":"))
            switch field.value {
            case .string(let text): appendString(text, to: &out)
            case .int(let number): appendInt(number, to: &out)
            case .double(let number): appendDouble(number, to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    public static func encode(_ message: GELFMessage) -> [UInt8] {
        var out: [UInt8] = []
        encode(message, into: &out)
        return out
    }

    private static func append(_ literal: StaticString, to out: inout [UInt8]) {
        literal.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    private static func appendString(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendJSONString($0, to: &out) }
    }

    static func appendInt(_ value: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for UInt64.max's 20 digits
        withUnsafeMutableBytes(of: &digits) { buffer in
            var index = buffer.count
            repeat {
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: buffer[index...])
        }
    }

    /// Milliseconds: Graylog keeps no more, and a fixed format avoids Double-to-text costs.
    private static func appendTimestamp(_ seconds: Double, to out: inout [UInt8]) {
        let millis = seconds.isFinite ? Int((max(seconds, 0) * 1000).rounded()) : 0
        appendInt(millis / 1000, to: &out)
        let fraction = millis % 1000
        out.append(UInt8(ascii: "."))
        out.append(UInt8(ascii: "0") + UInt8(fraction / 100))
        out.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        out.append(UInt8(ascii: "0") + UInt8(fraction % 10))
    }

    /// JSON has no NaN or infinity; sending them as text keeps the message valid.
    private static func appendDouble(_ value: Double, to out: inout [UInt8]) {
        if value.isFinite {
            out.append(contentsOf: value.description.utf8)
        } else {
            appendString(value.description, to: &out)
        }
    }

    private static let hex: StaticString = "0123456789abcdef"
    private static let replacement: StaticString = "\u{FFFD}"

    /// Writes `bytes` as a quoted JSON string. Each maximal ill-formed UTF-8 subsequence becomes
    /// one U+FFFD (the Unicode-recommended practice, which Python and Swift follow too).
    static func appendJSONString(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
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
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            if byte >= 0x80 {
                replacement.withUTF8Buffer { out.append(contentsOf: $0) }
                index += illFormedLength(bytes, at: index)
            } else {
                appendEscape(byte, to: &out)
                index += 1
            }
            runStart = index
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<count]))
        out.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        default:
            out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            hex.withUTF8Buffer { digits in
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0F)])
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
