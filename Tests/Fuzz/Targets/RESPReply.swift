import CHiredis
@testable import RedisLease

/// A Redis reply as the server would send it, for decoders that read hiredis's parse in place.
indirect enum RESPReply {
    case bulk([UInt8])
    case integer(Int64)
    case null
    case array([RESPReply])

    static func bulk(_ text: String) -> RESPReply { .bulk(Array(text.utf8)) }

    /// The wire form: what a Redis server writes for this reply.
    var wire: [UInt8] {
        switch self {
        case .bulk(let bytes): return Array("$\(bytes.count)\r\n".utf8) + bytes + Array("\r\n".utf8)
        case .integer(let value): return Array(":\(value)\r\n".utf8)
        case .null: return Array("$-1\r\n".utf8)
        case .array(let items): return Array("*\(items.count)\r\n".utf8) + items.flatMap(\.wire)
        }
    }

    /// Parses the wire form with hiredis's own reader, as `RedisConnection` receives replies,
    /// and lends the result to `body`.
    func withView<T>(_ body: (RedisReplyView) -> T) -> T {
        guard let reader = redisReaderCreate() else { fatalError("redisReaderCreate failed") }
        defer { redisReaderFree(reader) }
        let bytes = wire
        let fed = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { redisReaderFeed(reader, $0.baseAddress, $0.count) }
        }
        var raw: UnsafeMutableRawPointer?
        guard fed == REDIS_OK, redisReaderGetReply(reader, &raw) == REDIS_OK, let raw else {
            fatalError("hiredis refused a reply we wrote: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        defer { freeReplyObject(raw) }
        return body(RedisReplyView(UnsafePointer(raw.assumingMemoryBound(to: redisReply.self))))
    }
}
