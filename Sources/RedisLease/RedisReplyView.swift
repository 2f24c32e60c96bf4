import CHiredis
#if canImport(Glibc)
import Glibc
#endif

/// A reply as hiredis parsed it, read in place: for large replies on a hot path (the
/// monitor's event stream), where decoding every element into a `RedisReply` first would
/// cost more than the work done with it. Valid only inside the closure it is passed to.
public struct RedisReplyView {
    private let reply: UnsafePointer<redisReply>

    init(_ reply: UnsafePointer<redisReply>) { self.reply = reply }

    public var isNull: Bool { reply.pointee.type == REDIS_REPLY_NIL }
    public var isError: Bool { reply.pointee.type == REDIS_REPLY_ERROR }
    public var isArray: Bool { reply.pointee.type == REDIS_REPLY_ARRAY }
    /// See `RedisReply.isReadOnly`.
    var isReadOnly: Bool { isError && bytes.starts(with: "READONLY".utf8) }

    /// Elements of an array reply; 0 for anything else.
    public var count: Int { reply.pointee.type == REDIS_REPLY_ARRAY ? Int(reply.pointee.elements) : 0 }

    /// An element of an array reply; nil past its end.
    public subscript(index: Int) -> RedisReplyView? {
        guard index >= 0, index < count, let element = reply.pointee.element[index] else { return nil }
        return RedisReplyView(UnsafePointer(element))
    }

    /// The bytes of a string, status or error reply; empty for the other kinds.
    public var bytes: UnsafeBufferPointer<UInt8> {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING, REDIS_REPLY_STATUS, REDIS_REPLY_ERROR:
            guard let s = r.str else { return UnsafeBufferPointer(start: nil, count: 0) }
            return UnsafeBufferPointer(start: UnsafeRawPointer(s).assumingMemoryBound(to: UInt8.self), count: Int(r.len))
        default:
            return UnsafeBufferPointer(start: nil, count: 0)
        }
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Whether a string reply is exactly `literal`, without making a String of it.
    public func equals(_ literal: StaticString) -> Bool {
        let mine = bytes
        guard mine.count == literal.utf8CodeUnitCount else { return false }
        return mine.count == 0 || memcmp(mine.baseAddress!, literal.utf8Start, mine.count) == 0
    }

    /// A decimal integer reply or string; nil for anything else.
    public var integer: Int64? {
        if reply.pointee.type == REDIS_REPLY_INTEGER { return Int64(reply.pointee.integer) }
        let digits = bytes
        guard !digits.isEmpty, digits.count <= 20 else { return nil }
        // Accumulated as a negative number, whose range includes Int64.min; an entry anyone
        // can XADD must never trap on overflow.
        var value: Int64 = 0
        let negative = digits[0] == UInt8(ascii: "-")
        guard !negative || digits.count > 1 else { return nil }
        for c in negative ? digits.dropFirst() : digits[...] {
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = shifted.subtractingReportingOverflow(Int64(c - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = next
        }
        if negative { return value }
        return value == .min ? nil : -value
    }

    /// The whole reply, decoded.
    public var decoded: RedisReply { RedisConnection.decode(reply) }
}
