/// The expanded five fields of a cron expression, plus the Vixie day rule.
///
/// Exposed so other modules (systemd `OnCalendar=` translation, `jobctl next`) can read the
/// sets without re-parsing. Matching works on "local seconds": epoch seconds shifted by the
/// zone offset, so the calendar is plain integer arithmetic.
public struct CronFields: Sendable, Hashable {
    public let minutes: [Int]
    public let hours: [Int]
    public let daysOfMonth: [Int]
    public let months: [Int]
    /// 0 = Sunday ... 6 = Saturday; a 7 in the expression is folded into 0.
    public let daysOfWeek: [Int]
    /// The day-of-month field text begins with `*`.
    public let domStar: Bool
    /// The day-of-week field text begins with `*`.
    public let dowStar: Bool

    private let minuteMask: UInt64
    private let hourMask: UInt32
    private let monthMask: UInt16
    /// For each weekday of the 1st of a month (0...6), the days 1...31 that a day must be on
    /// to satisfy the day rule, before cutting to the month's length.
    private let dayMaskByFirstWeekday: [UInt32]

    /// Vixie cron: a star in either day field means both must match; otherwise either may.
    public var daysMustMatchBoth: Bool { domStar || dowStar }

    init(minutes: UInt64, hours: UInt64, daysOfMonth: UInt64, months: UInt64, daysOfWeek: UInt64,
         domStar: Bool, dowStar: Bool) {
        let weekdays = (daysOfWeek & 0x7F) | (daysOfWeek >> 7 & 1)
        self.minutes = Self.members(minutes)
        self.hours = Self.members(hours)
        self.daysOfMonth = Self.members(daysOfMonth)
        self.months = Self.members(months)
        self.daysOfWeek = Self.members(weekdays)
        self.domStar = domStar
        self.dowStar = dowStar
        minuteMask = minutes
        hourMask = UInt32(truncatingIfNeeded: hours)
        monthMask = UInt16(truncatingIfNeeded: months)
        let domMask = UInt32(truncatingIfNeeded: daysOfMonth)
        let both = domStar || dowStar
        dayMaskByFirstWeekday = (0..<7).map { first in
            var dowMask: UInt32 = 0
            for day in 1...31 where weekdays >> ((first + day - 1) % 7) & 1 == 1 {
                dowMask |= 1 << day
            }
            return both ? domMask & dowMask : domMask | dowMask
        }
    }

    private static func members(_ mask: UInt64) -> [Int] {
        (0..<64).filter { mask >> $0 & 1 == 1 }
    }

    /// Whether some month in the set has a day that the day-of-month field allows; only
    /// relevant when both day fields must match (February counts 29 days).
    var canFire: Bool {
        guard daysMustMatchBoth else { return true }
        let longest = months.map { Civil.daysInMonth(year: 2000, month: $0) }.max() ?? 0
        return (daysOfMonth.first ?? 32) <= longest
    }

    static let searchYears: Int64 = 500

    /// Matching days of a month as a bitmask over bits 1...31.
    func dayMask(year: Int64, month: Int) -> UInt32 {
        let length = Civil.daysInMonth(year: year, month: month)
        let firstWeekday = Civil.weekday(fromDays: Civil.days(year: year, month: month, day: 1))
        return dayMaskByFirstWeekday[firstWeekday] & (UInt32.max >> (31 - length)) & ~1
    }

    /// The earliest matching minute at or after local second `local`.
    func nextMatch(atOrAfter local: Int64) -> Int64? {
        let start = Civil.floorDiv(local + 59, 60) * 60
        var dayNumber = Civil.floorDiv(start, Civil.secondsPerDay)
        var minuteOfDay = Int((start - dayNumber * Civil.secondsPerDay) / 60)
        let lastYear = Civil.date(fromDays: dayNumber).year + Self.searchYears
        while true {
            let date = Civil.date(fromDays: dayNumber)
            guard date.year <= lastYear else { return nil }
            if monthMask >> date.month & 1 == 0 {
                let later = monthMask & ~(UInt16.max >> (15 - date.month))
                dayNumber = later != 0
                    ? Civil.days(year: date.year, month: later.trailingZeroBitCount, day: 1)
                    : Civil.days(year: date.year + 1, month: monthMask.trailingZeroBitCount, day: 1)
                minuteOfDay = 0
                continue
            }
            let days = dayMask(year: date.year, month: date.month) & (UInt32.max << date.day)
            guard days != 0 else {
                dayNumber += Int64(Civil.daysInMonth(year: date.year, month: date.month) - date.day + 1)
                minuteOfDay = 0
                continue
            }
            let day = days.trailingZeroBitCount
            if day != date.day {
                dayNumber += Int64(day - date.day)
                minuteOfDay = 0
            }
            if let minute = firstMinute(atOrAfter: minuteOfDay) {
                return dayNumber * Civil.secondsPerDay + Int64(minute) * 60
            }
            dayNumber += 1
            minuteOfDay = 0
        }
    }

    /// The latest matching minute at or before local second `local`.
    func previousMatch(atOrBefore local: Int64) -> Int64? {
        let start = Civil.floorDiv(local, 60) * 60
        var dayNumber = Civil.floorDiv(start, Civil.secondsPerDay)
        var minuteOfDay = Int((start - dayNumber * Civil.secondsPerDay) / 60)
        let firstYear = Civil.date(fromDays: dayNumber).year - Self.searchYears
        while true {
            let date = Civil.date(fromDays: dayNumber)
            guard date.year >= firstYear else { return nil }
            if monthMask >> date.month & 1 == 0 {
                let earlier = monthMask & ~(UInt16.max << date.month)
                let (year, month) = earlier != 0
                    ? (date.year, 15 - earlier.leadingZeroBitCount)
                    : (date.year - 1, 15 - monthMask.leadingZeroBitCount)
                dayNumber = Civil.days(year: year, month: month, day: Civil.daysInMonth(year: year, month: month))
                minuteOfDay = 1439
                continue
            }
            let days = dayMask(year: date.year, month: date.month) & (UInt32.max >> (31 - date.day))
            guard days != 0 else {
                dayNumber -= Int64(date.day)
                minuteOfDay = 1439
                continue
            }
            let day = 31 - days.leadingZeroBitCount
            if day != date.day {
                dayNumber -= Int64(date.day - day)
                minuteOfDay = 1439
            }
            if let minute = lastMinute(atOrBefore: minuteOfDay) {
                return dayNumber * Civil.secondsPerDay + Int64(minute) * 60
            }
            dayNumber -= 1
            minuteOfDay = 1439
        }
    }

    private func firstMinute(atOrAfter minuteOfDay: Int) -> Int? {
        let hour = minuteOfDay / 60
        if hourMask >> hour & 1 == 1 {
            let minutes = minuteMask & (UInt64.max << (minuteOfDay % 60))
            if minutes != 0 { return hour * 60 + minutes.trailingZeroBitCount }
        }
        let laterHours = hourMask & (UInt32.max << hour) & ~(1 << hour)
        guard laterHours != 0 else { return nil }
        return laterHours.trailingZeroBitCount * 60 + minuteMask.trailingZeroBitCount
    }

    private func lastMinute(atOrBefore minuteOfDay: Int) -> Int? {
        let hour = minuteOfDay / 60
        if hourMask >> hour & 1 == 1 {
            let minutes = minuteMask & (UInt64.max >> (63 - minuteOfDay % 60))
            if minutes != 0 { return hour * 60 + 63 - minutes.leadingZeroBitCount }
        }
        let earlierHours = hourMask & ~(UInt32.max << hour)
        guard earlierHours != 0 else { return nil }
        return (31 - earlierHours.leadingZeroBitCount) * 60 + 63 - minuteMask.leadingZeroBitCount
    }
}
