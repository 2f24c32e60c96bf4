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

    init(rules: OutputRules) throws {
        failIf = try rules.failIf.map(PosixPattern.init)
        require = try rules.require.map(PosixPattern.init)
        met = Array(repeating: false, count: require.count)
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
            guard let base = bytes.baseAddress else { return }
            var start = 0
            while start < bytes.count, let found = memchr(base + start, 0x0A, bytes.count - start) {
                let newline = UnsafeRawPointer(found) - base
                let piece = UnsafeRawBufferPointer(rebasing: bytes[start..<newline])
                if carries[s].isEmpty && !overlong[s] {
                    judge(UnsafeRawBufferPointer(rebasing: piece.prefix(Self.maxLineBytes)))
                } else {
                    carry(piece, stream: s)
                    carries[s].withUnsafeBytes { judge($0) }
                    carries[s].removeAll(keepingCapacity: true)
                    overlong[s] = false
                }
                start = newline + 1
            }
            carry(UnsafeRawBufferPointer(rebasing: bytes[start...]), stream: s)
        }
    }

    func endOfOutput(stream: OutputStream) {
        let s = stream == .stdout ? 0 : 1
        lock.withLock {
            guard !carries[s].isEmpty || overlong[s] else { return }
            carries[s].withUnsafeBytes { judge($0) }
            carries[s].removeAll()
            overlong[s] = false
        }
    }

    private func carry(_ bytes: UnsafeRawBufferPointer, stream s: Int) {
        let room = Self.maxLineBytes - carries[s].count
        if bytes.count > room { overlong[s] = true }
        carries[s].append(contentsOf: bytes.prefix(max(0, room)))
    }

    private func judge(_ line: UnsafeRawBufferPointer) {
        lineNumber += 1
        var text = line
        if text.last == 0x0D { text = UnsafeRawBufferPointer(rebasing: text.dropLast()) }
        if failure == nil {
            for rule in failIf where rule.matches(text) {
                failure = (rule.source, lineNumber, Self.quoted(text))
                break
            }
        }
        for i in met.indices where !met[i] && require[i].matches(text) { met[i] = true }
    }

    /// The matching line as the alert shows it: at most 200 bytes of it, invalid UTF-8 replaced.
    private static func quoted(_ line: UnsafeRawBufferPointer) -> String {
        let limit = 200
        let text = String(decoding: line.prefix(limit), as: UTF8.self)
        return line.count > limit ? text + "…" : text
    }
}
