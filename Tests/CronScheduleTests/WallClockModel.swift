import Foundation
import CronSchedule

/// A deliberately naive model of a wall-clock job for arbitrating disagreements with
/// cronsim: test every minute on the UTC timeline, reading the wall clock through
/// Foundation's TimeZone rather than our own zone tables.
struct WallClockModel {
    let fields: CronFields
    let calendar: Calendar

    init?(_ schedule: Schedule, zone: String) {
        guard let fields = schedule.fields, let timeZone = TimeZone(identifier: zone) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.fields = fields
        self.calendar = calendar
    }

    /// Whether `ours` is right and `theirs` wrong as the first occurrence after `previous`.
    /// When ours is earlier it is enough that ours matches; when cronsim's is earlier, every
    /// minute up to ours is scanned (if the span is short enough to afford it).
    func confirms(_ ours: Int64, over theirs: Int64, after previous: Int64) -> Bool {
        guard ours > previous, matches(ours) else { return false }
        if ours < theirs { return true }
        guard ours - previous <= 62 * 86_400 else { return false }
        return stride(from: (previous / 60 + 1) * 60, to: ours, by: 60).allSatisfy { !matches($0) }
    }

    func matches(_ t: Int64) -> Bool {
        guard t % 60 == 0 else { return false }
        let parts = calendar.dateComponents([.minute, .hour, .day, .month, .weekday],
                                            from: Date(timeIntervalSince1970: TimeInterval(t)))
        let dom = fields.daysOfMonth.contains(parts.day!)
        let dow = fields.daysOfWeek.contains(parts.weekday! - 1)
        return fields.minutes.contains(parts.minute!) && fields.hours.contains(parts.hour!)
            && fields.months.contains(parts.month!) && (fields.daysMustMatchBoth ? dom && dow : dom || dow)
    }
}
