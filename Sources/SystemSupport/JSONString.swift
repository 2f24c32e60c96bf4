/// JSON string literals written straight into a byte buffer, for the JSON Jobwatch writes by
/// hand: run events (`jobrun` must not load Foundation) and the monitor's stored state (written
/// for every touched job, where `JSONEncoder` was the leader's largest cost).
public enum JSONString {
    /// Appends `text` quoted: quote, backslash and control characters escaped; everything else
    /// (a Swift `String` is always valid Unicode) copied as it is.
    public static func append(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var plainStart = 0
            for (i, byte) in utf8.enumerated() where byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainStart..<i]))
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
                case UInt8(ascii: "\n"): bytes.append(contentsOf: #"\n"#.utf8)
                case UInt8(ascii: "\r"): bytes.append(contentsOf: #"\r"#.utf8)
                case UInt8(ascii: "\t"): bytes.append(contentsOf: #"\t"#.utf8)
                default: bytes.append(contentsOf: (#"\u00"# + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)).utf8)
                }
                plainStart = i + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
