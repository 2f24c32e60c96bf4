import CZlib

/// What Graylog does with the datagrams of one message, strictly: reassembles chunks (same
/// message id, sequence numbers in order, count matching, at most 128), then recognises the
/// compression by its first bytes and inflates. Nil for anything Graylog would drop.
enum GELFReceiver {
    static func payload(of datagrams: [[UInt8]], datagramSize: Int) -> [UInt8]? {
        guard let first = datagrams.first, datagrams.allSatisfy({ $0.count <= datagramSize }) else { return nil }
        var assembled: [UInt8]
        if first.starts(with: [0x1E, 0x0F]) {
            let id = first[2..<10]
            let count = datagrams.count
            guard (2...128).contains(count) else { return nil }
            assembled = []
            for (sequence, datagram) in datagrams.enumerated() {
                guard datagram.count > 12, datagram.starts(with: [0x1E, 0x0F]), datagram[2..<10].elementsEqual(id),
                      datagram[10] == UInt8(sequence), datagram[11] == UInt8(count) else { return nil }
                assembled += datagram[12...]
            }
        } else {
            guard datagrams.count == 1 else { return nil }
            assembled = first
        }
        return decompressed(assembled)
    }

    /// gzip (`1f 8b`), zlib (`78`, header checksum valid) or plain JSON (`{`).
    static func decompressed(_ bytes: [UInt8]) -> [UInt8]? {
        if bytes.starts(with: [0x1F, 0x8B]) { return inflate(bytes, windowBits: 15 + 16) }
        if bytes.count >= 2, bytes[0] == 0x78, (UInt(bytes[0]) << 8 | UInt(bytes[1])) % 31 == 0 {
            return inflate(bytes, windowBits: 15)
        }
        return bytes.first == UInt8(ascii: "{") ? bytes : nil
    }

    /// The whole stream inflated, nil unless it ends exactly where the bytes do.
    private static func inflate(_ input: [UInt8], windowBits: Int32) -> [UInt8]? {
        var stream = z_stream()
        guard inflateInit2_(&stream, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        let status: Int32 = input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            while true {
                let result = chunk.withUnsafeMutableBufferPointer { target -> Int32 in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                output += chunk[..<(chunk.count - Int(stream.avail_out))]
                guard result == Z_OK else { return result }
            }
        }
        return status == Z_STREAM_END && stream.avail_in == 0 ? output : nil
    }
}
