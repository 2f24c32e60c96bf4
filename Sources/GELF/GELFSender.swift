import Glibc
import SystemSupport

/// Streams a run's output and events to Graylog without ever holding up the job.
///
/// `sendOutput` is all a pipe-reader thread does: it copies the raw chunk it read into a
/// bounded queue, with one lock round per chunk, and goes back to reading. One sending thread
/// splits the chunks into lines, encodes, compresses, chunks and writes them. When Graylog is
/// slow or gone (or the job simply prints faster than one thread encodes), the oldest output
/// is dropped and its lines counted, so memory stays bounded and the job never waits.
public final class GELFSender: @unchecked Sendable {
    public let endpoint: GELFEndpoint
    private let queue: OutboundQueue
    private let thread: pthread_t
    private let datagramBudget: DatagramBudget?
    private var finished = false

    /// - Parameters:
    ///   - url: `udp://host:port`, `tcp://host:port` or `http(s)://host[:port]/path`.
    ///   - compression: UDP and HTTP only; TCP is never compressed.
    ///   - chunkSize: largest UDP datagram, the 12-byte chunk header included.
    ///   - queueCapacity: bytes of raw output held while the sending thread lags behind.
    /// - Throws: `GELFConfigurationError` for a malformed URL or chunk size. Host names are
    ///   resolved later, on the sending thread, so DNS never delays the job.
    public convenience init(url: String, compression: GELFCompression = .gzip, chunkSize: Int = 8192,
                            queueCapacity: Int = 4 << 20) throws {
        let endpoint = try GELFEndpoint(parsing: url)
        // 65,507: the largest UDP payload over IPv4; below 64 bytes chunking is pointless.
        guard (64...65_507).contains(chunkSize) else {
            throw GELFConfigurationError("gelf_chunk_size \(chunkSize) is outside 64...65507")
        }
        guard queueCapacity > 0 else {
            throw GELFConfigurationError("GELF queue capacity must be positive")
        }
        switch endpoint {
        case .udp(let host, let port):
            self.init(endpoint: endpoint, queueCapacity: queueCapacity,
                      transport: UDPTransport(host: host, port: port, compression: compression, datagramSize: chunkSize),
                      datagramBudget: DatagramBudget(budget: Chunker(datagramSize: chunkSize).largestMessage, compression: compression))
        case .tcp(let host, let port):
            self.init(endpoint: endpoint, queueCapacity: queueCapacity, transport: TCPTransport(host: host, port: port))
        case .http(let url):
            self.init(endpoint: endpoint, queueCapacity: queueCapacity, transport: HTTPTransport(url: url, compression: compression))
        }
    }

    /// Starts the sending thread on `transport`; `datagramBudget` for UDP only.
    init(endpoint: GELFEndpoint, queueCapacity: Int, transport: Transport, datagramBudget: DatagramBudget? = nil) {
        self.endpoint = endpoint
        self.datagramBudget = datagramBudget
        let queue = OutboundQueue(byteCapacity: queueCapacity)
        self.queue = queue
        let emitter = OutputEmitter(queue: queue, transport: transport, datagramBudget: datagramBudget)
        thread = startThread {
            var streams = [OutputLines(), OutputLines()]
            while let work = queue.nextWork() {
                switch work {
                case .events(let events):
                    emitter.deliver(events: events)
                case .output(let chunk, let context):
                    emitter.begin(context.template(for: chunk.stream))
                    streams[chunk.stream.index].consume(chunk, into: emitter)
                case .end(let stream, let gap, let context):
                    emitter.begin(context.template(for: stream))
                    streams[stream.index].end(after: gap, into: emitter)
                }
                emitter.workDone()
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

    /// The host and fields (`_job`, `_run_id`, ...) every output line carries, besides
    /// `_stream`, `_event: output` and `_line`. Call before the first `sendOutput`.
    public func setOutputContext(host: String, fields: [GELFField]) {
        queue.setContext(OutputContext(host: host, fields: fields))
    }

    /// Hands over one `read()` of the job's `stream`, exactly as read; lines may span calls.
    /// Only copies it into the queue (dropping the oldest output if the queue is full): never
    /// splits, encodes or touches the network. Safe from one reader thread per stream.
    public func sendOutput(_ bytes: UnsafeRawBufferPointer, stream: GELFOutputStream) {
        queue.pushOutput(bytes, stream: stream, time: wallClockSeconds())
    }

    /// End of file on `stream`: its final line, if it has no newline, is sent as a line too.
    public func endOutput(stream: GELFOutputStream) {
        queue.endOutput(stream: stream)
    }

    /// Queues a run event (start, lease lost, ...). Output never pushes it out of the queue,
    /// and it goes ahead of output still waiting. An empty `short_message` is not sent
    /// (Graylog rejects it); one over 32 KiB goes as several messages (see `splitIntoParts`).
    public func sendEvent(_ message: GELFMessage) {
        guard !message.shortMessage.isEmpty else { return }
        for part in message.splitIntoParts() {
            let encoded = GELFEncoder.encode(part)
            queue.pushEvent(datagramBudget?.fit(encoded) { part } ?? encoded)
        }
    }

    /// Ends the run: ends both output streams, waits for queued output to go out, then sends
    /// the message built by `finalMessage` from the final dropped count (output still queued
    /// when time runs short is dropped and its lines counted, so the count is exact). Returns
    /// within about `timeout` seconds, however the receiver behaves. Output handed over later
    /// is ignored. Call once; later calls do nothing.
    public func finish(finalMessage: (Int) -> GELFMessage, timeout: Double) {
        guard !finished else { return }
        finished = true
        let deadline = monotonicSeconds() + max(0, timeout)
        // Keep part of the time for the final message itself.
        let outputDeadline = deadline - min(0.5, max(0, timeout) / 2)
        queue.endAllOutput()
        _ = queue.waitUntilDrained(deadline: outputDeadline)
        let dropped = queue.abandonOutput(deadline: deadline)
        sendEvent(finalMessage(dropped))
        _ = queue.waitUntilDrained(deadline: deadline)
        if queue.close(deadline: deadline) {
            pthread_join(thread, nil)
        } else {
            // Stuck in a system call past its timeout; it ends with the process.
            pthread_detach(thread)
        }
    }
}

/// Seconds since the Unix epoch, for GELF timestamps.
func wallClockSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
