import Foundation
import GELF
#if canImport(Glibc)
import Glibc
#endif

/// A Graylog UDP input stand-in: collects raw datagrams on 127.0.0.1.
final class UDPReceiver: @unchecked Sendable {
    let port: Int
    private let socket: Int32
    private let lock = NSLock()
    private var received: [[UInt8]] = []
    private var running = true
    private var thread: Thread?

    init() {
        socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var size: Int32 = 32 << 20
        setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, 4)
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        port = bindLoopback(socket)
        let thread = Thread { [unowned self] in self.run() }
        self.thread = thread
        thread.start()
    }

    var url: String { "udp://127.0.0.1:\(port)" }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while lock.withLock({ running }) {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count > 0 {
                let datagram = Array(buffer[..<count])
                lock.withLock { received.append(datagram) }
            }
        }
    }

    /// Waits until `enough` holds for the datagrams so far, or `timeout`; returns them.
    func datagrams(timeout: Double = 5, until enough: ([[UInt8]]) -> Bool = { _ in false }) -> [[UInt8]] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if enough(lock.withLock({ received })) { break }
            usleep(20_000)
        }
        return lock.withLock { received }
    }

    func stop() {
        lock.withLock { running = false }
        usleep(200_000)
        close(socket)
    }
}

/// A Graylog TCP input stand-in. `reading: false` accepts connections and never reads them,
/// like a receiver that hung.
final class TCPReceiver: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let reading: Bool
    private let lock = NSLock()
    private var stream: [UInt8] = []
    private var connections: [Int32] = []
    private var running = true

    init(reading: Bool, port: Int = 0) {
        self.reading = reading
        listener = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.port = bindLoopback(listener, port: port)
        listen(listener, 16)
        Thread { [unowned self] in self.run() }.start()
    }

    var url: String { "tcp://127.0.0.1:\(port)" }
    var bytes: [UInt8] { lock.withLock { stream } }
    var connectionCount: Int { lock.withLock { connections.count } }

    /// NUL-delimited frames received so far (an unterminated tail is left out).
    var frames: [[UInt8]] {
        var frames = bytes.split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
        frames.removeLast()
        return frames
    }

    private func run() {
        var pending: [pollfd] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while lock.withLock({ running }) {
            pending = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            if reading {
                pending += lock.withLock { connections }.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            }
            guard poll(&pending, nfds_t(pending.count), 50) > 0 else { continue }
            if pending[0].revents != 0 {
                let client = accept(listener, nil, nil)
                if client >= 0 { lock.withLock { connections.append(client) } }
            }
            for entry in pending.dropFirst() where entry.revents != 0 {
                let count = recv(entry.fd, &buffer, buffer.count, 0)
                if count > 0 {
                    lock.withLock { stream.append(contentsOf: buffer[..<count]) }
                }
                if count == 0 {
                    lock.withLock { connections.removeAll { $0 == entry.fd } }
                    close(entry.fd)
                }
            }
        }
    }

    func waitForFrames(_ count: Int, timeout: Double = 10) -> [[UInt8]] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && frames.count < count { usleep(20_000) }
        return frames
    }

    func stop() {
        lock.withLock { running = false }
        usleep(100_000)
        for connection in lock.withLock({ connections }) { close(connection) }
        close(listener)
    }
}

/// Binds to 127.0.0.1 on a free port and returns the port.
func bindLoopback(_ socket: Int32, port: Int = 0) -> Int {
    var reuse: Int32 = 1
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &reuse, 4)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            precondition(bind(socket, $0, length) == 0, "bind failed")
            getsockname(socket, $0, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A loopback port with nothing listening: connections to it are refused.
func refusedPort() -> Int {
    let probe = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    let port = bindLoopback(probe)
    close(probe)
    return port
}

/// Resident set size of this process, in bytes.
func residentBytes() -> Int {
    let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? "0 0"
    let pages = Int(statm.split(separator: " ")[1]) ?? 0
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

extension GELFSender {
    /// Hands `text` over as one chunk, as a pipe reader would after one read().
    func output(_ text: String, _ stream: GELFOutputStream = .stdout) {
        output(Array(text.utf8), stream)
    }

    func output(_ bytes: [UInt8], _ stream: GELFOutputStream = .stdout) {
        bytes.withUnsafeBytes { sendOutput($0, stream: stream) }
    }
}
