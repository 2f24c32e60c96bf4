import SystemSupport

/// One word of a command line as `/bin/sh` would split it: quotes and backslashes removed in
/// `text`, the span of the source kept so the rest of a line can be taken exactly as written.
/// Enough to find the program a crontab line runs; not a shell (no expansions, no here-docs).
struct ShellWord: Equatable {
    let text: String
    /// Character offsets of the word in the source, end exclusive.
    let start: Int, end: Int
    /// `&&`, `||`, `;`, `|`, `&`, `(` or `)`.
    let isOperator: Bool
    /// The source spelling, quotes included.
    let raw: String

    /// `NAME=value` with an unquoted identifier before the `=`: a variable assignment.
    var assignment: (name: String, value: String)? {
        guard !isOperator, let eq = raw.firstIndex(of: "=") else { return nil }
        let name = raw[..<eq]
        guard let first = name.first, first == "_" || (first.isASCII && first.isLetter),
              name.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) })
        else { return nil }
        return (String(name), String(text.dropFirst(name.count + 1)))
    }

    static func split(_ line: String) -> [ShellWord] {
        let c = Array(line)
        var words: [ShellWord] = []
        var i = 0
        while i < c.count {
            let ch = c[i]
            if ch == " " || ch == "\t" { i += 1; continue }
            if ch == "#" { break }
            if "&|;()".contains(ch) {
                let doubled = i + 1 < c.count && c[i + 1] == ch && (ch == "&" || ch == "|")
                let end = i + (doubled ? 2 : 1)
                words.append(ShellWord(text: String(c[i..<end]), start: i, end: end, isOperator: true, raw: String(c[i..<end])))
                i = end
                continue
            }
            let start = i
            var text = ""
            scan: while i < c.count {
                let ch = c[i]
                switch ch {
                case " ", "\t", ";", "|", "(", ")":
                    break scan
                case "&" where text.last != ">" && text.last != "<":   // 2>&1 is one word
                    break scan
                case "\\":
                    if i + 1 < c.count { text.append(c[i + 1]) }
                    i += 2
                case "'":
                    i += 1
                    while i < c.count && c[i] != "'" { text.append(c[i]); i += 1 }
                    i += 1
                case "\"":
                    i += 1
                    while i < c.count && c[i] != "\"" {
                        if c[i] == "\\", i + 1 < c.count, "$`\"\\".contains(c[i + 1]) { i += 1 }
                        text.append(c[i])
                        i += 1
                    }
                    i += 1
                default:
                    text.append(ch)
                    i += 1
                }
            }
            let end = min(i, c.count)
            words.append(ShellWord(text: text, start: start, end: end, isOperator: false, raw: String(c[start..<end])))
        }
        return words
    }
}

/// The name a job gets from its command: the program it runs, looking through what only
/// prepares it — `VAR=x`, `cd DIR &&`, `test -x F &&`, wrappers (`nice`, `timeout 1h`,
/// `flock F`, `sudo -u U`, …) and interpreters (`bash script.sh`, `python3 -m mod`,
/// `php artisan`) — without its directory and script extension. `run-parts DIR` is named after
/// DIR. `nil` when nothing is left (an empty or operator-only command).
enum ProgramName {
    /// How to step over a wrapper or an interpreter to the program it runs.
    struct Wrapper {
        /// Options followed by a separate value.
        var valueOptions: Set<String> = []
        /// Arguments before the program (`timeout DURATION`, `flock FILE`).
        var positional = 0
        /// `-c STRING`: the program is the one in STRING.
        var commandOption: String?
        /// `-m MODULE`: the module is the name.
        var moduleOption: String?
    }

    static let shell = Wrapper(valueOptions: ["-o", "+o"], commandOption: "-c")
    static let wrappers: [String: Wrapper] = [
        "nice": Wrapper(valueOptions: ["-n", "--adjustment"]),
        "ionice": Wrapper(valueOptions: ["-c", "-n", "-p", "-P", "-u", "--class", "--classdata"]),
        "nohup": Wrapper(), "exec": Wrapper(), "chronic": Wrapper(), "cronic": Wrapper(), "setsid": Wrapper(),
        "run-one": Wrapper(), "stdbuf": Wrapper(valueOptions: ["-i", "-o", "-e"]),
        "time": Wrapper(valueOptions: ["-f", "-o", "--format", "--output"]),
        "timeout": Wrapper(valueOptions: ["-s", "-k", "--signal", "--kill-after"], positional: 1),
        "env": Wrapper(valueOptions: ["-u", "--unset", "-C", "--chdir"]),
        "sudo": Wrapper(valueOptions: ["-u", "-g", "-C", "-h", "-p", "-r", "-t", "-U", "--user", "--group"]),
        "flock": Wrapper(valueOptions: ["-w", "-E", "--timeout", "--wait", "--conflict-exit-code"], positional: 1,
                         commandOption: "-c"),
        "setlock": Wrapper(positional: 1), "lckdo": Wrapper(valueOptions: ["-w"], positional: 1),
        "systemd-cat": Wrapper(valueOptions: ["-t", "-p"]),
        "sh": shell, "bash": shell, "dash": shell, "zsh": shell, "ksh": shell,
        "python": Wrapper(valueOptions: ["-c", "-W", "-X"], moduleOption: "-m"),
        "python2": Wrapper(valueOptions: ["-c", "-W", "-X"], moduleOption: "-m"),
        "python3": Wrapper(valueOptions: ["-c", "-W", "-X"], moduleOption: "-m"),
        "perl": Wrapper(valueOptions: ["-e", "-E", "-I", "-M"]), "ruby": Wrapper(valueOptions: ["-e", "-I", "-r"]),
        "php": Wrapper(valueOptions: ["-c", "-d", "-f", "-r"]), "node": Wrapper(valueOptions: ["-e", "-r"]),
        "nodejs": Wrapper(valueOptions: ["-e", "-r"]), "Rscript": Wrapper(valueOptions: ["-e"]),
    ]
    static let scriptExtensions: Set<String> = ["sh", "bash", "py", "pl", "rb", "php", "js"]

    static func of(_ command: String) -> String? {
        of(ShellWord.split(command)[...])
    }

    static func of(_ words: ArraySlice<ShellWord>) -> String? {
        var rest = words
        while let word = rest.first {
            if word.isOperator || word.assignment != nil || word.text == "{" {
                rest = rest.dropFirst()
                continue
            }
            let program = Path.lastComponent(word.text)
            rest = rest.dropFirst()
            switch program {
            case "cd":
                rest = rest.drop { !$0.isOperator }
            case "test", "[":
                rest = rest.drop { !$0.isOperator }
            case "run-parts":
                let arguments = rest.prefix { !$0.isOperator }.filter { !$0.text.hasPrefix("-") }
                return arguments.last.map { Path.lastComponent($0.text) } ?? program
            default:
                guard let wrapper = wrappers[program] else { return withoutScriptExtension(program) }
                var positional = wrapper.positional
                while let next = rest.first, !next.isOperator {
                    if let value = rest.dropFirst().first, next.text == wrapper.commandOption {
                        return of(value.text)
                    }
                    if let value = rest.dropFirst().first, next.text == wrapper.moduleOption {
                        return value.text
                    }
                    if next.text.hasPrefix("-") && next.text.count > 1 {
                        rest = rest.dropFirst(wrapper.valueOptions.contains(next.text) ? 2 : 1)
                    } else if positional > 0 {
                        positional -= 1
                        rest = rest.dropFirst()
                    } else {
                        break
                    }
                }
                if rest.first.map({ $0.isOperator }) ?? true { return program }
            }
        }
        return nil
    }

    static func withoutScriptExtension(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex,
              scriptExtensions.contains(String(name[name.index(after: dot)...])) else { return name }
        return String(name[..<dot])
    }

    /// A valid job name close to `text`: every character outside `A-Z a-z 0-9 . _ -` becomes
    /// `-`, runs of `-` collapse, leading and trailing punctuation goes, and it is cut to 120
    /// characters (room for a `-N` suffix); `job` when nothing is left.
    static func sanitized(_ text: String) -> String {
        var name = ""
        for c in text {
            let ok = c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "_" || c == "-")
            let out: Character = ok ? c : "-"
            if out == "-" && name.last == "-" { continue }
            name.append(out)
        }
        let trimmed = name.drop { !($0.isLetter || $0.isNumber) }.prefix(120)
        let result = String(trimmed.reversed().drop { $0 == "-" || $0 == "." || $0 == "_" }.reversed())
        return result.isEmpty ? "job" : result
    }
}
