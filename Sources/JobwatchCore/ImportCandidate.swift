import CronSchedule
import SystemSupport

/// One crontab entry read for conversion, before it has its name: the job file it becomes and
/// what its `jobrun NAME` line keeps around the name.
///
/// Three kinds of line: `cronlock CMD` (cronlock's `CRONLOCK_TIMEOUT`, `_GRACE` and `_KEY`
/// become `max_runtime` + `kill_on_timeout`, `grace` and the name), `jobrun [options] JOB [--]
/// CMD` (keeps JOB; `--timeout`, `--lock-ttl`, `--lock-wait`, `--no-lock` become keys, the
/// other options stay on the line), and any other command.
struct ImportCandidate: Sendable {
    enum Name: Sendable, Equatable {
        /// A `jobrun JOB` line: the job's identity already (its history, keys and alerts).
        case fixed(String)
        /// Anything else: made valid and unique by `JobNaming`.
        case derived(String)
    }

    let line: Int
    let name: Name
    let file: ImportedJobFile
    let schedule: String
    let user: String?
    /// `JOBWATCH_*=…` assignments that preceded jobrun or cronlock: they configure jobrun.
    let assignments: [String]
    /// jobrun's own options that are not job keys (`--quiet`, `--gelf URL`, …).
    let jobrunOptions: [String]
    /// Redirections after a jobrun or cronlock command applied to the wrapper: they still do.
    let redirections: [String]

    init(schedule: String, user: String?, command rawCommand: String, line: Int, original: String,
         variables: CronVariables, settings: CrontabImport.Settings) throws(Refusal) {
        self.line = line
        self.schedule = schedule
        self.user = user
        if schedule == "@reboot" {
            throw Refusal("@reboot runs once when cron starts, not on a schedule: there is no occurrence for jobrun to "
                + "claim or for the monitor to expect (keep it in cron, or make it a systemd unit)")
        }
        let (zone, zoneSource) = variables.zone(cronZone: settings.cronZone)
        guard isKnownTimeZone(zone) else { throw Refusal("\(zoneSource)=\(zone) is not an IANA time zone") }
        do {
            _ = try Schedule(schedule, timeZone: zone)
        } catch {
            throw Refusal("schedule \"\(schedule)\": \(error)")
        }
        let command: String
        do {
            command = try CronPercent.command(rawCommand)
        } catch {
            throw Refusal("\(error)")
        }

        var comments = ["Imported by 'jobctl import-crontab' from \(settings.source), line \(line):", "  \(original)"]
        if zoneSource.isEmpty { comments.append("No CRON_TZ or TZ line above it: the zone cron runs in (\(zone)).") }
        comments += Self.cronNotes(variables)
        var keys: [(key: String, value: String)] = []
        var env = variables.forCommand
        let chars = Array(command)
        let words = ShellWord.split(command)
        let leading = words.prefix { $0.assignment != nil }
        let rest = words.dropFirst(leading.count)
        var runs: String
        var jobName: Name
        var assignments: [String] = [], jobrunOptions: [String] = [], redirections: [String] = []

        switch rest.first.map({ Path.lastComponent($0.text) }) {
        case "cronlock":
            var cronlock = variables.values.filter { $0.key.hasPrefix("CRONLOCK_") }
            for word in leading {
                guard let (key, value) = word.assignment else { continue }
                if key.hasPrefix("CRONLOCK_") {
                    cronlock[key] = value
                } else if key.hasPrefix("JOBWATCH_") {
                    assignments.append(word.raw)
                } else {
                    env[key] = value
                }
            }
            (runs, redirections) = try Self.wrappedCommand(rest.dropFirst(), in: chars, wrapper: "cronlock")
            func seconds(_ key: String, _ fallback: Int64) throws(Refusal) -> Int64 {
                guard let text = cronlock[key], !text.isEmpty else { return fallback }
                guard let v = Int64(text), v >= 0 else { throw Refusal("\(key)=\(text): cronlock needs a whole number of seconds") }
                return v
            }
            comments.append("Was run through cronlock: jobrun's lease and occurrence claim now keep each run to one host.")
            let timeout = try seconds("CRONLOCK_TIMEOUT", 0)
            if timeout > 0 {
                keys += [("max_runtime", "\"\(timeout)s\""), ("kill_on_timeout", "true")]
                comments.append("CRONLOCK_TIMEOUT=\(timeout): max_runtime with kill_on_timeout, as cronlock killed it.")
            }
            let grace = try seconds("CRONLOCK_GRACE", 40)
            if grace > 300 {
                keys.append(("grace", "\"\(grace)s\""))
                comments.append("CRONLOCK_GRACE=\(grace): grace, so a host whose clock is that far behind finds the run claimed.")
            } else {
                comments.append("CRONLOCK_GRACE=\(grace): within the default grace (5m), which the occurrence claim covers.")
            }
            let dropped = cronlock.keys.filter { !["CRONLOCK_TIMEOUT", "CRONLOCK_GRACE", "CRONLOCK_KEY"].contains($0) }.sorted()
            if !dropped.isEmpty {
                comments.append("Not carried over: \(dropped.joined(separator: ", ")) (Redis comes from jobwatch.yaml; "
                    + "the renewed lease replaces cronlock's expiry).")
            }
            if let key = cronlock["CRONLOCK_KEY"], !key.isEmpty {
                jobName = .derived(key)
            } else {
                jobName = .derived(ProgramName.of(runs) ?? "job")
            }

        case "jobrun":
            var remaining = rest.dropFirst()
            while let word = remaining.first, !word.isOperator, word.text.count > 1, word.text.hasPrefix("-"), word.text != "--" {
                remaining = remaining.dropFirst()
                let (option, inline) = Self.splitOption(word.text)
                /// The option's value, and its separate word if it was not written `--opt=value`.
                func value() throws(Refusal) -> (text: String, word: String?) {
                    if let inline { return (inline, nil) }
                    guard let next = remaining.first, !next.isOperator else { throw Refusal("jobrun \(option) needs a value") }
                    remaining = remaining.dropFirst()
                    return (next.text, next.raw)
                }
                switch option {
                case "--no-lock":
                    keys.append(("lock", "none"))
                case "--lock-ttl", "--lock-wait", "--timeout":
                    let text = try value().text
                    guard Timespan(parsing: text) != nil else { throw Refusal("jobrun \(option): invalid duration \"\(text)\"") }
                    if option == "--timeout" {
                        keys += [("max_runtime", "\"\(text)\""), ("kill_on_timeout", "true")]
                    } else {
                        keys.append((option == "--lock-ttl" ? "lock_ttl" : "lock_wait", "\"\(text)\""))
                    }
                case "--config", "--jobs-dir", "--host", "--redis", "--gelf", "--monitor":
                    jobrunOptions.append(word.raw)
                    if let separate = try value().word { jobrunOptions.append(separate) }
                case "--no-gelf", "--no-monitor", "--quiet", "-q", "--verbose", "-v":
                    jobrunOptions.append(word.raw)
                default:
                    throw Refusal("jobrun option \(word.text) is neither a job key nor a host option")
                }
            }
            guard let job = remaining.first, !job.isOperator else { throw Refusal("jobrun without a JOB name") }
            guard JobName.isValid(job.text) else { throw Refusal(JobName.validationMessage(job.text)) }
            remaining = remaining.dropFirst()
            if let dashes = remaining.first, dashes.text == "--", !dashes.isOperator { remaining = remaining.dropFirst() }
            (runs, redirections) = try Self.wrappedCommand(remaining, in: chars, wrapper: "jobrun")
            guard !runs.isEmpty else {
                throw Refusal(settings.existingJobs.contains(job.text)
                    ? "already runs jobrun \(job.text), and \(settings.outDir)/\(job.text).yaml exists: kept as it is"
                    : "jobrun \(job.text) has no command here and \(settings.outDir) has no \(job.text).yaml: its "
                        + "definition is in another jobs.d (copy it into \(settings.outDir))")
            }
            for word in leading {
                guard let (key, value) = word.assignment else { continue }
                if key.hasPrefix("JOBWATCH_") { assignments.append(word.raw) } else { env[key] = value }
            }
            jobName = .fixed(job.text)

        default:
            let program = ProgramName.of(words[...])
            if let program, program == "jobrun" || program == "cronlock" {
                throw Refusal("runs \(program) inside a larger command; convert it by hand (a line that starts with "
                    + "\(program) is converted)")
            }
            runs = command
            jobName = .derived(program ?? "job")
        }

        name = jobName
        self.assignments = assignments
        self.jobrunOptions = jobrunOptions
        self.redirections = redirections

        var jobCommand = JobCommand.shell(runs)
        if let shell = variables["SHELL"], shell != "/bin/sh" { jobCommand = .argv([shell, "-c", runs]) }
        file = ImportedJobFile(comments: comments, schedule: schedule, timezone: zone, command: jobCommand, user: user,
                               settings: keys, env: env)
    }

    /// The job file, checked by the same parser `jobctl check` and `jobrun` use.
    func job(named name: String, settings: CrontabImport.Settings) throws(Refusal) -> CrontabImport.ImportedJob {
        let yaml = file.yaml
        do {
            _ = try JobDefinition.parse(text: yaml, path: "\(settings.outDir)/\(name).yaml", defaultTimezone: settings.cronZone)
        } catch let e as ConfigErrors {
            throw Refusal(e.errors.map(\.message).joined(separator: "; "))
        } catch {
            throw Refusal("\(error)")
        }
        return CrontabImport.ImportedJob(name: name, line: line, yaml: yaml)
    }

    /// The line that replaces the entry. `N/step` is spelled `N-max/step`, as `jobctl crontab`
    /// writes it, so that every cron reads it as Jobwatch does.
    func replacement(named name: String, jobrun: String) -> String {
        ([CrontabLine.portable(schedule)] + (user.map { [$0] } ?? []) + assignments + [jobrun] + jobrunOptions + [name]
            + redirections).joined(separator: " ")
    }

    static func cronNotes(_ variables: CronVariables) -> [String] {
        var notes: [String] = []
        if let mailto = variables.values["MAILTO"] {
            notes.append(mailto.isEmpty ? "MAILTO=\"\" in the crontab: cron mails no output."
                : "MAILTO=\(mailto) in the crontab: cron mails the output there (jobrun passes it through).")
        }
        if let path = variables["PATH"] {
            notes.append("PATH=\(path) in the crontab: cron gives it to jobrun, which passes it to the command.")
        }
        if let shell = variables["SHELL"] {
            notes.append(shell == "/bin/sh" ? "SHELL=/bin/sh in the crontab: the default for command:."
                : "SHELL=\(shell) in the crontab: the command runs with \(shell) -c, as under cron.")
        }
        return notes
    }

    /// `--opt=value` → (`--opt`, `value`).
    static func splitOption(_ text: String) -> (String, String?) {
        guard text.hasPrefix("--"), let eq = text.firstIndex(of: "=") else { return (text, nil) }
        return (String(text[..<eq]), String(text[text.index(after: eq)...]))
    }

    /// The command a wrapper (jobrun, cronlock) runs, as written, and the redirections that
    /// follow it, which the shell applied to the wrapper. Another command on the same line
    /// (`&&`, `;`, `|`) or a redirection before the end is refused.
    static func wrappedCommand(_ words: ArraySlice<ShellWord>, in chars: [Character], wrapper: String) throws(Refusal)
        -> (command: String, redirections: [String]) {
        var commandEnd = words.startIndex
        var redirections: [String] = []
        var needsTarget = false
        for (index, word) in zip(words.indices, words) {
            if word.isOperator {
                throw Refusal("more than one command on the line (\(word.text) after \(wrapper)): convert it by hand")
            }
            let digitsDropped = word.raw.drop { $0.isNumber }
            if needsTarget || digitsDropped.hasPrefix(">") || digitsDropped.hasPrefix("<") {
                redirections.append(word.raw)
                needsTarget = !needsTarget && digitsDropped.allSatisfy { "<>&".contains($0) }
            } else if !redirections.isEmpty {
                throw Refusal("a redirection before the end of the \(wrapper) command: convert it by hand")
            } else {
                commandEnd = index + 1
            }
        }
        guard commandEnd > words.startIndex else { return ("", redirections) }
        let text = String(chars[words[words.startIndex].start..<words[commandEnd - 1].end])
        return (text, redirections)
    }
}
