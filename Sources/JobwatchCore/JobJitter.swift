import CronSchedule

extension JobDefinition {
    /// SPEC §6 `jitter`, read after `schedule`. Its offsets are whole seconds, and the span must
    /// stay below the schedule's shortest gap: otherwise an occurrence could start after the
    /// next one and a late start could not tell which occurrence it belongs to. `0s` means none.
    mutating func readJitter(_ m: YAMLFile.Mapping) {
        guard let span = m.timespan("jitter") else { return }
        let node = m.node("jitter")
        guard span.milliseconds % 1000 == 0 else {
            m.file.problem("jitter: \(span) is not a whole number of seconds", at: node)
            return
        }
        guard span.milliseconds > 0 else { return }
        guard m.node("schedule").map({ !$0.isNull }) == true else {
            m.file.problem("jitter: needs a schedule (a job without one has no occurrences to spread)", at: node)
            return
        }
        // An invalid schedule or zone is reported on its own key.
        guard let schedule else { return }
        let gap = schedule.shortestGap
        guard span.wholeSeconds < gap else {
            let shortest = schedule.period == nil
                ? "\(Timespan(seconds: gap)) in \(schedule.timeZoneID), daylight-saving changes included" : "\(Timespan(seconds: gap))"
            m.file.problem("jitter: \(span) must be shorter than the shortest time between two occurrences of \"\(schedule.expression)\" (\(shortest))", at: node)
            return
        }
        jitter = Jitter(job: name, seconds: span.wholeSeconds)
    }
}
