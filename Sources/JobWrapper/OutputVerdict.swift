import CProcess
import JobwatchCore
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// Matches `output_rules` against every line of one attempt's combined output as the pumps
/// read it, so a line long gone from the 64 KiB tail still counts.
///
/// Lines are numbered from 1 across stdout and stderr together, in the order `jobrun` read
/// them. A line is matched on its first `maxLineBytes` (GELF's part size): the cost per line is
/// bounded however long it is. A `fail_if` rule stops being tried after the first match, a
/// `require` rule after it is met, so a healthy run's cost falls as its rules are settled.
///
/// The complete lines of a chunk are judged together: a rule with required literals
/// (`PosixPattern.requiredLiterals`) searches the whole chunk for them (`jw_find`) and runs
/// `regexec` only on the lines they occur in, so a typical rule costs a fast scan of the
/// output, not a `regexec` per line.
final class OutputVerdict: OutputSink, @unchecked Sendable {
    static let maxLineBytes = 32 * 1024

    private let failIf: [PosixPattern]
    private let require: [PosixPattern]
    private let lock = ConditionLock()
    private var lineNumber = 0
    private var failure: (rule: String, line: Int, text: String)?
    private var met: [Bool]
    private var carries: [[UInt8]] = [[], []]
    /// Bytes of the current line dropped past `maxLineBytes`, per stream.
    private var overlong = [false, false]
    /// Which byte of a literal `jw_find` looks for: the rarest by this ranking, which starts as
    /// a guess at log text and learns from the job's own output (`demoteCommonProbes`).
    private var ranks = [UInt8](repeating: 0, count: 256)

    init(rules: OutputRules) throws {
        failIf = try rules.failIf.map(PosixPattern.init)
        require = try rules.require.map(PosixPattern.init)
        met = Array(repeating: false, count: require.count)
        ranks.withUnsafeMutableBufferPointer { jw_byte_ranks($0.baseAddress!) }
    }

    /// Why a run that exited 0 failed anyway, or nil when every rule is satisfied.
    var reason: String? {
        lock.withLock {
            if let failure { return "fail_if \"\(failure.rule)\" matched line \(failure.line): \(failure.text)" }
            if let missing = met.firstIndex(of: false) {
                return "require \"\(require[missing].source)\" matched none of \(lineNumber) line(s)"
            }
            return nil
        }
    }

    func output(_ bytes: UnsafeRawBufferPointer, stream: OutputStream) {
        let s = stream == .stdout ? 0 : 1
        lock.withLock {
            guard let base = bytes.baseAddress, let first = memchr(base, 0x0A, bytes.count) else {
                carry(bytes, stream: s)
                return
            }
            let firstNewline = UnsafeRawPointer(first) - base
            let lastNewline = UnsafeRawPointer(jw_find_last(base, 0x0A, bytes.count)!) - base
            // The line the previous chunk began ends here.
            let head = UnsafeRawBufferPointer(rebasing: bytes[0..<firstNewline])
            if carries[s].isEmpty && !overlong[s] {
                judge(lines: UnsafeRawBufferPointer(rebasing: bytes[0...firstNewline]))
            } else {
                carry(head, stream: s)
                carries[s].append(0x0A)
                carries[s].withUnsafeBytes { judge(lines: $0) }
                carries[s].removeAll(keepingCapacity: true)
                overlong[s] = false
            }
            if lastNewline > firstNewline {
                judge(lines: UnsafeRawBufferPointer(rebasing: bytes[(firstNewline + 1)...lastNewline]))
            }
            carry(UnsafeRawBufferPointer(rebasing: bytes[(lastNewline + 1)...]), stream: s)
        }
    }

    func endOfOutput(stream: OutputStream) {
        let s = stream == .stdout ? 0 : 1
        lock.withLock {
            guard !carries[s].isEmpty || overlong[s] else { return }
            carries[s].append(0x0A)
            carries[s].withUnsafeBytes { judge(lines: $0) }
            carries[s].removeAll()
            overlong[s] = false
        }
    }

    private func carry(_ bytes: UnsafeRawBufferPointer, stream s: Int) {
        let room = Self.maxLineBytes - carries[s].count
        if bytes.count > room { overlong[s] = true }
        carries[s].append(contentsOf: bytes.prefix(max(0, room)))
    }

    /// Complete lines, each ending in a newline.
    private func judge(lines block: UnsafeRawBufferPointer) {
        if failure == nil {
            var first: (line: Range<Int>, rule: PosixPattern)?
            for rule in failIf {
                if let range = firstMatch(of: rule, in: block, before: first?.line.lowerBound ?? block.count) {
                    first = (range, rule)
                }
            }
            if let first {
                let number = lineNumber + Self.newlines(in: UnsafeRawBufferPointer(rebasing: block[..<first.line.lowerBound])) + 1
                failure = (first.rule.source, number, Self.quoted(UnsafeRawBufferPointer(rebasing: block[first.line])))
            }
        }
        for i in met.indices where !met[i] && firstMatch(of: require[i], in: block, before: block.count) != nil {
            met[i] = true
        }
        lineNumber += Self.newlines(in: block)
    }

    /// The first line of `block` starting before `limit` that `rule` matches (without its
    /// newline, a trailing CR, or what lies past `maxLineBytes`).
    private func firstMatch(of rule: PosixPattern, in block: UnsafeRawBufferPointer, before limit: Int) -> Range<Int>? {
        guard let literals = rule.requiredLiterals else {
            var start = 0
            while start < limit {
                let end = Self.lineEnd(in: block, from: start)
                if rule.matches(Self.matchable(block, start..<end)) { return start..<end }
                start = end + 1
            }
            return nil
        }
        var best: Range<Int>?
        for literal in literals {
            var from = 0
            while from < (best?.lowerBound ?? limit) {
                guard let hit = find(literal, in: block, from: from) else { break }
                let start = Self.lineStart(in: block, before: hit)
                guard start < (best?.lowerBound ?? limit) else { break }
                let end = Self.lineEnd(in: block, from: hit)
                if rule.matches(Self.matchable(block, start..<end)) {
                    best = start..<end
                    break
                }
                from = end + 1
            }
        }
        return best
    }

    private static func matchable(_ block: UnsafeRawBufferPointer, _ line: Range<Int>) -> UnsafeRawBufferPointer {
        var end = min(line.upperBound, line.lowerBound + maxLineBytes)
        if end == line.upperBound, end > line.lowerBound, block[end - 1] == 0x0D { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: block[line.lowerBound..<end])
    }

    private func find(_ literal: [UInt8], in block: UnsafeRawBufferPointer, from: Int) -> Int? {
        var falseHits = 0
        var probe: UInt8 = 0
        let found = literal.withUnsafeBytes { needle in
            ranks.withUnsafeBufferPointer { ranks in
                jw_find(block.baseAddress! + from, block.count - from, needle.baseAddress!, needle.count,
                        ranks.baseAddress!, &falseHits, &probe)
            }
        }
        // A probe byte found more than once per 256 bytes scanned is common in this output
        // (a `T` in every timestamp): rank it so, and the next search probes another byte.
        if falseHits > 16, falseHits * 256 > block.count - from { ranks[Int(probe)] = 255 }
        return found.map { UnsafeRawPointer($0) - block.baseAddress! }
    }

    private static func lineStart(in block: UnsafeRawBufferPointer, before position: Int) -> Int {
        guard position > 0, let newline = jw_find_last(block.baseAddress!, 0x0A, position) else { return 0 }
        return UnsafeRawPointer(newline) - block.baseAddress! + 1
    }

    /// The index of the newline ending the line at `position` (every block ends in one).
    private static func lineEnd(in block: UnsafeRawBufferPointer, from position: Int) -> Int {
        UnsafeRawPointer(memchr(block.baseAddress! + position, 0x0A, block.count - position)!) - block.baseAddress!
    }

    private static func newlines(in bytes: UnsafeRawBufferPointer) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        return jw_count_byte(base, bytes.count, 0x0A)
    }

    /// The matching line as the alert shows it: at most 200 bytes of it, invalid UTF-8 replaced.
    private static func quoted(_ line: UnsafeRawBufferPointer) -> String {
        let limit = 200
        var text = line
        if text.last == 0x0D { text = UnsafeRawBufferPointer(rebasing: text.dropLast()) }
        let shown = String(decoding: text.prefix(limit), as: UTF8.self)
        return text.count > limit ? shown + "…" : shown
    }
}
