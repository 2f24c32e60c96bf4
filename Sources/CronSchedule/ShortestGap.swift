extension Schedule {
    /// The shortest time, in seconds, between two consecutive occurrences, DST changes included:
    /// what a `jitter` must stay below for every occurrence to start before the next one's.
    ///
    /// `every` is exact. A cron expression is read in two parts. Away from a change of UTC
    /// offset, instants are as far apart as wall times, and the wall-time pattern repeats every
    /// 400 years (146,097 days, a whole number of weeks), so one cycle gives its shortest gap
    /// exactly. A change of offset alters only the gaps next to it (an occurrence before it and
    /// the first one or two after it, including a fixed-time job moved to the end of a skipped
    /// hour), so those are measured on the real timeline for each change from 2000 to 2100.
    public var shortestGap: Int64 {
        switch rule {
        case .every(let period):
            return period
        case .cron(let fields, _):
            var shortest = fields.shortestWallClockGap
            for t in zone.transitions where t >= Self.offsetChangesFrom && t < Self.offsetChangesUntil {
                guard let before = previous(atOrBefore: t - 1), let after = next(after: t - 1) else { continue }
                shortest = min(shortest, after - before)
                if let following = next(after: after) { shortest = min(shortest, following - after) }
            }
            return shortest
        }
    }

    static let offsetChangesFrom: Int64 = 946_684_800      // 2000-01-01T00:00:00Z
    static let offsetChangesUntil: Int64 = 4_102_444_800   // 2100-01-01T00:00:00Z
}

extension CronFields {
    /// The shortest gap, in seconds, between consecutive matching wall times (as in UTC).
    var shortestWallClockGap: Int64 {
        let minutesOfDay = hours.flatMap { hour in minutes.map { hour * 60 + $0 } }
        var shortest = Int64.max
        for (a, b) in zip(minutesOfDay, minutesOfDay.dropFirst()) {
            shortest = min(shortest, Int64(b - a) * 60)
        }
        // From the day's last match to the next matching day's first.
        let spanOfDay = Int64(minutesOfDay.last! - minutesOfDay.first!) * 60
        return min(shortest, shortestDayGap * Civil.secondsPerDay - spanOfDay)
    }

    /// The fewest days between two consecutive matching days, over one Gregorian cycle.
    private var shortestDayGap: Int64 {
        let cycleStart: Int64 = 2000
        var first: Int64?
        var last: Int64?
        var shortest = Int64.max
        for year in cycleStart..<(cycleStart + 400) {
            for month in months {
                var mask = dayMask(year: year, month: month)
                while mask != 0 {
                    let day = Civil.days(year: year, month: month, day: mask.trailingZeroBitCount)
                    mask &= mask - 1
                    if let last { shortest = min(shortest, day - last) }
                    if shortest == 1 { return 1 }
                    first = first ?? day
                    last = day
                }
            }
        }
        // The cycle's last matching day is followed by the next cycle's first.
        if let first, let last { shortest = min(shortest, first + 146_097 - last) }
        return shortest
    }
}
