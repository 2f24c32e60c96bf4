import CHiredis
import SystemSupport
#if canImport(Glibc)
import Glibc
import JobwatchCore
#endif

/// One blocking connection to one Redis server, over hiredis.
///
/// Every call is bounded by `timeout` (connect and each read/write), so a black-holed server
/// costs a cron tick a known number of milliseconds, never a hang. After a transport error the
/// hiredis context is unusable; the next call reconnects, up to `attempts` tries with doubling
/// backoff.
///
/// A Sentinel-managed master is looked up at every (re)connect and checked with `ROLE`, and
/// while the connection is in use the sentinels are asked again at most once a second
/// (`recheckMs`): a failover is noticed by a refused connection, by a `READONLY` answer from
/// the demoted master, or by that check when the old master still answers (a partition).
public final class RedisConnection {
    /// The server this connection talks to; for a Sentinel master, the one found last.
    public private(set) var endpoint: RedisEndpoint
    public let timeoutMs: Int
    private let attempts: Int
    private var context: UnsafeMutablePointer<redisContext>?
    /// Counts the connections opened: state tied to one (WATCH) is gone once it changes.
    public private(set) var generation = 0
    private let locator: SentinelLocator?
    /// Monotonic ms after which the sentinels are asked again whether `endpoint` is the master.
    private var recheckAt: Int64 = 0

    static let recheckMs: Int64 = 1000
    /// After the sentinels could not be asked, keep using the master we have for this long.
    static let recheckAfterFailureMs: Int64 = 5000

    public init(endpoint: RedisEndpoint, timeoutMs: Int = 1000, attempts: Int = 3) {
        self.endpoint = endpoint
        self.timeoutMs = timeoutMs
        self.attempts = max(1, attempts)
        locator = nil
    }

    public init(sentinel master: SentinelMaster, timeoutMs: Int = 1000, attempts: Int = 3) {
        endpoint = RedisEndpoint(host: "sentinel master \"\(master.name)\"", port: 0, db: master.db,
                                 user: master.user, password: master.password)
        self.timeoutMs = timeoutMs
        self.attempts = max(1, attempts)
        // Sentinels answer from memory: a slow one is as good as gone.
        locator = SentinelLocator(master, timeoutMs: min(timeoutMs, 300))
    }

    deinit { disconnect() }

    /// Whether a connection is open now (it may still turn out to be broken at the next use).
    public var isConnected: Bool { context != nil }

    public func disconnect() {
        if let c = context { redisFree(c) }
        context = nil
    }

    /// Connects (or reconnects) now; useful to fail fast before doing anything else.
    public func connect() throws {
        if context != nil {
            guard let locator, monotonicMs() >= recheckAt else { return }
            do {
                if try locator.locate() == endpoint {
                    recheckAt = monotonicMs() + Self.recheckMs
                    return
                }
                disconnect()   // promoted elsewhere: reconnect below to the new master
            } catch {
                recheckAt = monotonicMs() + Self.recheckAfterFailureMs
                return
            }
        }
        var lastError = RedisError(.unreachable, "cannot reach Redis at \(endpoint)")
        var backoffMs = 50
        for attempt in 1...attempts {
            do {
                try openOnce()
                return
            } catch let e as RedisError {
                lastError = e
                if e.kind != .unreachable { throw e }   // wrong password: retrying won't help
            }
            if attempt < attempts {
                usleep(useconds_t(backoffMs * 1000))
                backoffMs = min(backoffMs * 2, 1000)
            }
        }
        throw lastError
    }

    private func openOnce() throws {
        if let locator {
            do {
                endpoint = try locator.locate()
            } catch where endpoint.port != 0 {
                // No sentinel answers: the master we knew is still the best guess; ROLE decides.
            }
        }
        let tv = timeval(tv_sec: timeoutMs / 1000, tv_usec: suseconds_t((timeoutMs % 1000) * 1000))
        guard let c = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), tv) else {
            throw RedisError(.unreachable, "cannot allocate a Redis context")
        }
        if c.pointee.err != 0 {
            let message = Self.errorText(c)
            redisFree(c)
            throw RedisError(.unreachable, "cannot connect to Redis at \(endpoint.host):\(endpoint.port): \(message)")
        }
        redisSetTimeout(c, tv)
        context = c
        generation += 1
        do {
            if let password = endpoint.password {
                let auth = endpoint.user.map { ["AUTH", $0, password] } ?? ["AUTH", password]
                if case .error(let e) = try roundTrip(auth) {
                    throw RedisError(.server, "Redis at \(endpoint) refused authentication: \(e)")
                }
            }
            if endpoint.db != 0, case .error(let e) = try roundTrip(["SELECT", String(endpoint.db)]) {
                throw RedisError(.server, "Redis at \(endpoint) refused SELECT \(endpoint.db): \(e)")
            }
            if locator != nil {
                // A sentinel may lag a failover, or name a master that has just been demoted.
                let role = try roundTrip(["ROLE"])
                guard role.array?.first?.string == "master" else {
                    throw RedisError(.unreachable, "\(endpoint), named by the sentinels, is not a master (failover in progress?)")
                }
                recheckAt = monotonicMs() + Self.recheckMs
            }
        } catch {
            disconnect()
            throw error
        }
    }

    /// Runs one command. Server errors come back as `.error`; transport errors throw.
    @discardableResult
    public func command(_ args: [String]) throws -> RedisReply {
        try pipeline([args])[0]
    }

    /// Sends all commands in one write and reads all replies: one round trip. A connection
    /// found dropped is re-opened and the commands sent again once, unless `resendOnReconnect`
    /// is false: a transaction that depends on a WATCH must not run on a fresh connection,
    /// where the WATCH is gone.
    public func pipeline(_ commands: [[String]], resendOnReconnect: Bool = true) throws -> [RedisReply] {
        var failure: RedisError?
        for attempt in 0..<(resendOnReconnect ? 2 : 1) {
            do {
                try connect()
                for args in commands { try append(args) }
                var replies: [RedisReply] = []
                replies.reserveCapacity(commands.count)
                for _ in commands { replies.append(try readReply()) }
                if locator != nil, replies.contains(where: \.isReadOnly) { throw masterMoved() }
                return replies
            } catch let e as RedisError where e.kind == .unreachable {
                // A connection that idled out (server restart, timeout) gets one fresh try.
                failure = e
                disconnect()
                if attempt == 0 { continue }
            }
        }
        throw failure!
    }

    /// Runs one command and hands its reply to `read` as hiredis parsed it, without decoding
    /// it first (see `RedisReplyView`). Transport errors throw; a dropped connection is
    /// re-opened and the command sent again once.
    public func command<T>(_ args: [String], reading read: (RedisReplyView) throws -> T) throws -> T {
        var failure: RedisError?
        for attempt in 0..<2 {
            do {
                try connect()
                try append(args)
                guard let c = context else { throw RedisError(.unreachable, "not connected to Redis at \(endpoint)") }
                var raw: UnsafeMutableRawPointer?
                if redisGetReply(c, &raw) != REDIS_OK || raw == nil { throw transportError(c) }
                defer { freeReplyObject(raw) }
                let view = RedisReplyView(UnsafePointer(raw!.assumingMemoryBound(to: redisReply.self)))
                if locator != nil, view.isReadOnly { throw masterMoved() }
                return try read(view)
            } catch let e as RedisError where e.kind == .unreachable {
                failure = e
                disconnect()
                if attempt == 0 { continue }
            }
        }
        throw failure!
    }

    /// Sends every command of `buffers`, in order, in one write and hands each reply to `read`
    /// (its index, the reply as hiredis parsed it). The same reconnect rule as
    /// `pipeline(_:resendOnReconnect:)`. If `read` throws, the connection is dropped: its
    /// remaining replies are never read.
    ///
    /// `onConnection`: send only on that connection (`generation`): a reconnect on the way (a
    /// Sentinel failover noticed) throws instead, as a WATCH made on the old one is gone.
    public func pipeline(_ buffers: [RESPBuffer], resendOnReconnect: Bool = true, onConnection: Int? = nil,
                         reading read: (Int, RedisReplyView) throws -> Void) throws {
        var failure: RedisError?
        for attempt in 0..<(resendOnReconnect ? 2 : 1) {
            do {
                try connect()
                if let onConnection, onConnection != generation {
                    throw RedisError(.server, "the connection to Redis changed (now \(endpoint)); not sending on the new one")
                }
                guard let c = context else { throw RedisError(.unreachable, "not connected to Redis at \(endpoint)") }
                for buffer in buffers where buffer.count > 0 {
                    precondition(buffer.isComplete, "RESPBuffer: a command is missing arguments")
                    let status = buffer.bytes.withUnsafeBufferPointer { raw in
                        raw.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(c, $0.baseAddress, $0.count) }
                    }
                    if status != REDIS_OK { throw transportError(c) }
                }
                for index in 0..<buffers.reduce(0, { $0 + $1.count }) {
                    var raw: UnsafeMutableRawPointer?
                    if redisGetReply(c, &raw) != REDIS_OK || raw == nil { throw transportError(c) }
                    defer { freeReplyObject(raw) }
                    let view = RedisReplyView(UnsafePointer(raw!.assumingMemoryBound(to: redisReply.self)))
                    if locator != nil, view.isReadOnly { throw masterMoved() }
                    do {
                        try read(index, view)
                    } catch {
                        disconnect()
                        throw error
                    }
                }
                return
            } catch let e as RedisError where e.kind == .unreachable {
                failure = e
                disconnect()
                if attempt == 0 { continue }
            }
        }
        throw failure!
    }

    private func roundTrip(_ args: [String]) throws -> RedisReply {
        try append(args)
        return try readReply()
    }

    private func append(_ args: [String]) throws {
        guard let c = context else { throw RedisError(.unreachable, "not connected to Redis at \(endpoint)") }
        // All arguments in one buffer, copied once; hiredis copies them on into its output buffer.
        let lengths = args.map { $0.utf8.count }
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, lengths.reduce(0, +)))
        defer { storage.deallocate() }
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(args.count)
        var offset = 0
        for (arg, length) in zip(args, lengths) {
            var arg = arg
            arg.withUTF8 { utf8 in
                if let base = utf8.baseAddress { UnsafeMutableRawPointer(storage + offset).copyMemory(from: base, byteCount: length) }
            }
            pointers.append(UnsafePointer(storage + offset))
            offset += length
        }
        let status = pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer { lens in
                redisAppendCommandArgv(c, Int32(args.count), argv.baseAddress, lens.baseAddress)
            }
        }
        if status != REDIS_OK { throw transportError(c) }
    }

    private func readReply() throws -> RedisReply {
        guard let c = context else { throw RedisError(.unreachable, "not connected to Redis at \(endpoint)") }
        var raw: UnsafeMutableRawPointer?
        if redisGetReply(c, &raw) != REDIS_OK || raw == nil { throw transportError(c) }
        let reply = raw!.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return Self.decode(UnsafePointer(reply))
    }

    /// A write refused with READONLY was not applied: the server is a replica now. Dropping
    /// the connection makes the next attempt ask the sentinels where the master went.
    private func masterMoved() -> RedisError {
        let error = RedisError(.unreachable, "Redis at \(endpoint) is no longer the master (READONLY): failover")
        disconnect()
        return error
    }

    private func transportError(_ c: UnsafeMutablePointer<redisContext>) -> RedisError {
        let message = Self.errorText(c)
        disconnect()
        return RedisError(.unreachable, "Redis at \(endpoint.host):\(endpoint.port): \(message.isEmpty ? "connection lost" : message)")
    }

    private static func errorText(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    static func decode(_ r: UnsafePointer<redisReply>) -> RedisReply {
        let reply = r.pointee
        func text() -> String {
            guard let s = reply.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: s, count: Int(reply.len)), as: UTF8.self)
        }
        switch reply.type {
        case REDIS_REPLY_STRING: return .string(text())
        case REDIS_REPLY_STATUS: return .status(text())
        case REDIS_REPLY_ERROR: return .error(text())
        case REDIS_REPLY_INTEGER: return .integer(Int64(reply.integer))
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(Int(reply.elements))
            for i in 0..<Int(reply.elements) {
                if let e = reply.element[i] { items.append(decode(UnsafePointer(e))) } else { items.append(.null) }
            }
            return .array(items)
        default: return .null
        }
    }
}
