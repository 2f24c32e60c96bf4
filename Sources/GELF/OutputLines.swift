import Glibc

/// Which of the job's pipes a chunk of output came from.
public enum GELFOutputStream: String, Sendable, CaseIterable {
    case stdout
    case stderr

    var index: Int { self == .stdout ? 0 : 1 }
    /// Syslog severity: informational for stdout, error for stderr.
    var level: Int { self == .stdout ? 6 : 3 }
}

/// One `read()` of a pipe, copied as is, stamped with when it was read.
struct OutputChunk: Sendable {
    var bytes: [UInt8]
    let stream: GELFOutputStream
    /// Seconds since the Unix epoch: the timestamp of the lines that end in this chunk.
    let time: Double
    /// Whether the byte before this chunk, in its stream, was a newline.
    var startsLine: Bool
    /// Output of the same stream dropped just before this chunk.
    var gap: OutputGap
}

/// Output dropped from the queue, as the sending thread needs to know it.
struct OutputGap: Sendable {
    var bytes = 0
    /// Every newline dropped: how far the line numbers jump.
    var newlines = 0
    /// Lines with content whose end was dropped: what was added to the dropped count. Empty
    /// lines are never sent, so losing one loses nothing.
    var lines = 0
    /// The last byte dropped was not a newline: the line after the gap lost its start.
    var endsMidLine = false

    init() {}

    /// Counts with `memchr`, since a stalled Graylog makes this run over all the job's output.
    init(dropping chunk: OutputChunk) {
        bytes = chunk.bytes.count
        endsMidLine = chunk.bytes.last != 0x0A
        chunk.bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var position = 0
            // -1: the line at the chunk's start began earlier, so it has content.
            var lineStart = chunk.startsLine ? 0 : -1
            while position < raw.count, let found = memchr(base + position, 0x0A, raw.count - position) {
                let newline = UnsafeRawPointer(found) - base
                newlines += 1
                if newline != lineStart { lines += 1 }
                position = newline + 1
                lineStart = position
            }
        }
    }

    mutating func append(_ later: OutputGap) {
        bytes += later.bytes
        newlines += later.newlines
        lines += later.lines
        endsMidLine = later.endsMidLine
    }
}

/// The host and fields every output line carries, encoded once per stream.
final class OutputContext: Sendable {
    private let templates: [OutputLineTemplate]

    init(host: String, fields: [GELFField]) {
        templates = GELFOutputStream.allCases.map { stream in
            OutputLineTemplate(host: host, level: stream.level,
                               fields: fields + [GELFField("_stream", stream.rawValue), GELFField("_event", "output")])
        }
    }

    func template(for stream: GELFOutputStream) -> OutputLineTemplate { templates[stream.index] }
}

/// One stream's lines, assembled from its chunks on the sending thread.
///
/// Line numbers count every line of the stream from 1, empty ones (never sent) and dropped
/// ones included, so `_line` always matches the job's real output. When a drop cuts a line:
/// - its start, still held here, is sent marked `_truncated: 1`, and it is taken back out of
///   the dropped count (each line is either sent, in whole or part, or counted, never both);
/// - the line whose start was dropped is sent from where the kept bytes begin, also marked
///   `_truncated: 1`.
struct OutputLines {
    /// The partial line is held up to this size; beyond it the line goes out as it arrives,
    /// 32 KiB parts with `_part`, the last one also with `_parts`, so a job printing without
    /// newlines cannot grow memory.
    static let maxCarry = 1 << 20

    private var carry: [UInt8] = []
    /// Lines completed so far.
    private var lineNumber = 0
    /// Parts of the current line already sent because it outgrew the carry.
    private var partsSent = 0
    /// The current line has bytes that were dropped (or, once sending was abandoned, discarded).
    private var lostBytes = false
    private var lastTime = 0.0

    mutating func consume(_ chunk: OutputChunk, into out: OutputEmitter) {
        lastTime = chunk.time
        skip(chunk.gap, into: out)
        chunk.bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress!
            var start = 0
            while start < raw.count, let found = memchr(base + start, 0x0A, raw.count - start) {
                let newline = UnsafeRawPointer(found) - base
                let piece = UnsafeRawBufferPointer(rebasing: raw[start..<newline])
                if carry.isEmpty && partsSent == 0 {
                    completeLine(piece, into: out)
                } else {
                    carry.append(contentsOf: piece)
                    completeCarriedLine(into: out)
                }
                start = newline + 1
            }
            carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[start...]))
        }
        if carry.count > OutputLines.maxCarry { streamCarry(into: out) }
    }

    /// End of file: a final line without a newline is a line.
    mutating func end(after gap: OutputGap, into out: OutputEmitter) {
        skip(gap, into: out)
        if !carry.isEmpty || partsSent > 0 || lostBytes { completeCarriedLine(into: out) }
    }

    private mutating func skip(_ gap: OutputGap, into out: OutputEmitter) {
        guard gap.bytes > 0 else { return }
        guard gap.newlines > 0 else {
            lostBytes = true  // the gap lies inside the current line
            return
        }
        var newlines = gap.newlines
        if !carry.isEmpty || partsSent > 0 || lostBytes {
            // The current line ended in the gap, and the queue counted it as dropped.
            lineNumber += 1
            newlines -= 1
            if out.isSending && !carry.isEmpty {
                out.countDropped(-1)
                var line: [UInt8] = []
                swap(&line, &carry)
                line.withUnsafeBytes { sendFinal($0, truncated: true, into: out) }
            } else if partsSent > 0 {
                out.countDropped(-1)
            }
            resetLine()
        }
        lineNumber += newlines
        lostBytes = gap.endsMidLine
    }

    private mutating func completeCarriedLine(into out: OutputEmitter) {
        var line: [UInt8] = []
        swap(&line, &carry)
        line.withUnsafeBytes { completeLine($0, into: out) }
        line.removeAll(keepingCapacity: true)
        swap(&line, &carry)
    }

    private mutating func completeLine(_ text: UnsafeRawBufferPointer, into out: OutputEmitter) {
        lineNumber += 1
        var text = text
        if text.last == 0x0D { text = UnsafeRawBufferPointer(rebasing: text.dropLast()) }
        if out.isSending {
            if !text.isEmpty || partsSent > 0 {
                sendFinal(text, truncated: lostBytes, into: out)
            } else if lostBytes {
                out.countDropped(1)  // all of its content was dropped
            }
        } else if partsSent == 0 && (!text.isEmpty || lostBytes) {
            out.countDropped(1)
        }
        resetLine()
    }

    /// Sends the rest of the current line: whole if it fits, otherwise in parts. Every part
    /// carries `_parts` when the whole line is known here; a streamed line (see `maxCarry`)
    /// learns its total only now, on its last part.
    private func sendFinal(_ text: UnsafeRawBufferPointer, truncated: Bool, into out: OutputEmitter) {
        let limit = GELFMessage.maxShortMessageBytes
        if partsSent == 0 && text.count <= limit {
            out.emit(text, time: lastTime, line: lineNumber, part: nil, parts: nil, truncated: truncated)
            return
        }
        let ranges = GELFMessage.partRanges(of: text, maxBytes: limit)
        let total = partsSent + ranges.count
        for (index, range) in ranges.enumerated() {
            let isLast = index == ranges.count - 1
            out.emit(UnsafeRawBufferPointer(rebasing: text[range]), time: lastTime, line: lineNumber,
                     part: partsSent + index + 1, parts: partsSent == 0 || isLast ? total : nil,
                     truncated: truncated && isLast)
        }
    }

    /// Sends all but the last 32 KiB piece of an overlong partial line.
    private mutating func streamCarry(into out: OutputEmitter) {
        guard out.isSending else {
            carry.removeAll(keepingCapacity: true)
            lostBytes = true  // remembers that the line had content, so that it is counted
            return
        }
        let ranges = GELFMessage.partRanges(of: carry, maxBytes: GELFMessage.maxShortMessageBytes)
        let sent = ranges.dropLast()
        carry.withUnsafeBytes { raw in
            for (index, range) in sent.enumerated() {
                out.emit(UnsafeRawBufferPointer(rebasing: raw[range]), time: lastTime, line: lineNumber + 1,
                         part: partsSent + index + 1, parts: nil, truncated: false)
            }
        }
        partsSent += sent.count
        carry.removeFirst(ranges.last!.lowerBound)
    }

    private mutating func resetLine() {
        carry.removeAll(keepingCapacity: true)
        partsSent = 0
        lostBytes = false
    }
}
