import CronSchedule
import SystemSupport

/// `jobctl import-crontab`: an existing crontab turned into `jobs.d` files plus the crontab that
/// replaces it, where every converted line runs `jobrun NAME`. Pure: the caller reads the
/// crontab, lists `--out` and writes the files this decides on.
///
/// Each command line becomes one job: its schedule as written, the zone of the `CRON_TZ` (else
/// `TZ`) line above it or else the cron daemon's, its command, and the variables above it as
/// `env`. `MAILTO`, `SHELL` and `PATH` act on cron itself, so they stay in the crontab and are
/// noted as comments in the job file (a `SHELL` other than `/bin/sh` also becomes the command's
/// interpreter). Every variable line stays in the printed crontab. A line that cannot be
/// converted is printed unchanged under a comment saying why, so the crontab still replaces
/// the old one as a whole.
public struct CrontabImport: Sendable {
    public struct Settings: Sendable {
        /// The crontab's path as given, for messages.
        public var source: String
        public var outDir: String
        /// `/etc/crontab` format: a user column after the schedule.
        public var system: Bool
        /// The zone the cron daemon runs in: lines without `CRON_TZ`/`TZ` fire there.
        public var cronZone: String
        public var jobrun: String
        /// Names of the job files already in `outDir`: never overwritten, never reused.
        public var existingJobs: Set<String>

        public init(source: String, outDir: String, system: Bool, cronZone: String, jobrun: String, existingJobs: Set<String>) {
            self.source = source
            self.outDir = outDir
            self.system = system
            self.cronZone = cronZone
            self.jobrun = jobrun
            self.existingJobs = existingJobs
        }
    }

    public struct ImportedJob: Sendable, Equatable {
        public let name: String
        /// The crontab line it came from (1-based).
        public let line: Int
        public let yaml: String
    }

    enum Outcome: Sendable, Equatable {
        case kept(String)
        case converted(ImportedJob, replacement: String, original: String)
        case notConverted(line: Int, original: String, reason: String)
    }

    let settings: Settings
    let outcomes: [Outcome]

    public init(text: String, settings: Settings) {
        self.settings = settings
        var variables = CronVariables()
        var pending: [(line: Int, original: String, result: Result<ImportCandidate, Refusal>)] = []
        var kept: [Int: String] = [:]
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, raw) in lines.enumerated() where !(index == lines.count - 1 && raw.isEmpty) {
            let original = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            switch CrontabSourceLine.parse(original, system: settings.system) {
            case .blank, .comment:
                kept[index + 1] = original
            case .variable(let name, let value):
                variables.set(name, value)
                kept[index + 1] = original
            case .malformed(let reason):
                pending.append((index + 1, original, .failure(Refusal(reason))))
            case .entry(let schedule, let user, let command):
                let result = Result { () throws(Refusal) in
                    try ImportCandidate(schedule: schedule, user: user, command: command, line: index + 1,
                                        original: original, variables: variables, settings: settings)
                }
                pending.append((index + 1, original, result))
            }
        }
        let names = JobNaming(candidates: pending.compactMap { try? $0.result.get() }, existing: settings.existingJobs,
                              outDir: settings.outDir)
        var byLine: [Int: Outcome] = kept.mapValues { .kept($0) }
        for (line, original, result) in pending {
            do {
                let candidate = try result.get()
                let name = try names.name(forLine: line)
                byLine[line] = .converted(try candidate.job(named: name, settings: settings),
                                          replacement: candidate.replacement(named: name, jobrun: settings.jobrun),
                                          original: original)
            } catch {
                byLine[line] = .notConverted(line: line, original: original, reason: error.description)
            }
        }
        outcomes = byLine.keys.sorted().map { byLine[$0]! }
    }

    public var jobs: [ImportedJob] {
        outcomes.compactMap { if case .converted(let job, _, _) = $0 { return job } else { return nil } }
    }

    /// Every line left as it was, located in the crontab.
    public var notConverted: [ConfigError] {
        outcomes.compactMap {
            guard case .notConverted(let line, _, let reason) = $0 else { return nil }
            return ConfigError(path: settings.source, line: line, column: 1, message: "not converted: \(reason)")
        }
    }

    /// The new crontab. `unwritten`: jobs whose files could not be written after all (name →
    /// why); their lines are printed unchanged, like any line that was not converted.
    public func crontab(unwritten: [String: String] = [:]) -> String {
        var out = "# Converted by 'jobctl import-crontab' from \(settings.source); job files in \(settings.outDir).\n"
        func unchanged(_ line: Int, _ original: String, _ reason: String) {
            out += "# jobctl import-crontab: line \(line) not converted: \(reason)\n\(original)\n"
        }
        for outcome in outcomes {
            switch outcome {
            case .kept(let text): out += text + "\n"
            case .notConverted(let line, let original, let reason): unchanged(line, original, reason)
            case .converted(let job, let replacement, let original):
                if let reason = unwritten[job.name] { unchanged(job.line, original, reason) } else { out += replacement + "\n" }
            }
        }
        return out
    }
}

/// Why one line stays as it was.
struct Refusal: Error, CustomStringConvertible, Equatable {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The variable lines read so far, in force for the entries below them.
struct CronVariables: Sendable {
    private(set) var values: [String: String] = [:]

    mutating func set(_ name: String, _ value: String) { values[name] = value }
    subscript(_ name: String) -> String? { values[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// Variables that act on cron, cronlock or jobrun rather than on the command.
    static func isForCron(_ name: String) -> Bool {
        ["CRON_TZ", "MAILTO", "SHELL", "PATH"].contains(name) || name.hasPrefix("CRONLOCK_") || name.hasPrefix("JOBWATCH_")
    }

    /// What the command saw in its environment under cron and still needs in `env`.
    var forCommand: [String: String] { values.filter { !Self.isForCron($0.key) } }

    /// The schedule's zone: `CRON_TZ`, else `TZ` (`:Zone` as glibc spells it), else cron's own.
    func zone(cronZone: String) -> (zone: String, from: String) {
        if let z = self["CRON_TZ"] { return (z, "CRON_TZ") }
        if let z = self["TZ"] { return (z.hasPrefix(":") ? String(z.dropFirst()) : z, "TZ") }
        return (cronZone, "")
    }
}

/// Assigns job names: a `jobrun JOB` line keeps JOB (unless that file exists or an earlier
/// line took it); every other line gets its program name, with `-2`, `-3`, … when taken by an
/// earlier line, a `jobrun` line anywhere in the crontab or a file already in `--out`.
struct JobNaming {
    private var names: [Int: Result<String, Refusal>] = [:]

    init(candidates: [ImportCandidate], existing: Set<String>, outDir: String) {
        var taken = existing
        var explicitLine: [String: Int] = [:]
        for c in candidates {
            guard case .fixed(let name) = c.name else { continue }
            if existing.contains(name) {
                names[c.line] = .failure(Refusal("\(outDir)/\(name).yaml exists and is never overwritten; the line "
                    + "already runs jobrun \(name) and is kept as it is"))
            } else if let earlier = explicitLine[name] {
                names[c.line] = .failure(Refusal("job name \(name) is already taken by line \(earlier)"))
            } else {
                explicitLine[name] = c.line
                names[c.line] = .success(name)
                taken.insert(name)
            }
        }
        for c in candidates {
            guard case .derived(let text) = c.name else { continue }
            let base = ProgramName.sanitized(text)
            var name = base
            var n = 2
            while taken.contains(name) {
                name = "\(base)-\(n)"
                n += 1
            }
            taken.insert(name)
            names[c.line] = .success(name)
        }
    }

    /// Every candidate line given to `init` has a name or a refusal.
    func name(forLine line: Int) throws(Refusal) -> String {
        try names[line]!.get()
    }
}
