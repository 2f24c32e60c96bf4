import Yams

/// A parsed YAML file that remembers where every key and value was written, so validation
/// can point at `path:line:column`. Problems are collected, not thrown one by one: an
/// operator fixing a file wants to see all of them.
public final class YAMLFile {
    public let path: String
    public private(set) var problems: [ConfigError] = []
    let root: Node?

    /// Returns nil (with the problem recorded in `problems`) when the text is not YAML.
    init(path: String, text: String) {
        self.path = path
        do {
            // The basic resolver leaves every scalar a string: Yams' default one compiles a dozen
            // ICU regular expressions first, which doubled jobrun's start-up. Typed keys are
            // converted by the accessors below.
            root = text.allSatisfy(\.isWhitespace) ? nil : try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            root = nil
            problems.append(Self.locate(error, path: path))
        } catch {
            root = nil
            problems.append(ConfigError(path: path, line: 1, column: 1, message: "\(error)"))
        }
    }

    func problem(_ message: String, at node: Node?) {
        let mark = node?.mark
        problems.append(ConfigError(path: path, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    /// The top-level mapping's entries, or a problem if the document is something else.
    func topLevelMapping() -> Mapping? {
        guard let root else { return nil }   // an empty file: every key keeps its default
        return mapping(root, what: "the file")
    }

    func mapping(_ node: Node, what: String) -> Mapping? {
        guard case .mapping(let m) = node else {
            problem("\(what) must be a mapping of keys", at: node)
            return nil
        }
        return Mapping(file: self, entries: m.map { ($0.key, $0.value) })
    }

    private static func locate(_ error: YamlError, path: String) -> ConfigError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let detail = [context.map { "\($0.text)" }, problem].compactMap { $0 }.filter { !$0.isEmpty }
            return ConfigError(path: path, line: mark.line, column: mark.column,
                               message: "YAML syntax error: " + detail.joined(separator: " "))
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams' own text embeds the whole file; one line per problem is what editors parse.
            return ConfigError(path: path, line: context.mark.line, column: context.mark.column,
                               message: "duplicate key " + duplicates.map { "\"\($0)\"" }.joined(separator: ", "))
        case .reader(let problem, _, _, _):
            return ConfigError(path: path, line: 1, column: 1, message: "YAML read error: \(problem)")
        default:
            return ConfigError(path: path, line: 1, column: 1, message: "YAML error: \(error)")
        }
    }

    /// One YAML mapping with typed accessors; each accessor records a located problem on a
    /// wrong type and returns nil, so callers fall back to defaults and keep validating.
    struct Mapping {
        let file: YAMLFile
        let entries: [(key: Node, value: Node)]

        func rejectUnknownKeys(allowed: [String], context: String) {
            for (key, _) in entries {
                guard let name = key.string else {
                    file.problem("\(context): keys must be strings", at: key)
                    continue
                }
                if !allowed.contains(name) {
                    var message = "\(context): unknown key \"\(name)\""
                    if let guess = Suggestion.closest(to: name, among: allowed) { message += " (did you mean \"\(guess)\"?)" }
                    file.problem(message, at: key)
                }
            }
        }

        func node(_ key: String) -> Node? {
            entries.first(where: { $0.key.string == key })?.value
        }

        func keyNode(_ key: String) -> Node? {
            entries.first(where: { $0.key.string == key })?.key
        }

        func isNull(_ node: Node) -> Bool {
            if case .scalar(let s) = node { return s.style == .plain && ["~", "null", "Null", "NULL", ""].contains(s.string) }
            return false
        }

        func string(_ key: String) -> String? {
            guard let n = node(key), !isNull(n) else { return nil }
            guard case .scalar(let s) = n else {
                file.problem("\(key): expected a string", at: n)
                return nil
            }
            return s.string
        }

        func bool(_ key: String) -> Bool? {
            guard let n = node(key), !isNull(n) else { return nil }
            if case .scalar(let s) = n {
                switch s.string.lowercased() {
                case "true", "yes", "on": return true
                case "false", "no", "off": return false
                default: break
                }
            }
            file.problem("\(key): expected true or false, got \"\(n.string ?? "?")\"", at: n)
            return nil
        }

        func int(_ key: String, range: ClosedRange<Int>) -> Int? {
            guard let n = node(key), !isNull(n) else { return nil }
            guard case .scalar(let s) = n, let v = Int(s.string.replacingOccurrences(of: "_", with: "")) else {
                file.problem("\(key): expected a whole number, got \"\(n.string ?? "?")\"", at: n)
                return nil
            }
            guard range.contains(v) else {
                file.problem("\(key): \(v) is out of range \(range.lowerBound)-\(range.upperBound)", at: n)
                return nil
            }
            return v
        }

        func timespan(_ key: String, atLeast minimum: Timespan = .zero) -> Timespan? {
            guard let n = node(key), !isNull(n) else { return nil }
            guard case .scalar(let s) = n, let t = Timespan(parsing: s.string) else {
                file.problem("\(key): invalid duration \"\(n.string ?? "?")\" (use e.g. 90s, 10m, 2h, 1d, 1h30m)", at: n)
                return nil
            }
            guard t >= minimum else {
                file.problem("\(key): \(t) is below the minimum of \(minimum)", at: n)
                return nil
            }
            return t
        }

        func oneOf(_ key: String, _ choices: [String]) -> String? {
            guard let v = string(key) else { return nil }
            guard choices.contains(v) else {
                file.problem("\(key): must be one of \(choices.joined(separator: ", ")), got \"\(v)\"", at: node(key))
                return nil
            }
            return v
        }

        /// A list of strings; a single string is accepted as a list of one.
        func strings(_ key: String) -> [String]? {
            guard let n = node(key), !isNull(n) else { return nil }
            switch n {
            case .scalar(let s): return [s.string]
            case .sequence(let seq):
                var out: [String] = []
                for item in seq {
                    guard case .scalar(let s) = item else {
                        file.problem("\(key): list items must be strings", at: item)
                        continue
                    }
                    out.append(s.string)
                }
                return out
            default:
                file.problem("\(key): expected a list of strings", at: n)
                return nil
            }
        }

        func stringMap(_ key: String) -> [String: String]? {
            guard let n = node(key), !isNull(n) else { return nil }
            guard let m = file.mapping(n, what: key) else { return nil }
            var out: [String: String] = [:]
            for (k, v) in m.entries {
                guard let name = k.string, case .scalar(let s) = v else {
                    file.problem("\(key): entries must be NAME: value strings", at: k)
                    continue
                }
                out[name] = s.string
            }
            return out
        }
    }
}

/// "Did you mean …?" for misspelt keys: the closest allowed name within a small edit distance.
enum Suggestion {
    static func closest(to word: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(Array(word.lowercased().utf8), Array($0.utf8))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, word.count / 3) else { return nil }
        return best.0
    }

    static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = Array(repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
