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

    /// Occurrences in `(start, end]`; refuses spans over two months to stay fast.
    func occurrences(after start: Int64, through end: Int64) -> [Int64]? {
        guard end - start <= 62 * 86_400 else { return nil }
        var result: [Int64] = []
        var t = (start / 60 + 1) * 60
        while t <= end {
            let parts = calendar.dateComponents([.minute, .hour, .day, .month, .weekday],
                                                from: Date(timeIntervalSince1970: TimeInterval(t)))
            let dom = fields.daysOfMonth.contains(parts.day!)
            let dow = fields.daysOfWeek.contains(parts.weekday! - 1)
            if fields.minutes.contains(parts.minute!), fields.hours.contains(parts.hour!),
               fields.months.contains(parts.month!),
               fields.daysMustMatchBoth ? dom && dow : dom || dow {
                result.append(t)
            }
            t += 60
        }
        return result
    }
}
