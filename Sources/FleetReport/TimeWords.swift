import CronSchedule

/// How reports and the status page write times and lengths of time for people.
enum TimeWords {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

    /// `Tue 02:30` in the zone: enough to place an instant within the week a report covers.
    static func weekdayAndTime(_ t: Int64, timeZone: String) -> String {
        let local = rfc3339(seconds(t), timeZone: timeZone)
        // The local calendar date read back as UTC midnight gives the local day number.
        let midnight = parseRFC3339(String(local.prefix(10)) + "T00:00:00Z") ?? 0
        let weekday = Int(((midnight / 86_400 + 4) % 7 + 7) % 7)
        return weekdays[weekday] + " " + local.dropFirst(11).prefix(5)
    }

    /// `2026-03-29 02:30` in the zone.
    static func dateAndTime(_ t: Int64, timeZone: String) -> String {
        // The RFC 3339 text up to the minutes with its `T` made a space. It is ASCII, so its
        // bytes are its characters, and bytes are far cheaper to cut than characters.
        var local = Array(rfc3339(seconds(t), timeZone: timeZone).utf8.prefix(16))
        local[10] = UInt8(ascii: " ")
        return String(decoding: local, as: UTF8.self)
    }

    /// `350ms`, `4.2s`, `12m05s`, `3h20m`, `2d4h`: two units at most, which is all a table
    /// column has room for and all a reader compares.
    static func duration(_ ms: Int64) -> String {
        if ms < 1000 { return "\(ms)ms" }
        if ms < 10_000 { return "\(ms / 1000).\(ms % 1000 / 100)s" }
        let s = ms / 1000
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + two(s % 60) + "s" }
        if s < 86_400 { return "\(s / 3600)h" + two(s / 60 % 60) + "m" }
        return "\(s / 86_400)d\(s / 3600 % 24)h"
    }

    /// `3h ago` / `in 12m`: the status page is read for "how long since", not for the date.
    static func relative(_ t: Int64, now: Int64) -> String {
        let words = coarse(abs(now - t))
        return t <= now ? words + " ago" : "in " + words
    }

    private static func coarse(_ ms: Int64) -> String {
        let s = ms / 1000
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        if s < 86_400 { return "\(s / 3600)h \(s / 60 % 60)m" }
        return "\(s / 86_400)d \(s / 3600 % 24)h"
    }

    private static func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }

    static func seconds(_ ms: Int64) -> Int64 { ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000) }
}
