/// A length of time written the way operators write it: `90s`, `10m`, `2h`, `1d`, `1h30m`,
/// `250ms`, or a bare number of seconds.
public struct Timespan: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public init(seconds: Int64) { self.milliseconds = seconds * 1000 }

    public static let zero = Timespan(milliseconds: 0)

    public var seconds: Double { Double(milliseconds) / 1000 }
    public var wholeSeconds: Int64 { milliseconds / 1000 }

    public static func < (a: Timespan, b: Timespan) -> Bool { a.milliseconds < b.milliseconds }
    public static func * (a: Timespan, n: Int64) -> Timespan { Timespan(milliseconds: a.milliseconds * n) }
    public static func / (a: Timespan, n: Int64) -> Timespan { Timespan(milliseconds: a.milliseconds / n) }
    public static func + (a: Timespan, b: Timespan) -> Timespan { Timespan(milliseconds: a.milliseconds + b.milliseconds) }

    /// Parses `1h30m`-style text; returns nil with no partial result on anything else.
    public init?(parsing text: String) {
        let s = text.trimmingWhitespace()
        guard !s.isEmpty else { return nil }
        if let whole = Int64(s), whole >= 0 {
            let (ms, overflow) = whole.multipliedReportingOverflow(by: 1000)
            if overflow { return nil }
            self.milliseconds = ms
            return
        }
        var total: Int64 = 0
        var number: Int64? = nil
        var chars = Array(s.utf8)[...]
        while let c = chars.first {
            if c >= 48 && c <= 57 {
                let (m, o1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (v, o2) = m.addingReportingOverflow(Int64(c - 48))
                if o1 || o2 { return nil }
                number = v
                chars = chars.dropFirst()
                continue
            }
            guard let n = number else { return nil }
            let unit: Int64
            if chars.starts(with: "ms".utf8) { unit = 1; chars = chars.dropFirst(2) }
            else {
                switch c {
                case UInt8(ascii: "s"): unit = 1000
                case UInt8(ascii: "m"): unit = 60_000
                case UInt8(ascii: "h"): unit = 3_600_000
                case UInt8(ascii: "d"): unit = 86_400_000
                case UInt8(ascii: "w"): unit = 7 * 86_400_000
                default: return nil
                }
                chars = chars.dropFirst()
            }
            let (part, o) = n.multipliedReportingOverflow(by: unit)
            if o { return nil }
            let (sum, o3) = total.addingReportingOverflow(part)
            if o3 { return nil }
            total = sum
            number = nil
        }
        if number != nil { return nil }   // "1h30": a trailing number without its unit is ambiguous
        self.milliseconds = total
    }

    public var description: String {
        if milliseconds == 0 { return "0s" }
        if milliseconds % 1000 != 0 { return "\(milliseconds)ms" }
        var rest = milliseconds / 1000
        var out = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }
}

