import Glibc
import CCurl

/// GELF over UDP: compressed, chunked, and handed to the kernel many datagrams per system
/// call (`sendmmsg`, via `jw_send_datagrams`), because at several hundred thousand lines a second the per-call cost,
/// not the copying, is what limits throughput.
final class UDPTransport: Transport {
    private let host: String
    private let port: Int
    private var chunker: Chunker
    private let deflater: Deflater?
    private var address: SocketAddress?
    private var socket: Int32 = -1
    private var backoff = Backoff()

    private var compressed: [UInt8] = []
    private var arena: [UInt8] = []
    private var ranges: [Range<Int>] = []
    private var owners: [Int] = []
    private var vectors: [iovec] = []

    private static let datagramsPerCall = 64
    /// Smaller messages go uncompressed even in gzip/zlib mode. Measured here: deflate takes
    /// about 8 µs per 300-byte message and saves only ~15 % of it, which would cap the sender
    /// near 100,000 lines/s. Graylog detects compression per datagram, so mixing is valid.
    static let compressionThreshold = 512

    init(host: String, port: Int, compression: GELFCompression, datagramSize: Int) {
        self.host = host
        self.port = port
        self.chunker = Chunker(datagramSize: datagramSize)
        self.deflater = Deflater(compression)
    }

    deinit { close() }

    func close() {
        if socket >= 0 { Glibc.close(socket) }
        socket = -1
    }

    func deliver(_ payloads: ArraySlice<[UInt8]>, giveUp: () -> Bool) -> Int {
        guard let address = connectedAddress() else { return payloads.count }
        var failed = FailedMessages()
        for (index, payload) in payloads.enumerated() {
            var body = payload
            if let deflater, payload.count >= UDPTransport.compressionThreshold {
                deflater.compress(payload, into: &compressed)
                body = compressed
            }
            // The producer already truncated oversized messages; this only guards the limit.
            if !chunker.appendDatagrams(for: body, to: &arena, ranges: &ranges) {
                failed.record(index)
                continue
            }
            owners.append(contentsOf: repeatElement(index, count: ranges.count - owners.count))
            if ranges.count >= UDPTransport.datagramsPerCall || arena.count >= 1 << 20 {
                flush(to: address, failed: &failed)
            }
        }
        flush(to: address, failed: &failed)
        return failed.count
    }

    private func connectedAddress() -> SocketAddress? {
        if let address, socket >= 0 { return address }
        guard backoff.isDue() else { return nil }
        switch SocketAddress.resolve(host: host, port: port, socketType: Int32(SOCK_DGRAM.rawValue)) {
        case .success(let resolved):
            // Unconnected: ICMP "port unreachable" from a stopped Graylog would otherwise
            // surface as ECONNREFUSED on the next send.
            let fd = Glibc.socket(resolved.family, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else {
                backoff.failed()
                return nil
            }
            address = resolved
            socket = fd
            backoff.succeeded()
            return resolved
        case .failure:
            backoff.failed()
            return nil
        }
    }

    private func flush(to address: SocketAddress, failed: inout FailedMessages) {
        let count = ranges.count
        guard count > 0 else { return }
        arena.withUnsafeMutableBytes { bytes in
            vectors.removeAll(keepingCapacity: true)
            for range in ranges {
                vectors.append(iovec(iov_base: bytes.baseAddress! + range.lowerBound, iov_len: range.count))
            }
            address.withSockaddr { name, nameLength in
                var sent = 0
                while sent < count {
                    sent += Int(vectors[sent...].withUnsafeBufferPointer {
                        jw_send_datagrams(socket, name, nameLength, $0.baseAddress, UInt32($0.count))
                    })
                    if sent < count {
                        // The first datagram of the remainder is the one the kernel refused.
                        failed.record(owners[sent])
                        sent += 1
                    }
                }
            }
        }
        arena.removeAll(keepingCapacity: true)
        ranges.removeAll(keepingCapacity: true)
        owners.removeAll(keepingCapacity: true)
    }
}

/// Counts messages with at least one lost datagram; a message's datagrams are consecutive.
private struct FailedMessages {
    private(set) var count = 0
    private var last = -1

    mutating func record(_ message: Int) {
        if message != last { count += 1 }
        last = message
    }
}
