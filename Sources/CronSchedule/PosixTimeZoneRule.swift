/// The POSIX `TZ` string at the end of a TZif file (e.g. `EST5EDT,M3.2.0,M11.1.0`), which
/// tells how the zone behaves after its last listed transition — slim tzdata stops listing
/// them early, and fat files stop in 2037.
struct PosixTimeZoneRule {
    struct DateRule {
        enum Kind {
            case monthWeekDay(month: Int, week: Int, weekday: Int)
            /// `Jn`: 1...365, February 29 never counted.
            case julianNoLeap(Int)
            /// `n`: 0...365, February 29 counted.
            case zeroBasedDay(Int)
        }
        var kind: Kind
        var secondsAfterMidnight: Int64

        /// Local seconds (epoch-based) at which the rule fires in `year`.
        func localTime(year: Int64) -> Int64 {
            let day: Int64
            switch kind {
            case let .monthWeekDay(month, week, weekday):
                let first = Civil.days(year: year, month: month, day: 1)
                var dayOfMonth = 1 + (weekday - Civil.weekday(fromDays: first) + 7) % 7 + (week - 1) * 7
                while dayOfMonth > Civil.daysInMonth(year: year, month: month) { dayOfMonth -= 7 }
                day = first + Int64(dayOfMonth - 1)
            case let .julianNoLeap(n):
                let jan1 = Civil.days(year: year, month: 1, day: 1)
                day = jan1 + Int64(n - 1) + (Civil.isLeap(year) && n >= 60 ? 1 : 0)
            case let .zeroBasedDay(n):
                day = Civil.days(year: year, month: 1, day: 1) + Int64(n)
            }
            return day * Civil.secondsPerDay + secondsAfterMidnight
        }
    }

    var standardOffset: Int64
    var daylightOffset: Int64?
    var daylightStart: DateRule?
    var daylightEnd: DateRule?

    init?(_ text: String) {
        var scanner = Substring(text)
        guard Self.skipName(&scanner), let standard = Self.time(&scanner) else { return nil }
        standardOffset = -standard
        guard !scanner.isEmpty else { return }
        guard Self.skipName(&scanner) else { return nil }
        daylightOffset = scanner.first == "," || scanner.isEmpty ? standardOffset + 3600 : Self.time(&scanner).map { -$0 }
        guard daylightOffset != nil, scanner.popFirst() == ",", let start = Self.dateRule(&scanner),
              scanner.popFirst() == ",", let end = Self.dateRule(&scanner), scanner.isEmpty
        else { return nil }
        daylightStart = start
        daylightEnd = end
    }

    /// Offset changes during `year`, in order.
    func transitions(year: Int64) -> [(at: Int64, offset: Int64)] {
        guard let daylight = daylightOffset, let start = daylightStart, let end = daylightEnd else { return [] }
        let changes = [
            (at: start.localTime(year: year) - standardOffset, offset: daylight),
            (at: end.localTime(year: year) - daylight, offset: standardOffset),
        ]
        return changes.sorted { $0.at < $1.at }
    }

    private static func skipName(_ s: inout Substring) -> Bool {
        if s.first == "<" {
            guard let close = s.firstIndex(of: ">") else { return false }
            s = s[s.index(after: close)...]
            return true
        }
        let name = s.prefix(while: \.isLetter)
        s = s.dropFirst(name.count)
        return name.count >= 3
    }

    /// `[+-]hh[:mm[:ss]]` in seconds, as written (POSIX offsets are west-positive).
    private static func time(_ s: inout Substring) -> Int64? {
        var sign: Int64 = 1
        if s.first == "+" || s.first == "-" { sign = s.removeFirst() == "-" ? -1 : 1 }
        var total: Int64 = 0
        for (index, unit) in [Int64(3600), 60, 1].enumerated() {
            if index > 0 {
                guard s.first == ":" else { break }
                s.removeFirst()
            }
            let digits = s.prefix(while: \.isASCIIDigit)
            guard !digits.isEmpty, let value = Int64(digits) else { return nil }
            s = s.dropFirst(digits.count)
            total += value * unit
        }
        return sign * total
    }

    private static func dateRule(_ s: inout Substring) -> DateRule? {
        let kind: DateRule.Kind
        if s.first == "M" {
            s.removeFirst()
            let numbers = s.prefix(while: { $0.isASCIIDigit || $0 == "." }).split(separator: ".").compactMap { Int($0) }
            s = s.drop(while: { $0.isASCIIDigit || $0 == "." })
            guard numbers.count == 3, (1...12).contains(numbers[0]), (1...5).contains(numbers[1]),
                  (0...6).contains(numbers[2]) else { return nil }
            kind = .monthWeekDay(month: numbers[0], week: numbers[1], weekday: numbers[2])
        } else {
            let julian = s.first == "J"
            if julian { s.removeFirst() }
            let digits = s.prefix(while: \.isASCIIDigit)
            guard let n = Int(digits) else { return nil }
            s = s.dropFirst(digits.count)
            kind = julian ? .julianNoLeap(n) : .zeroBasedDay(n)
        }
        var seconds: Int64 = 7200
        if s.first == "/" {
            s.removeFirst()
            guard let time = time(&s) else { return nil }
            seconds = time
        }
        return DateRule(kind: kind, secondsAfterMidnight: seconds)
    }
}
