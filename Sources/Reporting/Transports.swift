import HTTPClient
import JobwatchCore
import RedisLease

/// What became of one attempt to hand an event to the monitor.
public enum Delivery: Equatable, Sendable {
    case delivered
    /// Not now (unreachable, 5xx, 429, auth): keep the event and try again later.
    case failed(String)
    /// Never (400, 404, 413...): retrying cannot help, so the event must not block the spool.
    case rejected(String)
}

/// XADD to the stream `jobmond` reads: on the monitor's master (a Redlock quorum's first
/// master), or when that one cannot take it on another Redlock master, whose stream the
/// monitor's leader relays to the first (`StreamRelay`). When no master takes it, the reporter
/// tries HTTP, then the spool.
///
/// With `replicaAcks` > 0 the XADD is followed by `WAIT` in the same round trip; an event no
/// replica acknowledged in time is delivered but `unconfirmed`: its master could still lose it
/// in a failover, so the reporter keeps a copy in the spool (start/finish are idempotent per
/// `run_id` on the monitor side).
final class RedisEventTransport {
    private let master: RedisConnection
    private let keyPrefix: String
    private let replicaAcks: Int
    private let replicaTimeoutMs: Int

    enum Outcome: Equatable {
        case delivered
        case unconfirmed(String)
        case failed(String)
    }

    init(master: RedisConnection, keyPrefix: String, replicaAcks: Int, replicaTimeoutMs: Int) {
        self.master = master
        self.keyPrefix = keyPrefix
        self.replicaAcks = replicaAcks
        self.replicaTimeoutMs = replicaTimeoutMs
    }

    func deliver(_ event: RunEvent) -> Outcome {
        var commands = [event.xaddArguments(keyPrefix: keyPrefix)]
        if replicaAcks > 0 { commands.append(["WAIT", String(replicaAcks), String(replicaTimeoutMs)]) }
        do {
            let replies = try master.pipeline(commands)
            if case .error(let e) = replies[0] { return .failed("\(master.endpoint): \(e)") }
            if replies.count > 1, (replies[1].integer ?? 0) < Int64(replicaAcks) {
                return .unconfirmed("no replica of \(master.endpoint) acknowledged it within \(replicaTimeoutMs) ms")
            }
            return .delivered
        } catch {
            return .failed("\(error)")
        }
    }
}

/// POSTs to the monitor's API with the bearer token. Timeouts are short (connect 1 s, whole
/// request 2 s): a report that cannot go quickly is spooled, never allowed to hold up the
/// wrapper. libcurl is loaded on first use only, so runs reporting over Redis never pay for
/// it; the session then keeps its connection open, so flushing a spool costs one connect.
final class HTTPEventTransport {
    private let baseURL: String
    private let token: Secret?
    private var session: HTTPSession?
    static let connectTimeout = 1.0
    static let timeout = 2.0

    init(monitorURL: String, token: Secret?) {
        var base = monitorURL
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
        self.token = token
    }

    func deliver(_ event: RunEvent) -> Delivery {
        post(path: event.httpPath, body: event.json())
    }

    func post(path: String, body: [UInt8]) -> Delivery {
        var headers = ["Content-Type: application/json"]
        let response: HTTPSession.Response
        do {
            if let token { headers.append("Authorization: Bearer \(try token.resolve())") }
            if session == nil {
                session = try HTTPSession(connectTimeout: Self.connectTimeout, timeout: Self.timeout, bodyLimit: 64 * 1024)
            }
            response = try session!.send("POST", url: baseURL + path, headers: headers, body: body)
        } catch {
            return .failed("\(baseURL): \(error)")
        }
        let summary = "HTTP \(response.status) from \(baseURL)\(path): \(String(response.text.prefix(300)))"
        if (200..<300).contains(response.status) { return .delivered }
        if [400, 404, 405, 410, 413, 422].contains(response.status) { return .rejected(summary) }
        return .failed(summary)
    }
}
