// Redis URL parsing for the `redis:` key: pure, so the config target needs no Redis client.
// Connections are made from it in `RedisLease` (`primaryConnection`, `reportConnections`).

/// One Redis server to talk to.
public struct RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var db: Int
    public var user: String?
    public var password: String?

    public init(host: String, port: Int = 6379, db: Int = 0, user: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.db = db
        self.user = user
        self.password = password
    }

    public var description: String { "\(host):\(port)/\(db)" }
}

/// How the deployment is laid out, from the `redis:` URLs: one master, a Redlock quorum over
/// several independent masters, or a Sentinel-managed master discovered at connect time.
public enum RedisTopology: Sendable, Equatable {
    case single(RedisEndpoint)
    case quorum([RedisEndpoint])
    case sentinel(SentinelMaster)

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// `redis://[user[:password]@]host[:port][/db]`, several of them for a quorum, or one
    /// `redis-sentinel://[user[:password]@]h1[:26379],h2[:26379]/master[/db]`.
    public static func parse(_ urls: [String]) throws -> RedisTopology {
        let urls = urls.filter { !$0.isEmpty }
        guard !urls.isEmpty else { throw ParseError(description: "no Redis URL given") }
        if urls.contains(where: { $0.hasPrefix("redis-sentinel://") }) {
            guard urls.count == 1 else {
                throw ParseError(description: "a redis-sentinel:// URL cannot be combined with other URLs: use one Sentinel URL (it lists every sentinel) or several redis:// masters for Redlock, not both")
            }
            return try parseSentinel(String(urls[0].dropFirst("redis-sentinel://".count)))
        }
        let endpoints = try urls.map(parseRedis)
        return endpoints.count == 1 ? .single(endpoints[0]) : .quorum(endpoints)
    }

    /// `JOBWATCH_REDIS`'s comma-separated list. A Sentinel URL lists its sentinels with commas
    /// too, so a piece that starts no URL continues the one before it:
    /// `redis-sentinel://h1:26379,h2:26379/m` stays one URL.
    public static func splitList(_ text: String) -> [String] {
        var urls: [String] = []
        for piece in text.split(separator: ",").map({ String($0).trimmingWhitespace() }) {
            if !urls.isEmpty, !piece.hasPrefix("redis://"), !piece.hasPrefix("redis-sentinel://"),
               urls[urls.count - 1].hasPrefix("redis-sentinel://") {
                urls[urls.count - 1] += "," + piece
            } else {
                urls.append(piece)
            }
        }
        return urls
    }

    /// Applies a password from `redis_password` to every endpoint whose URL had none.
    public func withPassword(_ password: String?) -> RedisTopology {
        guard let password else { return self }
        func fill(_ e: RedisEndpoint) -> RedisEndpoint {
            var e = e
            if e.password == nil { e.password = password }
            return e
        }
        switch self {
        case .single(let e): return .single(fill(e))
        case .quorum(let es): return .quorum(es.map(fill))
        case .sentinel(var master):
            master.password = master.password ?? password
            return .sentinel(master)
        }
    }

    static func parseRedis(_ url: String) throws -> RedisEndpoint {
        guard url.hasPrefix("redis://") else {
            throw ParseError(description: "invalid Redis URL \"\(url)\": expected redis://host:port/db")
        }
        var rest = Substring(url.dropFirst("redis://".count))
        let (user, password) = takeCredentials(&rest)
        let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let (host, port) = try hostPort(String(parts[0]), defaultPort: 6379, url: url)
        var db = 0
        if parts.count == 2, !parts[1].isEmpty {
            guard let d = Int(parts[1]), d >= 0 else { throw ParseError(description: "invalid database number in \"\(url)\"") }
            db = d
        }
        return RedisEndpoint(host: host, port: port, db: db, user: user, password: password)
    }

    static func parseSentinel(_ body: String) throws -> RedisTopology {
        var rest = Substring(body)
        let (user, password) = takeCredentials(&rest)
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, !parts[1].isEmpty else {
            throw ParseError(description: "invalid Sentinel URL: expected redis-sentinel://h1:26379,h2:26379/master[/db]")
        }
        let sentinels = try parts[0].split(separator: ",").map { piece -> RedisEndpoint in
            let (h, p) = try hostPort(String(piece), defaultPort: 26379, url: body)
            return RedisEndpoint(host: h, port: p)
        }
        guard !sentinels.isEmpty else { throw ParseError(description: "Sentinel URL names no sentinel") }
        var db = 0
        if parts.count >= 3, !parts[2].isEmpty {
            guard let d = Int(parts[2]), d >= 0 else { throw ParseError(description: "invalid database number in Sentinel URL") }
            db = d
        }
        return .sentinel(SentinelMaster(sentinels: sentinels, name: parts[1], db: db, user: user, password: password))
    }

    private static func takeCredentials(_ rest: inout Substring) -> (String?, String?) {
        guard let at = rest.lastIndex(of: "@") else { return (nil, nil) }
        let creds = rest[..<at]
        rest = rest[rest.index(after: at)...]
        if let colon = creds.firstIndex(of: ":") {
            let u = String(creds[..<colon])
            return (u.isEmpty ? nil : u, String(creds[creds.index(after: colon)...]))
        }
        return (creds.isEmpty ? nil : String(creds), nil)
    }

    private static func hostPort(_ text: String, defaultPort: Int, url: String) throws -> (String, Int) {
        guard !text.isEmpty else { throw ParseError(description: "missing host in \"\(url)\"") }
        if text.hasPrefix("[") {   // [::1]:6379
            guard let close = text.firstIndex(of: "]") else { throw ParseError(description: "invalid IPv6 host in \"\(url)\"") }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            if after.isEmpty { return (host, defaultPort) }
            guard after.first == ":", let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                throw ParseError(description: "invalid port in \"\(url)\"")
            }
            return (host, p)
        }
        let hp = text.split(separator: ":", omittingEmptySubsequences: false)
        guard hp.count <= 2, !hp[0].isEmpty else { throw ParseError(description: "invalid host in \"\(url)\"") }
        if hp.count == 2 {
            guard let p = Int(hp[1]), (1...65535).contains(p) else { throw ParseError(description: "invalid port in \"\(url)\"") }
            return (String(hp[0]), p)
        }
        return (String(hp[0]), defaultPort)
    }
}

/// A master that Redis Sentinel manages: where it is changes with every failover, so it is
/// looked up by name, never remembered as an address.
public struct SentinelMaster: Sendable, Equatable {
    public var sentinels: [RedisEndpoint]
    public var name: String
    public var db: Int
    public var user: String?
    public var password: String?

    public init(sentinels: [RedisEndpoint], name: String, db: Int = 0, user: String? = nil, password: String? = nil) {
        self.sentinels = sentinels
        self.name = name
        self.db = db
        self.user = user
        self.password = password
    }
}
