/// A parsed YAML file that remembers where every key and value was written, so validation
/// can point at `path:line:column`. Problems are collected, not thrown one by one: an
/// operator fixing a file wants to see all of them.
public final class YAMLFile {
    public let path: String
    public private(set) var problems: [ConfigError] = []
    let root: YAMLNode?

    /// Bytes that are not YAML (or not UTF-8) leave `root` nil with the problem recorded in `problems`.
    init(path: String, bytes: [UInt8]) {
        self.path = path
        do {
            root = try YAMLComposer.compose(bytes)
        } catch let error as YAMLSyntaxError {
            root = nil
            problems.append(ConfigError(path: path, line: error.line, column: error.column, message: error.message))
        } catch {
            root = nil
            problems.append(ConfigError(path: path, line: 1, column: 1, message: "\(error)"))
        }
    }

    func problem(_ message: String, at node: YAMLNode?) {
        problems.append(ConfigError(path: path, line: node?.line ?? 1, column: node?.column ?? 1, message: message))
    }

    /// The top-level mapping's entries, or a problem if the document is something else.
    func topLevelMapping() -> Mapping? {
        guard let root else { return nil }   // an empty file: every key keeps its default
        return mapping(root, what: "the file")
    }

    func mapping(_ node: YAMLNode, what: String) -> Mapping? {
        guard case .mapping(let entries) = node.content else {
            problem("\(what) must be a mapping of keys", at: node)
            return nil
        }
        return Mapping(file: self, entries: entries)
    }

    /// One YAML mapping with typed accessors; each accessor records a located problem on a
    /// wrong type and returns nil, so callers fall back to defaults and keep validating.
    struct Mapping {
        let file: YAMLFile
        let entries: [(key: YAMLNode, value: YAMLNode)]

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

        func node(_ key: String) -> YAMLNode? {
            entries.first(where: { $0.key.string == key })?.value
        }

        func keyNode(_ key: String) -> YAMLNode? {
            entries.first(where: { $0.key.string == key })?.key
        }

        func string(_ key: String) -> String? {
            guard let n = node(key), !n.isNull else { return nil }
            guard let s = n.string else {
                file.problem("\(key): expected a string", at: n)
                return nil
            }
            return s
        }

        func bool(_ key: String) -> Bool? {
            guard let n = node(key), !n.isNull else { return nil }
            if let s = n.string {
                switch s.lowercased() {
                case "true", "yes", "on": return true
                case "false", "no", "off": return false
                default: break
                }
            }
            file.problem("\(key): expected true or false, got \"\(n.string ?? "?")\"", at: n)
            return nil
        }

        func int(_ key: String, range: ClosedRange<Int>) -> Int? {
            guard let n = node(key), !n.isNull else { return nil }
            guard let s = n.string, let v = Int(String(s.filter { $0 != "_" })) else {
                file.problem("\(key): expected a whole number, got \"\(n.string ?? "?")\"", at: n)
                return nil
            }
            guard range.contains(v) else {
                file.problem("\(key): \(v) is out of range \(range.lowerBound)-\(range.upperBound)", at: n)
                return nil
            }
            return v
        }

        /// A number from 0 to 1.
        func fraction(_ key: String) -> Double? {
            guard let n = node(key), !n.isNull else { return nil }
            guard let s = n.string, let v = Double(s), v >= 0, v <= 1 else {
                file.problem("\(key): expected a number from 0 to 1, got \"\(n.string ?? "?")\"", at: n)
                return nil
            }
            return v
        }

        func timespan(_ key: String, atLeast minimum: Timespan = .zero) -> Timespan? {
            guard let n = node(key), !n.isNull else { return nil }
            guard let s = n.string, let t = Timespan(parsing: s) else {
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
            guard let n = node(key), !n.isNull else { return nil }
            switch n.content {
            case .scalar(let s, _): return [s]
            case .sequence(let items):
                var out: [String] = []
                for item in items {
                    guard let s = item.string else {
                        file.problem("\(key): list items must be strings", at: item)
                        continue
                    }
                    out.append(s)
                }
                return out
            default:
                file.problem("\(key): expected a list of strings", at: n)
                return nil
            }
        }

        func stringMap(_ key: String) -> [String: String]? {
            guard let n = node(key), !n.isNull else { return nil }
            guard let m = file.mapping(n, what: key) else { return nil }
            var out: [String: String] = [:]
            for (k, v) in m.entries {
                guard let name = k.string, let s = v.string else {
                    file.problem("\(key): entries must be NAME: value strings", at: k)
                    continue
                }
                out[name] = s
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
