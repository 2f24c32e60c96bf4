import CCurl

/// Payload compression for UDP and HTTP. Graylog recognises the format by its first bytes
/// (gzip `1f 8b`, zlib `78 ..`, JSON `{`), so no flag travels with the message. Over UDP,
/// messages under 512 bytes stay uncompressed (see `UDPTransport.compressionThreshold`).
public enum GELFCompression: String, Sendable, CaseIterable {
    case gzip
    case zlib
    case none
}

/// One reusable zlib stream; not thread-safe, so each sending thread owns its own.
final class Deflater {
    private let stream: OpaquePointer

    init?(_ compression: GELFCompression) {
        let format: jw_format
        switch compression {
        case .gzip: format = JW_FORMAT_GZIP
        case .zlib: format = JW_FORMAT_ZLIB
        case .none: return nil
        }
        guard let stream = jw_deflater_new(format) else { return nil }
        self.stream = stream
    }

    deinit { jw_deflater_free(stream) }

    /// Replaces the contents of `out` with the compressed `input`.
    func compress(_ input: [UInt8], into out: inout [UInt8]) {
        let bound = jw_deflate_bound(stream, input.count)
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: repeatElement(0, count: bound))
        let written = input.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                jw_deflate(stream, source.baseAddress, source.count, target.baseAddress, target.count)
            }
        }
        // The bound is an upper bound by construction; on a zlib failure send it uncompressed.
        if written < 0 {
            out = input
        } else {
            out.removeLast(out.count - written)
        }
    }
}
