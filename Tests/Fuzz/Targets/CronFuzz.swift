@testable import CronSchedule

/// Zones with every kind of change: none, ordinary DST, half-hour and 45-minute offsets, a
/// 30-minute DST (Lord Howe), negative DST (Dublin, Casablanca's Ramadan), a skipped calendar
/// day (Apia, Kiritimati), offsets in seconds before 1900 (local mean time).
let fuzzZones = [
    "UTC", "Europe/Dublin", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kolkata",
    "America/Sao_Paulo", "Europe/Riga", "Pacific/Apia", "Pacific/Kiritimati", "Asia/Kathmandu",
    "America/St_Johns", "Africa/Casablanca", "Antarctica/Troll", "Europe/Moscow", "America/Santiago",
]

/// Input: a zone (1 byte: one of `fuzzZones`, or from 240 on a name read up to a newline, as a
/// job file or `PUT` may name any), an instant in 1850-2459 (8 bytes), then the expression's text.
///
/// Properties: parsing never traps; for an expression that parses, `next(after: t)` exists,
/// is after `t` and matches the expression on the zone's wall clock (or, for a fixed-time job,
/// is the end of a skipped wall-clock gap); nothing matches between `t` and it, as
/// `previous(atOrBefore:)` (a separate search) sees it; and `previous` and `next` invert each
/// other. An expression that can never fire (`0 0 30 2 *`) must be refused, not searched for
/// ever (libFuzzer's `-timeout` catches a hang).
public func fuzzCron(_ data: UnsafeRawBufferPointer) {
    var input = FuzzInput(data)
    let choice = input.byte()
    let zone = choice < 240 ? fuzzZones[Int(choice) % fuzzZones.count]
        : String(decoding: input.bytes(until: UInt8(ascii: "\n")), as: UTF8.self)
    let t = input.int64(in: -3_786_825_600...15_462_662_400)
    let expression = String(decoding: input.rest(), as: UTF8.self)
    guard let schedule = try? Schedule(expression, timeZone: zone) else { return }
    func label() -> String { "\"\(expression)\" in \(zone) after \(t) (\(rfc3339(t, timeZone: zone)))" }

    guard let next = schedule.next(after: t) else { return check(false, "no next occurrence: \(label())") }
    check(next > t, "next \(next) is not after t: \(label())")
    check(schedule.isFixedTime && isGapEnd(next, zone: zone) || matches(schedule, next, zone: zone),
          "next \(rfc3339(next, timeZone: zone)) does not match: \(label())")
    check(schedule.previous(atOrBefore: next) == next, "previous(atOrBefore: next) is not next: \(label())")
    if let before = schedule.previous(atOrBefore: next - 1) {
        check(before <= t, "an occurrence \(rfc3339(before, timeZone: zone)) lies between t and next \(next): \(label())")
        check(schedule.next(after: before) == next, "next(after: previous) skips \(next): \(label())")
    }
    if let previous = schedule.previous(atOrBefore: t) {
        check(previous <= t, "previous \(previous) is after t: \(label())")
        check(schedule.next(after: previous) == next, "next(after: previous(atOrBefore: t)) is not next: \(label())")
    }
    if let start = schedule.occurrence(startingAtMs: t * 1000, graceMs: 3_600_000) {
        check(start <= t * 1000 && t * 1000 - start <= 3_600_000, "occurrence \(start) outside the grace window: \(label())")
    }
}

/// Whether instant `t` reads on the zone's wall clock as a minute the expression matches.
private func matches(_ schedule: Schedule, _ t: Int64, zone: String) -> Bool {
    if let period = schedule.period { return t % period == 0 }
    guard let fields = schedule.fields, let offset = utcOffsets(zone: zone, from: t, through: t)?.first?.offset else {
        return false
    }
    let local = t + offset
    let days = Civil.floorDiv(local, Civil.secondsPerDay)
    let date = Civil.date(fromDays: days)
    let seconds = local - days * Civil.secondsPerDay
    guard seconds % 60 == 0 else { return false }
    let dom = fields.daysOfMonth.contains(date.day)
    let dow = fields.daysOfWeek.contains(Civil.weekday(fromDays: days))
    return fields.minutes.contains(Int(seconds / 60 % 60)) && fields.hours.contains(Int(seconds / 3600))
        && fields.months.contains(date.month) && (fields.daysMustMatchBoth ? dom && dow : dom || dow)
}

/// Whether the clock jumps forward at `t`: a fixed-time job whose wall time was skipped runs then.
private func isGapEnd(_ t: Int64, zone: String) -> Bool {
    guard let offsets = utcOffsets(zone: zone, from: t - 1, through: t), offsets.count == 2 else { return false }
    return offsets[1].start == t && offsets[1].offset > offsets[0].offset
}
