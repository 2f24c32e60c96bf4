import Glibc
import SystemSupport

/// GELF over TCP: each message followed by a NUL byte, never compressed (the NUL is the
/// frame delimiter, and compressed bytes may contain it).
///
/// The socket is non-blocking and every wait is a 50 ms `poll`, so the sending thread notices
/// promptly that it should give up, even when Graylog accepted the connection but stopped
/// reading; the job's reader threads never touch the socket at all.
final class TCPTransport: Transport {
    private let host: String
    private let port: Int
    private var socket: Int32 = -1
    private var backoff = Backoff()
    private var frames: [UInt8] = []
    private var frameEnds: [Int] = []

    private static let slice: Int32 = 50
    private static let writeSize = 256 * 1024
    private static let connectTimeout = 3.0
    /// A peer that takes no byte for this long is treated as dead and reconnected.
    private static let stallTimeout = 30.0

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    deinit { close() }

    func close() {
        if socket >= 0 { Glibc.close(socket) }
        socket = -1
    }

    func deliver(_ payloads: ArraySlice<[UInt8]>, giveUp: () -> Bool) -> Int {
        if socket >= 0 && peerHasClosed() { close() }
        var next = payloads.startIndex
        while next < payloads.endIndex {
            guard socket >= 0 || connect(giveUp: giveUp) else { return payloads.endIndex - next }
            let framed = frame(payloads[next...])
            switch writeFrames(giveUp: giveUp) {
            case .written:
                next += framed
            case .gaveUp(let written):
                let complete = completeFrames(written)
                // A half-written frame would corrupt the next message on this connection.
                if complete.bytes < written { close() }
                return payloads.endIndex - next - complete.count
            case .failed(let written):
                // Frames the kernel took before the failure count as sent; resume after them.
                next += completeFrames(written).count
                close()
                backoff.failed()
            }
        }
        return 0
    }

    /// Fills `frames` with NUL-terminated payloads, up to `writeSize` bytes (at least one
    /// payload): one system call per batch instead of one per line. Returns how many.
    private func frame(_ payloads: ArraySlice<[UInt8]>) -> Int {
        frames.removeAll(keepingCapacity: true)
        frameEnds.removeAll(keepingCapacity: true)
        for payload in payloads {
            if !frameEnds.isEmpty && frames.count + payload.count >= TCPTransport.writeSize { break }
            frames.append(contentsOf: payload)
            frames.append(0)
            frameEnds.append(frames.count)
        }
        return frameEnds.count
    }

    private func completeFrames(_ written: Int) -> (count: Int, bytes: Int) {
        let count = frameEnds.prefix { $0 <= written }.count
        return (count, count == 0 ? 0 : frameEnds[count - 1])
    }

    private enum WriteOutcome { case written, gaveUp(written: Int), failed(written: Int) }

    private func writeFrames(giveUp: () -> Bool) -> WriteOutcome {
        var offset = 0
        var lastProgress = monotonicSeconds()
        while offset < frames.count {
            let written = frames.withUnsafeBytes { bytes in
                send(socket, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                offset += written
                lastProgress = monotonicSeconds()
                continue
            }
            guard written < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
                return .failed(written: offset)
            }
            if giveUp() { return .gaveUp(written: offset) }
            if monotonicSeconds() - lastProgress > TCPTransport.stallTimeout { return .failed(written: offset) }
            var waiting = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
            _ = poll(&waiting, 1, TCPTransport.slice)
        }
        return .written
    }

    /// Graylog never writes to a GELF connection, so readability means it closed (or reset)
    /// it; noticing this before writing avoids losing a batch to a dead connection.
    private func peerHasClosed() -> Bool {
        var waiting = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&waiting, 1, 0) > 0 else { return false }
        if waiting.revents & Int16(POLLERR | POLLHUP) != 0 { return true }
        var scratch = [UInt8](repeating: 0, count: 512)
        let count = recv(socket, &scratch, scratch.count, Int32(MSG_DONTWAIT))
        return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// One attempt, when the backoff says one is due.
    private func connect(giveUp: () -> Bool) -> Bool {
        guard backoff.isDue(), !giveUp() else { return false }
        if case .success(let address) = SocketAddress.resolve(host: host, port: port,
                                                              socketType: Int32(SOCK_STREAM.rawValue)),
           let fd = open(to: address, giveUp: giveUp) {
            socket = fd
            backoff.succeeded()
            return true
        }
        backoff.failed()
        return false
    }

    private func open(to address: SocketAddress, giveUp: () -> Bool) -> Int32? {
        let fd = Glibc.socket(address.family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var enabled: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &enabled, socklen_t(MemoryLayout<Int32>.size))
        let status = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        if status == 0 || (status < 0 && errno == EINPROGRESS && connected(fd, giveUp: giveUp)) {
            return fd
        }
        Glibc.close(fd)
        return nil
    }

    private func connected(_ fd: Int32, giveUp: () -> Bool) -> Bool {
        let deadline = monotonicSeconds() + TCPTransport.connectTimeout
        while monotonicSeconds() < deadline && !giveUp() {
            var waiting = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if poll(&waiting, 1, TCPTransport.slice) > 0 {
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                return error == 0
            }
        }
        return false
    }
}
