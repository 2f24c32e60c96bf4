import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

public enum OutputStream: String, Sendable { case stdout, stderr }

/// Receives the job's output as read, chunk by chunk; lines may span chunks. Called from
/// the pump's thread, so a sink must hand the bytes on quickly and never block: the job
/// waits while its pipe is full.
public protocol OutputSink: AnyObject, Sendable {
    func output(_ bytes: UnsafeRawBufferPointer, stream: OutputStream)
    func endOfOutput(stream: OutputStream)
}

/// Copies one of the child's pipes to our own fd unchanged (so cron mail still works) and
/// hands every chunk to the sinks, on a dedicated thread. Pass-through comes first: the
/// bytes are written out before any sink sees them.
final class OutputPump: @unchecked Sendable {
    private let source: Int32
    private let destination: Int32?
    private let stream: OutputStream
    private let sinks: [OutputSink]
    private let tail: OutputTail
    private let state = ConditionLock()
    private var finished = false

    init(source: Int32, destination: Int32?, stream: OutputStream, sinks: [OutputSink], tail: OutputTail) {
        self.source = source
        self.destination = destination
        self.stream = stream
        self.sinks = sinks
        self.tail = tail
    }

    func start() {
        pthread_detach(startThread { [self] in
            run()
            state.withLock {
                finished = true
                state.broadcast()
            }
        })
    }

    /// Waits for end-of-file up to `timeoutMs`. A daemonised grandchild can keep the pipe open
    /// for ever; the wrapper must still finish and release its lease.
    func waitForEnd(timeoutMs: Int) -> Bool {
        let deadline = monotonicSeconds() + Double(timeoutMs) / 1000
        return state.withLock { state.wait(until: deadline) { finished } }
    }

    private func run() {
        let chunkSize = 64 * 1024
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 1)
        defer { buffer.deallocate() }
        var echo = destination
        while true {
            let n = read(source, buffer.baseAddress, chunkSize)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            if let fd = echo, !FileDescriptor.writeAll(fd, chunk) {
                echo = nil   // our reader went away; keep draining so the job never blocks
            }
            tail.append(chunk)
            for sink in sinks { sink.output(chunk, stream: stream) }
        }
        for sink in sinks { sink.endOfOutput(stream: stream) }
        close(source)
    }
}

/// The last 64 KiB of the job's combined output, for the finish report.
final class OutputTail: @unchecked Sendable {
    static let capacity = 64 * 1024
    private var ring = [UInt8](repeating: 0, count: OutputTail.capacity)
    private var written = 0
    private let lock = ConditionLock()

    func append(_ bytes: UnsafeRawBufferPointer) {
        lock.withLock { write(bytes) }
    }

    private func write(_ bytes: UnsafeRawBufferPointer) {
        let cap = Self.capacity
        let data = bytes.count > cap ? UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - cap)...]) : bytes
        written += bytes.count - data.count
        var offset = 0
        while offset < data.count {
            let position = written % cap
            let n = min(cap - position, data.count - offset)
            ring.withUnsafeMutableBytes { dst in
                (dst.baseAddress! + position).copyMemory(from: data.baseAddress! + offset, byteCount: n)
            }
            offset += n
            written += n
        }
    }

    /// The tail as text, with invalid UTF-8 replaced.
    var text: String {
        lock.withLock { contents }
    }

    private var contents: String {
        let cap = Self.capacity
        if written <= cap { return String(decoding: ring[0..<written], as: UTF8.self) }
        let start = written % cap
        return String(decoding: Array(ring[start...] + ring[..<start]), as: UTF8.self)
    }
}
