import CronSchedule
import SystemSupport

/// One job's entry in the crontab `jobctl crontab` prints.
///
/// Debian's cron has no per-line time zone (no `CRON_TZ`): every line fires in the zone the
/// daemon runs in, the *cron zone*. So a line is written only when it fires at exactly the
/// instants `jobrun` and the monitor expect:
///
/// - A job whose zone is the cron zone gets its schedule as written (`@daily` stays
///   `@daily`; a `N/step` term is spelled `N-max/step`, which every cron reads the same way).
/// - A job in another zone is written only if its schedule cannot tell the zones apart: the
///   two zones have the same UTC offset at every instant of the next five years (`UTC` and
///   `Etc/UTC`), or the schedule runs every hour of every day on the wall clock (its minute
///   or hour field begins with `*`) and its minutes survive the zones' offset difference.
///   `*/5 * * * *` and `0 * * * *` agree between Europe/Dublin and UTC (whole hours apart);
///   between Asia/Kolkata and UTC (5h30 apart) `*/15 * * * *` agrees but `0 * * * *` would
///   fire at :30. Everything else is refused with a message: use `jobctl systemd`, whose
///   `OnCalendar=` carries the zone, or move the host to the job's zone.
/// - `every DURATION` fires at multiples of its period since the Unix epoch, in any zone. It
///   becomes `*/N * * * *` (N minutes dividing an hour), `0 */N * * *` (N hours dividing a
///   day) or `0 0 * * *` (1d), but only when every offset of the cron zone is a multiple of
///   the period, because cron counts from the local, not the UTC, midnight. Periods with
///   seconds, and any other period (`7m`, `90m`, `5h`), are refused.
/// - A job without a schedule, or without a `command:` for jobrun to run, becomes a comment.
public enum CrontabLine: Sendable, Equatable {
    case run(String)
    case comment(String)
    case refused(ConfigError)

    /// Offsets are compared over this window from `now`: far enough to cover the zone's
    /// current rules, near enough that old local mean times don't refuse every zone.
    static let horizon: Int64 = 5 * 366 * 86_400

    public static func forJob(_ job: JobDefinition, cronZone: String, jobrun: String, now: Int64) -> CrontabLine {
        guard let schedule = job.schedule else {
            return .comment("# \(job.name): no schedule; run it by hand or from another scheduler")
        }
        guard job.command != nil else {
            return .comment("# \(job.name): no command: in its job file, so jobrun has nothing to run")
        }
        let cronOffsets = ZoneOffsets(cronZone, from: now, through: now + horizon)
        let expression: String
        if let period = schedule.period {
            do {
                expression = try everyAsCron(period: period, written: schedule.expression, cronZone: cronZone,
                                             offsets: cronOffsets.distinct)
            } catch {
                return .refused(job.problem(at: "schedule", "job \(job.name): \(error)"))
            }
        } else {
            guard let fields = schedule.fields,
                  schedule.timeZoneID == cronZone
                  || firesAtSameInstants(fields, isFixedTime: schedule.isFixedTime,
                                         offsetDifferences: ZoneOffsets(schedule.timeZoneID, from: now, through: now + horizon)
                                             .differences(from: cronOffsets))
            else {
                return .refused(job.problem(at: "timezone", "job \(job.name) runs in \(schedule.timeZoneID) but cron here runs in "
                    + "\(cronZone); a crontab line would fire at the wrong time — use 'jobctl systemd' "
                    + "(OnCalendar= supports time zones) or set the host's zone"))
            }
            expression = portable(schedule.expression)
        }
        return .run("\(expression) \(jobrun) \(job.name)")
    }

    /// With offsets `d` apart, the job's wall clock reads the cron zone's clock shifted by `d`:
    /// a schedule agrees in both when that shift maps its firing minutes onto themselves.
    static func firesAtSameInstants(_ fields: CronFields, isFixedTime: Bool, offsetDifferences: Set<Int64>) -> Bool {
        if offsetDifferences == [0] { return true }
        // A fixed-time job's spring-forward and fall-back rules depend on its zone's transitions.
        let allDaysOfMonth = fields.daysOfMonth.count == 31, allWeekdays = fields.daysOfWeek.count == 7
        let everyDay = fields.daysMustMatchBoth ? allDaysOfMonth && allWeekdays : allDaysOfMonth || allWeekdays
        guard !isFixedTime, everyDay, fields.hours.count == 24, fields.months.count == 12 else { return false }
        let minutes = Set(fields.minutes)
        return offsetDifferences.allSatisfy { d in
            d % 60 == 0 && Set(minutes.map { (($0 + Int(d / 60)) % 60 + 60) % 60 }) == minutes
        }
    }

    /// `every` fires at epoch multiples; a cron step fires at multiples in local time. They are
    /// the same instants when the step divides an hour or a day and the zone's offsets are
    /// multiples of the step.
    static func everyAsCron(period: Int64, written: String, cronZone: String, offsets: Set<Int64>) throws -> String {
        let expression: String
        switch period {
        case let p where p % 60 != 0:
            throw ScheduleRefusal("\(written) has seconds, and cron fires on whole minutes")
        case 60: expression = "* * * * *"
        case let p where p < 3600 && 3600 % p == 0: expression = "*/\(p / 60) * * * *"
        case 3600: expression = "0 * * * *"
        case let p where p < 86_400 && p % 3600 == 0 && 86_400 % p == 0: expression = "0 */\(p / 3600) * * *"
        case 86_400: expression = "0 0 * * *"
        default:
            throw ScheduleRefusal("no crontab step fires at the multiples of \(written) since the Unix epoch, because cron's "
                + "steps restart every hour and every day; choose minutes dividing an hour or hours dividing a day, "
                + "or use 'jobctl systemd'")
        }
        if let off = offsets.sorted().first(where: { $0 % period != 0 }) {
            throw ScheduleRefusal("\(written) fires at multiples of its period since the Unix epoch (UTC), but cron here "
                + "runs in \(cronZone), whose offset \(formatOffset(off)) is not a multiple of it — use 'jobctl systemd' "
                + "or run cron in UTC")
        }
        return expression
    }

    /// Vixie cron reads `5/10` as just `5`; cronsim and Jobwatch read `5-max/10`. The explicit
    /// range means the same to both.
    static func portable(_ expression: String) -> String {
        let words = expression.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard words.count == 5 else { return words.joined(separator: " ") }
        let maxima = ["59", "23", "31", "12", "7"]
        return zip(words, maxima).map { word, max in
            word.split(separator: ",", omittingEmptySubsequences: false).map { term in
                let parts = term.split(separator: "/", maxSplits: 1)
                guard parts.count == 2, parts[0] != "*", !parts[0].contains("-") else { return String(term) }
                return "\(parts[0])-\(max)/\(parts[1])"
            }.joined(separator: ",")
        }.joined(separator: " ")
    }

    static func formatOffset(_ seconds: Int64) -> String {
        let minutes = abs(seconds) / 60
        return (seconds < 0 ? "-" : "+") + String(zeroPadded: Int(minutes / 60), width: 2) + ":" + String(zeroPadded: Int(minutes % 60), width: 2)
    }
}

/// The crontab for a whole `jobs.d`, and the jobs it had to leave out.
public struct GeneratedCrontab: Sendable {
    public let text: String
    public let refusals: [ConfigError]

    public init(jobs: [JobDefinition], jobsDir: String, cronZone: CronZone, jobrun: String, now: Int64) {
        var text = """
            # Generated by 'jobctl crontab' from \(jobsDir): regenerate it rather than editing it.
            # cron here runs in \(cronZone.identifier) (\(cronZone.source)); each line runs the job's command through jobrun.

            """
        var refusals: [ConfigError] = []
        for job in jobs {
            switch CrontabLine.forJob(job, cronZone: cronZone.identifier, jobrun: jobrun, now: now) {
            case .run(let line), .comment(let line):
                text += line + "\n"
            case .refused(let problem):
                refusals.append(problem)
                text += "# \(job.name): left out: \(problem.message)\n"
            }
        }
        self.text = text
        self.refusals = refusals
    }
}

/// The zone the host's cron daemon reads its crontab in, and how that was decided.
public struct CronZone: Sendable, Equatable {
    public let identifier: String
    public let source: String

    public init(identifier: String, source: String) {
        self.identifier = identifier
        self.source = source
    }

    /// `--system-tz`, else `TZ`, else the zone `/etc/localtime` links to, else `/etc/timezone`,
    /// else UTC. `/etc/localtime` comes before `/etc/timezone` because glibc, and so cron,
    /// reads only the former; the latter is a Debian leftover that can be stale.
    public static func detect(flag: String?, environment: [String: String], localtimeTarget: String?,
                              etcTimezone: String?) throws -> CronZone {
        func known(_ name: String, _ source: String) throws -> CronZone {
            guard isKnownTimeZone(name) else { throw UnknownZone(name: name, source: source) }
            return CronZone(identifier: name, source: source)
        }
        if let flag { return try known(flag, "--system-tz") }
        if let tz = environment["TZ"], !tz.isEmpty { return try known(zoneName(fromPath: tz), "TZ") }
        if let target = localtimeTarget, target.contains("zoneinfo/") {
            return try known(zoneName(fromPath: target), "/etc/localtime")
        }
        if let line = etcTimezone?.split(whereSeparator: \.isNewline).first.map(String.init), !line.isEmpty {
            return try known(line.trimmingWhitespace(), "/etc/timezone")
        }
        return CronZone(identifier: "UTC", source: "no zone configured")
    }

    public struct UnknownZone: Error, CustomStringConvertible {
        public let name: String, source: String
        public var description: String {
            source == "--system-tz" ? "--system-tz: unknown IANA time zone \"\(name)\""
                : "\(source) names \"\(name)\", which is not an IANA time zone; pass --system-tz ZONE"
        }
    }

    /// `:Europe/Dublin`, `/usr/share/zoneinfo/Europe/Dublin`, `../usr/share/zoneinfo/posix/Europe/Dublin`.
    private static func zoneName(fromPath text: String) -> String {
        var name = text.hasPrefix(":") ? String(text.dropFirst()) : text
        if let range = name.firstRange(of: "zoneinfo/") { name = String(name[range.upperBound...]) }
        if name.hasPrefix("posix/") { name = String(name.dropFirst(6)) }
        return name
    }
}

/// Why a schedule cannot be written for the target scheduler.
public struct ScheduleRefusal: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// `--jobrun` lands in a crontab, read by /bin/sh, and in `ExecStart=`, with systemd's own
/// `%` and `$` expansion: a path of plain characters needs no quoting in either.
public func jobrunPathProblem(_ path: String) -> String? {
    let plain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._+-"
    return !path.isEmpty && path.allSatisfy(plain.contains) ? nil : "--jobrun: \"\(path)\" must be a plain path (letters, digits and / . _ + -)"
}

/// A zone's UTC offsets over a window, as (start, offset) segments.
struct ZoneOffsets {
    let segments: [(start: Int64, offset: Int64)]

    init(_ identifier: String, from start: Int64, through end: Int64) {
        segments = utcOffsets(zone: identifier, from: start, through: end) ?? [(start, 0)]
    }

    var distinct: Set<Int64> { Set(segments.map(\.offset)) }

    func offset(at t: Int64) -> Int64 {
        segments.last(where: { $0.start <= t })?.offset ?? segments[0].offset
    }

    /// `self`'s offset minus `other`'s, at every instant where either changes.
    func differences(from other: ZoneOffsets) -> Set<Int64> {
        Set((segments + other.segments).map { offset(at: $0.start) - other.offset(at: $0.start) })
    }
}
