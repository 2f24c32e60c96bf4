/// The sending thread's hands: encodes output lines into batches and delivers them, letting
/// queued events jump ahead. Used by that thread only.
final class OutputEmitter {
    private let queue: OutboundQueue
    private let transport: Transport
    private let datagramBudget: DatagramBudget?
    private var template = OutputContext(host: "", fields: []).template(for: .stdout)
    private var batch: [[UInt8]] = []
    private var batchBytes = 0
    private var droppedDelta = 0
    /// False once `finish` gave up on output: lines are then counted, not encoded.
    private(set) var isSending = true

    private static let batchCount = 256
    private static let batchBytes = 256 * 1024

    init(queue: OutboundQueue, transport: Transport, datagramBudget: DatagramBudget?) {
        self.queue = queue
        self.transport = transport
        self.datagramBudget = datagramBudget
    }

    /// Starts a piece of work on one stream's output.
    func begin(_ template: OutputLineTemplate) {
        self.template = template
        isSending = !queue.isAbandoning
    }

    func emit(_ text: UnsafeRawBufferPointer, time: Double, line: Int, part: Int?, parts: Int?, truncated: Bool) {
        guard isSending else {
            // Sending stopped while this line was being assembled.
            if part == nil || part == 1 { droppedDelta += 1 }
            return
        }
        var encoded = template.encode(text, timestamp: time, line: line, part: part, parts: parts, truncated: truncated)
        if let datagramBudget {
            encoded = datagramBudget.fit(encoded) {
                template.message(text, timestamp: time, line: line, part: part, parts: parts, truncated: truncated)
            }
        }
        batchBytes += encoded.count
        batch.append(encoded)
        if batch.count >= OutputEmitter.batchCount || batchBytes >= OutputEmitter.batchBytes { flush() }
    }

    /// Lines counted as dropped (or, negative, taken back) by the sending thread.
    func countDropped(_ lines: Int) { droppedDelta += lines }

    /// Delivers waiting events, then the batch. Undelivered lines count as dropped, one per
    /// message: a line sent in parts counts once for each part lost.
    func flush() {
        deliverEvents()
        guard !batch.isEmpty else { return }
        droppedDelta += transport.deliver(batch[...]) { queue.shouldGiveUp(isEvents: false) }
        batch.removeAll(keepingCapacity: true)
        batchBytes = 0
        isSending = !queue.isAbandoning
    }

    func deliver(events: [[UInt8]]) {
        // An event that cannot be delivered is not an output line: it is not counted.
        _ = transport.deliver(events[...]) { queue.shouldGiveUp(isEvents: true) }
    }

    private func deliverEvents() {
        while let events = queue.takeEvents() { deliver(events: events) }
    }

    /// Ends the piece of work: reports the dropped lines counted during it to the queue.
    func workDone() {
        flush()
        queue.workDone(droppedDelta: droppedDelta)
        droppedDelta = 0
    }
}
