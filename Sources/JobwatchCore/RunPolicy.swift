#if canImport(Glibc)
import Glibc
#endif

/// What a new occurrence does while an earlier run still holds the job's lease (SPEC §6).
public enum ConcurrencyPolicy: String, Sendable, CaseIterable {
    /// Skip the new occurrence (exit 200, a `skip` report).
    case forbid
    /// Run side by side: each occurrence takes its own lease, `lock:<job>:<epoch>`.
    case allow
    /// Take the lease over: the running one is stopped (`replaced`, exit 203), then this runs.
    case replace
}

/// `output_rules`: regular expressions matched against every line of a run's combined output.
public struct OutputRules: Sendable, Equatable {
    /// A line matching any of these fails a run that exited 0.
    public var failIf: [String] = []
    /// Each of these must match some line, or a run that exited 0 fails.
    public var require: [String] = []

    public init(failIf: [String] = [], require: [String] = []) {
        self.failIf = failIf
        self.require = require
    }

    public var isEmpty: Bool { failIf.isEmpty && require.isEmpty }

    public static let keys = ["fail_if", "require"]
}

/// One POSIX extended regular expression, compiled once (`regcomp(REG_EXTENDED|REG_NOSUB)`).
/// glibc's `regexec` takes its own lock, so one compiled pattern may serve several threads.
public final class PosixPattern: @unchecked Sendable {
    public let source: String
    private let regex: UnsafeMutablePointer<regex_t>

    public struct Invalid: Error, CustomStringConvertible {
        /// regcomp's own words (`regerror`), e.g. "Unmatched ( or \\(".
        public let description: String
    }

    public init(_ source: String) throws {
        let compiled = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        let rc = regcomp(compiled, source, REG_EXTENDED | REG_NOSUB)
        guard rc == 0 else {
            var message = [CChar](repeating: 0, count: 256)
            regerror(rc, compiled, &message, message.count)
            compiled.deallocate()   // before any property is set: no deinit runs for this object
            throw Invalid(description: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.source = source
        regex = compiled
        requiredLiterals = Self.requiredLiterals(of: Array(source.utf8))
    }

    deinit {
        regfree(regex)
        regex.deallocate()
    }

    /// Whether the line (without its newline; it need not be NUL-terminated) matches.
    /// `REG_STARTEND` bounds the search, so the line is never copied.
    public func matches(_ line: UnsafeRawBufferPointer) -> Bool {
        guard let base = line.baseAddress else { return matchesEmpty }
        var range = regmatch_t(rm_so: 0, rm_eo: regoff_t(line.count))
        return regexec(regex, base.assumingMemoryBound(to: CChar.self), 1, &range, REG_STARTEND) == 0
    }

    private var matchesEmpty: Bool { regexec(regex, "", 0, nil, 0) == 0 }

    /// Substrings of which every match contains at least one, so a line holding none of them
    /// cannot match and `regexec` need not run: for `^ERROR` `["ERROR"]`, for `FATAL|PANIC`
    /// `["FATAL", "PANIC"]`, for `rows copied: [1-9]` `["rows copied: "]`. Nil when no
    /// branch of the expression has a literal that must appear (`[0-9]+`, `(a|b)c?`).
    public let requiredLiterals: [[UInt8]]?

    /// The longest run of plain characters at the top level of each `|` branch. Groups and
    /// bracket expressions end a run (their content is not looked into); a character followed
    /// by `*`, `?` or `{` may be absent, so it is dropped; `+` keeps it. Conservative: a
    /// shorter literal than possible is still correct, a wrong one never is.
    static func requiredLiterals(of pattern: [UInt8]) -> [[UInt8]]? {
        var branches: [[UInt8]] = []
        var best: [UInt8] = []
        var run: [UInt8] = []
        var depth = 0
        var i = 0
        func endRun() {
            if run.count > best.count { best = run }
            run.removeAll()
        }
        while i < pattern.count {
            let c = pattern[i]
            if depth > 0 {
                if c == UInt8(ascii: "\\") { i += 1 } else if c == UInt8(ascii: "(") { depth += 1 } else if c == UInt8(ascii: ")") { depth -= 1 }
                i += 1
                continue
            }
            switch c {
            case UInt8(ascii: "|"):
                endRun()
                branches.append(best)
                best = []
            case UInt8(ascii: "("):
                endRun()
                depth = 1
            case UInt8(ascii: "["):
                endRun()
                i = Self.endOfBracket(pattern, from: i)
            case UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "{"):
                if !run.isEmpty { run.removeLast() }
                endRun()
                if c == UInt8(ascii: "{") { while i < pattern.count && pattern[i] != UInt8(ascii: "}") { i += 1 } }
            case UInt8(ascii: "+"):
                endRun()
            case UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: ")"):
                endRun()
            case UInt8(ascii: "\\"):
                // `\.` is a dot; `\w`, `\b`, `\<` and the like are GNU classes and anchors.
                if i + 1 < pattern.count, !Self.isAlphanumeric(pattern[i + 1]), pattern[i + 1] != UInt8(ascii: "<"),
                   pattern[i + 1] != UInt8(ascii: ">"), pattern[i + 1] != UInt8(ascii: "`"), pattern[i + 1] != UInt8(ascii: "'") {
                    run.append(pattern[i + 1])
                } else {
                    endRun()
                }
                i += 1
            default:
                run.append(c)
            }
            i += 1
        }
        endRun()
        branches.append(best)
        return branches.contains { $0.isEmpty } ? nil : branches
    }

    /// The index of the `]` closing the bracket expression opened at `start` (`[]a]`, `[^]a]`
    /// and `[[:alpha:]]` included).
    private static func endOfBracket(_ p: [UInt8], from start: Int) -> Int {
        var i = start + 1
        if i < p.count && p[i] == UInt8(ascii: "^") { i += 1 }
        if i < p.count && p[i] == UInt8(ascii: "]") { i += 1 }
        while i < p.count && p[i] != UInt8(ascii: "]") {
            if p[i] == UInt8(ascii: "["), i + 1 < p.count, [UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "=")].contains(p[i + 1]) {
                let close = p[i + 1]
                i += 2
                while i + 1 < p.count && !(p[i] == close && p[i + 1] == UInt8(ascii: "]")) { i += 1 }
                i += 2
                continue
            }
            i += 1
        }
        return i
    }

    private static func isAlphanumeric(_ c: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c)
    }
}

extension JobDefinition {
    /// `retries`, `retry_delay`, `concurrency` and `output_rules` (SPEC §6), each validated
    /// where it is written.
    mutating func readRunPolicy(_ m: YAMLFile.Mapping) {
        retries = m.int("retries", range: 0...100) ?? retries
        retryDelay = m.timespan("retry_delay") ?? retryDelay
        concurrency = m.oneOf("concurrency", ConcurrencyPolicy.allCases.map(\.rawValue))
            .flatMap(ConcurrencyPolicy.init(rawValue:)) ?? concurrency
        if let n = m.node("output_rules"), !n.isNull, let rules = m.file.mapping(n, what: "output_rules") {
            rules.rejectUnknownKeys(allowed: OutputRules.keys, context: "output_rules")
            outputRules = OutputRules(failIf: Self.patterns("fail_if", in: rules), require: Self.patterns("require", in: rules))
        }
    }

    /// Each expression is compiled now, so a typo is a config error and never a surprise at 3 am.
    private static func patterns(_ key: String, in rules: YAMLFile.Mapping) -> [String] {
        guard let n = rules.node(key), !n.isNull else { return [] }
        let items: [YAMLNode]
        switch n.content {
        case .scalar: items = [n]
        case .sequence(let nodes): items = nodes
        case .mapping:
            rules.file.problem("output_rules.\(key): expected a list of regular expressions", at: n)
            return []
        }
        var valid: [String] = []
        for item in items {
            guard !item.isNull, let source = item.string else {
                rules.file.problem("output_rules.\(key): list items must be strings", at: item)
                continue
            }
            if source.isEmpty {
                rules.file.problem("output_rules.\(key): an empty expression matches every line", at: item)
                continue
            }
            do {
                _ = try PosixPattern(source)
                valid.append(source)
            } catch {
                rules.file.problem("output_rules.\(key): invalid regular expression \"\(source)\": \(error)", at: item)
            }
        }
        return valid
    }
}
