/// `2026-03-29T02:30:00+01:00`: the instant with the offset in force in `timeZone` at that
/// instant, so an operator reads the job's own wall clock. UTC is written `+00:00`, never
/// `Z`, to keep every line the same shape. An unknown zone formats in UTC.
public func rfc3339(_ t: Int64, timeZone: String) -> String {
    let offset = ZoneRules.named(timeZone)?.offset(at: t) ?? 0
    let local = t + offset
    let days = Civil.floorDiv(local, Civil.secondsPerDay)
    let date = Civil.date(fromDays: days)
    let seconds = Int(local - days * Civil.secondsPerDay)
    let offsetMinutes = Int(abs(offset) / 60)
    var text = pad(date.year, 4) + "-" + pad(date.month, 2) + "-" + pad(date.day, 2)
    text += "T" + pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2)
    text += (offset < 0 ? "-" : "+") + pad(offsetMinutes / 60, 2) + ":" + pad(offsetMinutes % 60, 2)
    return text
}

/// Epoch seconds for an RFC 3339 timestamp (`Z` or `±hh:mm`, optional fraction, which is
/// truncated toward the past); nil if the text is not one.
public func parseRFC3339(_ text: String) -> Int64? {
    parseRFC3339Milliseconds(text).map { Civil.floorDiv($0, 1000) }
}

/// Epoch milliseconds for an RFC 3339 timestamp, the fraction truncated to milliseconds.
/// Works on the UTF-8 bytes: the monitor parses several per run report.
public func parseRFC3339Milliseconds(_ text: String) -> Int64? {
    var text = text
    return text.withUTF8 { parseRFC3339Milliseconds(utf8: $0) }
}

/// The same, on bytes straight off the wire.
public func parseRFC3339Milliseconds(utf8: UnsafeBufferPointer<UInt8>) -> Int64? {
    var parser = RFC3339Parser(bytes: utf8)
    return parser.milliseconds()
}

private struct RFC3339Parser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func milliseconds() -> Int64? {
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
              let second = number(2),
              (1...12).contains(month), (1...Civil.daysInMonth(year: Int64(year), month: month)).contains(day),
              hour < 24, minute < 60, second < 61
        else { return nil }
        var ms = 0
        if expect(".") {
            var digits = 0
            while index < bytes.count, let d = digit(bytes[index]) {
                if digits < 3 { ms = ms * 10 + d }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in min(digits, 3)..<3 { ms *= 10 }
        }
        var offset = 0
        if !expect("Zz") {
            guard index < bytes.count else { return nil }
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard expect("+-"), let offsetHours = number(2), expect(":"), let offsetMinutes = number(2),
                  offsetHours < 24, offsetMinutes < 60 else { return nil }
            offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard index == bytes.count else { return nil }
        let days = Civil.days(year: Int64(year), month: month, day: day)
        let seconds = days * Civil.secondsPerDay + Int64(hour * 3600 + minute * 60 + second - offset)
        // An offset (or a leap second) can carry the edge years past 0000...9999 in UTC, the
        // form every report is normalised to and read back in: such a time has no UTC spelling.
        let utc = seconds * 1000 + Int64(ms)
        return Self.utcRange.contains(utc) ? utc : nil
    }

    /// 0000-01-01T00:00:00.000Z ... 9999-12-31T23:59:59.999Z in epoch milliseconds.
    private static let utcRange: ClosedRange<Int64> = {
        let msPerDay = Civil.secondsPerDay * 1000
        return Civil.days(year: 0, month: 1, day: 1) * msPerDay ... Civil.days(year: 10_000, month: 1, day: 1) * msPerDay - 1
    }()

    private func digit(_ c: UInt8) -> Int? {
        c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") ? Int(c - UInt8(ascii: "0")) : nil
    }

    private mutating func number(_ width: Int) -> Int? {
        guard index + width <= bytes.count else { return nil }
        var value = 0
        for i in index..<index + width {
            guard let d = digit(bytes[i]) else { return nil }
            value = value * 10 + d
        }
        index += width
        return value
    }

    private mutating func expect(_ allowed: StaticString) -> Bool {
        guard index < bytes.count else { return false }
        let c = bytes[index]
        let found = allowed.withUTF8Buffer { $0.contains(c) }
        if found { index += 1 }
        return found
    }
}

private func pad(_ value: some BinaryInteger, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
