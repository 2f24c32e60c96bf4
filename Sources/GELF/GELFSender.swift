import Glibc

/// Streams a run's messages to Graylog without ever holding up the job.
///
/// `send` and `sendEvent` encode on the caller's thread and append to a bounded queue
/// (safe from several threads, e.g. the stdout and stderr readers); one sending thread
/// compresses, chunks and writes. When Graylog is slow or gone, the oldest output lines are
/// dropped and counted, so memory stays bounded whatever the job prints.
public final class GELFSender: @unchecked Sendable {
    public let endpoint: GELFEndpoint
    private let queue: OutboundQueue
    private let thread: pthread_t
    /// UDP only: the largest message 128 chunks can carry.
    private let udpBudget: Int?
    private let compression: GELFCompression
    private var finished = false

    /// - Parameters:
    ///   - url: `udp://host:port`, `tcp://host:port` or `http(s)://host[:port]/path`.
    ///   - compression: UDP and HTTP only; TCP is never compressed.
    ///   - chunkSize: largest UDP datagram, the 12-byte chunk header included.
    ///   - queueCapacity: bytes of encoded messages held while Graylog lags.
    ///   - maxQueuedMessages: the same bound, counted in messages.
    /// - Throws: `GELFConfigurationError` for a malformed URL or chunk size. Host names are
    ///   resolved later, on the sending thread, so DNS never delays the job.
    public init(url: String, compression: GELFCompression = .gzip, chunkSize: Int = 8192,
                queueCapacity: Int = 4 << 20, maxQueuedMessages: Int = 65_536) throws {
        endpoint = try GELFEndpoint(parsing: url)
        // 65,507: the largest UDP payload over IPv4; below 64 bytes chunking is pointless.
        guard (64...65_507).contains(chunkSize) else {
            throw GELFConfigurationError("gelf_chunk_size \(chunkSize) is outside 64...65507")
        }
        guard queueCapacity > 0, maxQueuedMessages > 0 else {
            throw GELFConfigurationError("GELF queue capacity must be positive")
        }
        self.compression = compression
        let transport: Transport
        switch endpoint {
        case .udp(let host, let port):
            transport = UDPTransport(host: host, port: port, compression: compression, datagramSize: chunkSize)
            udpBudget = Chunker(datagramSize: chunkSize).largestMessage
        case .tcp(let host, let port):
            transport = TCPTransport(host: host, port: port)
            udpBudget = nil
        case .http(let url):
            transport = HTTPTransport(url: url, compression: compression)
            udpBudget = nil
        }
        let queue = OutboundQueue(byteCapacity: queueCapacity, countCapacity: maxQueuedMessages)
        self.queue = queue
        thread = startThread {
            while let batch = queue.nextBatch() {
                let undelivered = transport.deliver(batch.payloads) { queue.shouldGiveUp(batch) }
                queue.batchDone(batch, undelivered: undelivered)
            }
            transport.close()
            queue.senderDidExit()
        }
    }

    deinit {
        if !finished {
            _ = queue.close(deadline: 0)
            pthread_detach(thread)
        }
    }

    /// Output lines dropped so far: pushed out of a full queue, or undeliverable.
    public var droppedCount: Int { queue.droppedCount }

    /// Queues one output line. Never blocks on the network. An empty `short_message` is not
    /// sent (Graylog rejects it); a line over 32 KiB goes as several messages (see
    /// `splitIntoParts`).
    public func send(_ message: GELFMessage) {
        enqueue(message, isEvent: false)
    }

    /// Queues a run event (start, lease lost, ...): like `send`, but output lines never push
    /// it out of the queue, and it goes ahead of lines still waiting.
    public func sendEvent(_ message: GELFMessage) {
        enqueue(message, isEvent: true)
    }

    /// Ends the stream: waits for queued messages to go out, then sends the message built by
    /// `finalMessage` from the final dropped count (lines still queued when time runs short
    /// are dropped and counted, so the count is exact). Returns within about `timeout`
    /// seconds, however the receiver behaves. Call once, after the last `send`; later calls
    /// do nothing.
    public func finish(finalMessage: (Int) -> GELFMessage, timeout: Double) {
        guard !finished else { return }
        finished = true
        let deadline = monotonicSeconds() + max(0, timeout)
        // Keep part of the time for the final message itself.
        let linesDeadline = deadline - min(0.5, max(0, timeout) / 2)
        _ = queue.waitUntilDrained(deadline: linesDeadline)
        let dropped = queue.abandonLines(deadline: deadline)
        enqueue(finalMessage(dropped), isEvent: true)
        _ = queue.waitUntilDrained(deadline: deadline)
        if queue.close(deadline: deadline) {
            pthread_join(thread, nil)
        } else {
            // Stuck in a system call past its timeout; it ends with the process.
            pthread_detach(thread)
        }
    }

    private func enqueue(_ message: GELFMessage, isEvent: Bool) {
        guard !message.shortMessage.isEmpty else { return }
        if message.shortMessage.count > GELFMessage.maxShortMessageBytes {
            for part in message.splitIntoParts() { enqueueWhole(part, isEvent: isEvent) }
        } else {
            enqueueWhole(message, isEvent: isEvent)
        }
    }

    private func enqueueWhole(_ message: GELFMessage, isEvent: Bool) {
        var encoded = GELFEncoder.encode(message)
        if let budget = udpBudget, encoded.count > budget, !fitsInDatagrams(encoded, budget: budget) {
            encoded = message.encodedTruncated(toFit: { fitsInDatagrams($0, budget: budget) },
                                               encodedSize: encoded.count, budget: budget)
        }
        queue.push(encoded, isEvent: isEvent)
    }

    /// Only for messages already over the budget uncompressed, which at the default chunk
    /// size never happens: compressing here as well keeps the common path cheap.
    private func fitsInDatagrams(_ encoded: [UInt8], budget: Int) -> Bool {
        if encoded.count <= budget { return true }
        guard let deflater = Deflater(compression) else { return false }
        var compressed: [UInt8] = []
        deflater.compress(encoded, into: &compressed)
        return compressed.count <= budget
    }
}
