/// One line of an existing crontab, read the way Vixie cron reads it.
enum CrontabSourceLine: Equatable {
    case blank
    case comment
    /// `NAME=value`, `NAME = "value"`: applies to the entries below it.
    case variable(name: String, value: String)
    /// A schedule (five fields or an `@macro`), the user column in `/etc/crontab` format,
    /// and the command: the rest of the line, as written.
    case entry(schedule: String, user: String?, command: String)
    /// Neither a variable nor a complete entry.
    case malformed(String)

    static func parse(_ line: String, system: Bool) -> CrontabSourceLine {
        let text = line.trimmingWhitespace()
        guard let first = text.first else { return .blank }
        if first == "#" { return .comment }
        if first == "@" || first == "*" || first.isNumber {
            return entry(text[...], system: system)
        }
        return variable(text) ?? .malformed("neither a NAME=value variable nor a cron entry")
    }

    private static func entry(_ text: Substring, system: Bool) -> CrontabSourceLine {
        var rest = text
        func word() -> String? {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            let w = rest.prefix { $0 != " " && $0 != "\t" }
            rest = rest.dropFirst(w.count)
            return w.isEmpty ? nil : String(w)
        }
        var fields: [String] = []
        for _ in 0..<(text.first == "@" ? 1 : 5) {
            guard let w = word() else { return .malformed("expected five time fields (or an @macro) and a command") }
            fields.append(w)
        }
        var user: String?
        if system {
            guard let u = word() else { return .malformed("expected a user after the schedule (--system: /etc/crontab format)") }
            user = u
        }
        let command = rest.trimmingWhitespace()
        guard !command.isEmpty else { return .malformed("no command after the schedule") }
        return .entry(schedule: fields.joined(separator: " "), user: user, command: command)
    }

    /// Vixie cron's `load_env`: a name up to `=` or a blank, then `=`, then the value, whose
    /// surrounding blanks go and whose matching outer quotes are removed.
    private static func variable(_ text: String) -> CrontabSourceLine? {
        let name = text.prefix { $0 != "=" && $0 != " " && $0 != "\t" }
        let afterName = text.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }
        guard !name.isEmpty, afterName.first == "=" else { return nil }
        var value = afterName.dropFirst().trimmingWhitespace()
        if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
            value = String(value.dropFirst().dropLast())
        }
        return .variable(name: String(name), value: value)
    }
}

/// Cron's `%`: the first unescaped `%` ends the command and starts its standard input, and
/// `\%` is a literal `%`. A job file has no standard input, so only the second is converted.
enum CronPercent {
    struct StandardInput: Error, CustomStringConvertible {
        var description: String {
            "an unescaped % makes cron feed the rest of the line to the command's standard input, which a job file "
                + "cannot express (write \\% for a literal %, or move the input into the command)"
        }
    }

    static func command(_ text: String) throws(StandardInput) -> String {
        var out = ""
        var escaped = false
        for c in text {
            if escaped {
                if c != "%" { out.append("\\") }
                out.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "%" {
                throw StandardInput()
            } else {
                out.append(c)
            }
        }
        if escaped { out.append("\\") }
        return out
    }
}
