import CronSchedule
import JobwatchCore

/// An instant (epoch ms) in the job's own zone, as operators read it: `2026-03-29T02:30:00+01:00`.
func timestamp(_ t: Int64, timeZone: String) -> String {
    rfc3339(t.floorDividedBySecond, timeZone: timeZone)
}

/// The wall-clock time of day in the zone: `02:30`, or `02:30:10` for schedules with seconds.
func timeOfDay(_ t: Int64, timeZone: String) -> String {
    let full = Array(timestamp(t, timeZone: timeZone))
    let clock = String(full[11..<19])
    return clock.hasSuffix(":00") ? String(clock.prefix(5)) : clock
}

/// A length of time written as in job files: `10m`, `1h30m`, `250ms`. Past a second the
/// milliseconds are noise, so they are dropped.
func span(_ milliseconds: Int64) -> String {
    Timespan(milliseconds: milliseconds < 1000 ? milliseconds : milliseconds / 1000 * 1000).description
}
