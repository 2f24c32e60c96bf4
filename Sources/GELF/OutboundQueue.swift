import Glibc
import SystemSupport

/// What waits for the sending thread: run events, already encoded, and the job's output as
/// the raw chunks the reader threads read, bounded in bytes.
///
/// A reader thread only copies its chunk in (one lock round per `read()`, however many lines
/// it holds); splitting and encoding happen on the sending thread. When Graylog lags and the
/// chunks exceed `byteCapacity`, the oldest are dropped: their lines are counted there and
/// then, and the gap is handed to the sending thread with that stream's next chunk, so line
/// numbers stay true to the job's output. Events are never displaced by output and go first.
final class OutboundQueue: @unchecked Sendable {
    enum Work {
        case events([[UInt8]])
        case output(OutputChunk, OutputContext)
        /// The stream's end of file, after its last chunk.
        case end(GELFOutputStream, OutputGap, OutputContext)
    }

    private struct StreamState {
        var queued = 0
        var gap = OutputGap()
        /// Whether the last byte pushed was a newline: the next chunk starts a line.
        var atLineStart = true
        var ended = false
        var endTaken = false
    }

    private let lock = ConditionLock()
    private let byteCapacity: Int
    private var context = OutputContext(host: "", fields: [])
    private var events = FIFO<[UInt8]>()
    private var chunks = FIFO<OutputChunk>()
    private var streams = [StreamState(), StreamState()]
    private var bytes = 0
    private var dropped = 0
    private var busy = false
    private var abandoning = false
    private var closed = false
    private var senderExited = false

    private static let eventBatch = 64

    init(byteCapacity: Int) {
        self.byteCapacity = byteCapacity
    }

    /// Lines dropped so far. While the sending thread emits the kept start of a line whose end
    /// was dropped, this may run one ahead for a moment (see `OutputLines.skip`).
    var droppedCount: Int { lock.withLock { dropped } }

    var isAbandoning: Bool { lock.withLock { abandoning } }

    func setContext(_ newContext: OutputContext) {
        lock.withLock { context = newContext }
    }

    /// Events are a handful per run (start, finish), so they are not bounded.
    func pushEvent(_ payload: [UInt8]) {
        lock.withLock {
            events.append(payload)
            lock.broadcast()
        }
    }

    /// Copies `data` in; drops the oldest chunks, counting their lines, while over capacity.
    /// Output after the stream's end (a reader still running after `finish`) is ignored.
    func pushOutput(_ data: UnsafeRawBufferPointer, stream: GELFOutputStream, time: Double) {
        guard let last = data.last else { return }
        let chunk = OutputChunk(bytes: Array(data), stream: stream, time: time,
                                startsLine: true, gap: OutputGap())
        lock.withLock {
            let index = stream.index
            guard !streams[index].ended, !abandoning else { return }
            var chunk = chunk
            chunk.startsLine = streams[index].atLineStart
            streams[index].atLineStart = last == 0x0A
            while bytes + data.count > byteCapacity, let oldest = chunks.popFirst() {
                drop(oldest)
            }
            bytes += data.count
            streams[index].queued += 1
            chunks.append(chunk)
            lock.broadcast()
        }
    }

    /// Call with the lock held.
    private func drop(_ chunk: OutputChunk) {
        let index = chunk.stream.index
        bytes -= chunk.bytes.count
        streams[index].queued -= 1
        let gap = OutputGap(dropping: chunk)
        streams[index].gap.append(gap)
        dropped += gap.lines
    }

    func endOutput(stream: GELFOutputStream) {
        lock.withLock {
            streams[stream.index].ended = true
            lock.broadcast()
        }
    }

    private var endingStream: GELFOutputStream? {
        GELFOutputStream.allCases.first { streams[$0.index].ended && !streams[$0.index].endTaken && streams[$0.index].queued == 0 }
    }

    /// The sending thread's next piece of work: events first, then output in order. Waits
    /// while there is none; nil once the queue is closed. Call `workDone` after each.
    func nextWork() -> Work? {
        lock.withLock {
            _ = lock.wait(until: nil) { closed || events.count > 0 || chunks.count > 0 || endingStream != nil }
            if closed { return nil }
            busy = true
            if let batch = takeEventsLocked() { return .events(batch) }
            if var chunk = chunks.popFirst() {
                bytes -= chunk.bytes.count
                streams[chunk.stream.index].queued -= 1
                chunk.gap = streams[chunk.stream.index].gap
                streams[chunk.stream.index].gap = OutputGap()
                return .output(chunk, context)
            }
            let stream = endingStream!
            streams[stream.index].endTaken = true
            let gap = streams[stream.index].gap
            streams[stream.index].gap = OutputGap()
            return .end(stream, gap, context)
        }
    }

    /// Events that arrived while the sending thread works through a chunk: they go first.
    func takeEvents() -> [[UInt8]]? {
        lock.withLock { takeEventsLocked() }
    }

    private func takeEventsLocked() -> [[UInt8]]? {
        guard events.count > 0 else { return nil }
        var batch: [[UInt8]] = []
        while batch.count < OutboundQueue.eventBatch, let event = events.popFirst() { batch.append(event) }
        return batch
    }

    /// `droppedDelta`: lines undelivered or abandoned by the sending thread, less any it
    /// managed to send part of after they were counted here.
    func workDone(droppedDelta: Int) {
        lock.withLock {
            dropped += droppedDelta
            busy = false
            lock.broadcast()
        }
    }

    /// Whether the transport should stop retrying the batch it holds.
    func shouldGiveUp(isEvents: Bool) -> Bool {
        lock.withLock { closed || (abandoning && !isEvents) }
    }

    /// Marks every stream as ended: nothing more will be read.
    func endAllOutput() {
        lock.withLock {
            for index in streams.indices { streams[index].ended = true }
            lock.broadcast()
        }
    }

    /// Waits until everything queued has been handled by the sending thread; false at the
    /// deadline.
    func waitUntilDrained(deadline: Double) -> Bool {
        lock.withLock {
            lock.wait(until: deadline) { events.count + chunks.count == 0 && endingStream == nil && !busy }
        }
    }

    /// Drops all queued output, counting its lines, and tells the sending thread to count
    /// rather than send what it still holds; returns the final dropped count once it has, or
    /// the count so far at the deadline.
    func abandonOutput(deadline: Double) -> Int {
        lock.withLock {
            abandoning = true
            while let chunk = chunks.popFirst() { drop(chunk) }
            lock.broadcast()
            _ = lock.wait(until: deadline) { endingStream == nil && !busy }
            return dropped
        }
    }

    /// Stops the sending thread at its next check; waits for it until `deadline` and
    /// returns whether it has exited.
    func close(deadline: Double) -> Bool {
        lock.withLock {
            closed = true
            lock.broadcast()
            return lock.wait(until: deadline) { senderExited }
        }
    }

    func senderDidExit() {
        lock.withLock {
            senderExited = true
            lock.broadcast()
        }
    }
}

/// A FIFO that pops in O(1) and compacts its storage now and then.
private struct FIFO<Element> {
    private var items: [Element?] = []
    private var head = 0

    var count: Int { items.count - head }

    mutating func append(_ item: Element) { items.append(item) }

    mutating func popFirst() -> Element? {
        guard head < items.count else { return nil }
        let first = items[head]
        items[head] = nil
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return first
    }
}
