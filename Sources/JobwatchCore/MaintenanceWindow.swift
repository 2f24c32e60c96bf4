import CronSchedule

/// A recurring maintenance window (SPEC §6): `schedule` starts one that lasts `duration`.
/// Problems inside are recorded but not alerted until the window ends. On a job, its schedule
/// is in the job's zone; fleet-wide (`monitor.maintenance`), in the global `timezone`, and
/// `tags` (none: every job) picks the jobs carrying any of them.
public struct MaintenanceWindow: Sendable, Equatable {
    /// The cron expression as written, already checked.
    public var schedule: String
    public var duration: Timespan
    public var tags: [String]

    public init(schedule: String, duration: Timespan, tags: [String] = []) {
        self.schedule = schedule
        self.duration = duration
        self.tags = tags
    }

    /// Whether a fleet-wide window covers a job with these tags.
    public func applies(toJobTagged jobTags: [String]) -> Bool {
        tags.isEmpty || tags.contains(where: jobTags.contains)
    }

    public static let jobKeys = ["schedule", "duration"]
    public static let fleetKeys = ["schedule", "duration", "tags"]

    /// The list under `key`, each entry checked: a schedule that parses (in `timeZone`) and a
    /// duration above zero, located at `path:line:column` with the key named.
    static func list(_ m: YAMLFile.Mapping, key: String, context: String, keys: [String], timeZone: String) -> [MaintenanceWindow] {
        guard let n = m.node(key), !n.isNull else { return [] }
        guard case .sequence(let items) = n.content else {
            m.file.problem("\(context): expected a list of { \(keys.joined(separator: ", ")) }", at: n)
            return []
        }
        return items.enumerated().compactMap { i, item in
            let at = "\(context)[\(i)]"
            guard let w = m.file.mapping(item, what: at) else { return nil }
            w.rejectUnknownKeys(allowed: keys, context: at)
            var valid = true
            let expression = w.string("schedule")
            if let expression {
                do { _ = try Schedule(expression, timeZone: isKnownTimeZone(timeZone) ? timeZone : "UTC") } catch {
                    m.file.problem("\(at).schedule: \(error)", at: w.node("schedule"))
                    valid = false
                }
            } else {
                m.file.problem("\(at): needs a schedule (cron) that starts the window", at: item)
            }
            var duration: Timespan?
            if let d = w.node("duration"), !d.isNull {
                if let s = d.string, let t = Timespan(parsing: s), t.milliseconds > 0 {
                    duration = t
                } else {
                    m.file.problem("\(at).duration: expected a duration above 0 such as 2h, got \"\(d.string ?? "?")\"", at: d)
                }
            } else {
                m.file.problem("\(at): needs a duration (e.g. 2h); a window without one covers nothing", at: item)
            }
            let tags = keys.contains("tags") ? (w.strings("tags") ?? []) : []
            guard valid, let expression, let duration else { return nil }
            return MaintenanceWindow(schedule: expression, duration: duration, tags: tags)
        }
    }
}
