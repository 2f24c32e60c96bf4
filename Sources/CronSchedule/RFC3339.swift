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
    let chars = Array(text.utf8)
    var index = 0
    func number(_ width: Int) -> Int? {
        guard index + width <= chars.count else { return nil }
        var value = 0
        for c in chars[index..<index + width] {
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(c - UInt8(ascii: "0"))
        }
        index += width
        return value
    }
    func expect(_ allowed: String) -> Bool {
        guard index < chars.count, allowed.utf8.contains(chars[index]) else { return false }
        index += 1
        return true
    }
    guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
          expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
          let second = number(2),
          (1...12).contains(month), (1...Civil.daysInMonth(year: Int64(year), month: month)).contains(day),
          hour < 24, minute < 60, second < 61
    else { return nil }
    if expect(".") {
        let digits = chars[index...].prefix(while: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        guard !digits.isEmpty else { return nil }
        index += digits.count
    }
    var offset = 0
    if !expect("Zz") {
        guard index < chars.count else { return nil }
        let sign = chars[index] == UInt8(ascii: "-") ? -1 : 1
        guard expect("+-"), let offsetHours = number(2), expect(":"), let offsetMinutes = number(2),
              offsetHours < 24, offsetMinutes < 60 else { return nil }
        offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
    }
    guard index == chars.count else { return nil }
    let days = Civil.days(year: Int64(year), month: month, day: day)
    return days * Civil.secondsPerDay + Int64(hour * 3600 + minute * 60 + second - offset)
}

private func pad(_ value: some BinaryInteger, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
