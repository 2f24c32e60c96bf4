/// A Lua script run with EVALSHA, falling back to EVAL when the server has not cached it
/// (fresh server, SCRIPT FLUSH, failover to a replica that never saw it).
public struct RedisScript: Sendable {
    public let source: String
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = SHA1.hex(Array(source.utf8))
    }
}

extension RedisConnection {
    public func evaluate(_ script: RedisScript, keys: [String], args: [String]) throws -> RedisReply {
        let tail = [String(keys.count)] + keys + args
        let reply = try command(["EVALSHA", script.sha1] + tail)
        if case .error(let e) = reply, e.hasPrefix("NOSCRIPT") {
            return try command(["EVAL", script.source] + tail)
        }
        return reply
    }

    /// The script, then `WAIT replicas timeoutMs` in the same round trip (when `replicas` > 0):
    /// the reply and how many replicas acknowledged what the script wrote.
    public func evaluate(_ script: RedisScript, keys: [String], args: [String],
                         waitingFor replicas: Int, timeoutMs: Int) throws -> (RedisReply, acknowledgedBy: Int) {
        guard replicas > 0 else { return (try evaluate(script, keys: keys, args: args), 0) }
        let tail = [String(keys.count)] + keys + args
        let wait = ["WAIT", String(replicas), String(timeoutMs)]
        var replies = try pipeline([["EVALSHA", script.sha1] + tail, wait])
        if case .error(let e) = replies[0], e.hasPrefix("NOSCRIPT") {
            replies = try pipeline([["EVAL", script.source] + tail, wait])
        }
        return (replies[0], Int(replies[1].integer ?? 0))
    }
}

/// SHA-1 of a script body: the name Redis caches it under. Only used on constant script
/// texts, never for security; written out to keep a crypto package out of `jobrun`'s start-up.
enum SHA1 {
    static func hex(_ message: [UInt8]) -> String {
        var h: [UInt32] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
        var data = message
        let bitLength = UInt64(message.count) * 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for i in (0..<8).reversed() { data.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
        var w = [UInt32](repeating: 0, count: 80)
        for chunk in stride(from: 0, to: data.count, by: 64) {
            for i in 0..<16 {
                let b = chunk + i * 4
                w[i] = UInt32(data[b]) << 24 | UInt32(data[b + 1]) << 16 | UInt32(data[b + 2]) << 8 | UInt32(data[b + 3])
            }
            for i in 16..<80 { w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1) }
            var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
            for i in 0..<80 {
                let (f, k): (UInt32, UInt32)
                switch i {
                case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A827999)
                case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9EBA1)
                case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1BBCDC)
                default: (f, k) = (b ^ c ^ d, 0xCA62C1D6)
                }
                let t = rotl(a, 5) &+ f &+ e &+ k &+ w[i]
                (e, d, c, b, a) = (d, c, rotl(b, 30), a, t)
            }
            h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d; h[4] = h[4] &+ e
        }
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for word in h {
            for shift in stride(from: 28, through: 0, by: -4) { out.append(digits[Int((word >> UInt32(shift)) & 0xF)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { (x << n) | (x >> (32 - n)) }
}
