/// The end of a run's output, which is where errors are, cut to what an alert can carry.
public enum OutputExcerpt {
    /// Keeps PagerDuty events far under their 512 KB limit and Redis state small.
    public static let maxBytes = 4096
    static let marker = "…"

    /// The last `maxBytes` bytes of UTF-8, starting on a line or character boundary, with a
    /// marker when something was cut.
    public static func tail(_ text: String, maxBytes: Int = maxBytes) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count > maxBytes else { return text }
        let budget = maxBytes - marker.utf8.count
        var start = bytes.count - budget
        while start < bytes.count, bytes[start] & 0xC0 == 0x80 { start += 1 }
        // Starting at a line is easier to read, unless that would throw away most of the tail.
        if let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")), newline - start < budget / 4 {
            start = newline + 1
        }
        return marker + String(decoding: bytes[start...], as: UTF8.self)
    }

    /// At most `limit` UTF-16 units (Slack counts characters that way), keeping the start.
    public static func prefix(_ text: String, utf16Limit limit: Int) -> String {
        guard text.utf16.count > limit else { return text }
        var result = ""
        var used = 0
        let budget = limit - marker.utf16.count
        for character in text {
            let size = character.utf16.count
            if used + size > budget { break }
            result.append(character)
            used += size
        }
        return result + marker
    }
}
