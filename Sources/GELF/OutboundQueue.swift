/// Encoded messages waiting for the sending thread, bounded in bytes and in count.
///
/// Two lanes: `events` (start, finish, lease lost: rare and precious) and `lines` (job
/// output). When full, the oldest lines make room, and each one dropped is counted; events
/// are never displaced by output. Producers only ever wait for the lock, never for the
/// network, so a stalled Graylog cannot slow the job.
final class OutboundQueue: @unchecked Sendable {
    struct Batch {
        let payloads: ArraySlice<[UInt8]>
        let isEvents: Bool
    }

    private let lock = ConditionLock()
    private let byteCapacity: Int
    private let countCapacity: Int

    private var events = Lane()
    private var lines = Lane()
    private var bytes = 0
    private var inFlight = 0
    private var dropped = 0
    private var abandoningLines = false
    private var closed = false
    private var senderExited = false

    /// Bookkeeping per entry on top of its bytes: the array header and allocator rounding.
    private static let entryOverhead = 48
    private static let batchCount = 256
    private static let batchBytes = 256 * 1024

    init(byteCapacity: Int, countCapacity: Int) {
        self.byteCapacity = byteCapacity
        self.countCapacity = countCapacity
    }

    var droppedCount: Int { lock.withLock { dropped } }

    func push(_ payload: [UInt8], isEvent: Bool) {
        let size = payload.count + OutboundQueue.entryOverhead
        lock.withLock {
            if !isEvent && abandoningLines {
                dropped += 1
                return
            }
            while bytes + size > byteCapacity || events.count + lines.count >= countCapacity {
                if let oldest = lines.popFirst() {
                    bytes -= oldest.count + OutboundQueue.entryOverhead
                    dropped += 1
                } else if !isEvent {
                    // Queued events fill the queue alone; the newest line is the one to go.
                    dropped += 1
                    return
                } else if let oldest = events.popFirst() {
                    bytes -= oldest.count + OutboundQueue.entryOverhead
                    dropped += 1
                } else {
                    break
                }
            }
            bytes += size
            if isEvent { events.append(payload) } else { lines.append(payload) }
            lock.broadcast()
        }
    }

    /// The sending thread's next batch: events first, then lines. Waits while there is
    /// nothing to send; nil once the queue is closed.
    func nextBatch() -> Batch? {
        lock.withLock {
            _ = lock.wait(until: nil) { closed || events.count + lines.count > 0 }
            if closed { return nil }
            let isEvents = events.count > 0
            let payloads = isEvents
                ? events.popBatch(maxCount: OutboundQueue.batchCount, maxBytes: OutboundQueue.batchBytes)
                : lines.popBatch(maxCount: OutboundQueue.batchCount, maxBytes: OutboundQueue.batchBytes)
            bytes -= payloads.reduce(0) { $0 + $1.count + OutboundQueue.entryOverhead }
            inFlight = payloads.count
            return Batch(payloads: payloads, isEvents: isEvents)
        }
    }

    func batchDone(_ batch: Batch, undelivered: Int) {
        lock.withLock {
            inFlight = 0
            dropped += undelivered
            lock.broadcast()
        }
    }

    /// Whether the transport should stop retrying the batch it holds.
    func shouldGiveUp(_ batch: Batch) -> Bool {
        lock.withLock { closed || (abandoningLines && !batch.isEvents) }
    }

    /// Waits until everything queued has been handed to the transport; false at the deadline.
    func waitUntilDrained(deadline: Double) -> Bool {
        lock.withLock {
            lock.wait(until: deadline) { events.count + lines.count + inFlight == 0 }
        }
    }

    /// Counts every queued and in-flight line as dropped (the in-flight batch once its
    /// transport gives up, which it does within its polling slice) and refuses new lines;
    /// returns the final dropped count, or the count so far at the deadline.
    func abandonLines(deadline: Double) -> Int {
        lock.withLock {
            abandoningLines = true
            while let line = lines.popFirst() {
                bytes -= line.count + OutboundQueue.entryOverhead
                dropped += 1
            }
            lock.broadcast()
            _ = lock.wait(until: deadline) { inFlight == 0 }
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

/// A FIFO of payloads that pops in O(1) and compacts its storage now and then.
private struct Lane {
    private var items: [[UInt8]] = []
    private var head = 0

    var count: Int { items.count - head }

    mutating func append(_ payload: [UInt8]) { items.append(payload) }

    mutating func popFirst() -> [UInt8]? {
        guard head < items.count else { return nil }
        let first = items[head]
        items[head] = []
        head += 1
        compactIfWorthIt()
        return first
    }

    mutating func popBatch(maxCount: Int, maxBytes: Int) -> ArraySlice<[UInt8]> {
        var end = head
        var size = 0
        while end < items.count, end - head < maxCount, end == head || size + items[end].count <= maxBytes {
            size += items[end].count
            end += 1
        }
        var batch: [[UInt8]] = []
        batch.reserveCapacity(end - head)
        for index in head..<end {
            batch.append([])
            swap(&batch[batch.count - 1], &items[index])
        }
        head = end
        compactIfWorthIt()
        return batch[...]
    }

    private mutating func compactIfWorthIt() {
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
    }
}
