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

/// XADD on connections `jobrun` already holds. With several masters (a Redlock quorum) the
/// event goes to the first master, in configuration order, that accepts it: the stream is a
/// log, not a lock, so one copy suffices, and `jobmond` reads `<prefix>events` on every
/// master. A master that times out after appending can leave a second copy on the next one;
/// start/finish are idempotent per `run_id` on the monitor side.
final class RedisEventTransport {
    private let masters: [RedisConnection]
    private let keyPrefix: String

    init(masters: [RedisConnection], keyPrefix: String) {
        self.masters = masters
        self.keyPrefix = keyPrefix
    }

    func deliver(_ event: RunEvent) -> Delivery {
        var problems: [String] = []
        let args = event.xaddArguments(keyPrefix: keyPrefix)
        for m in masters {
            do {
                let reply = try m.command(args)
                if case .error(let e) = reply {
                    problems.append("\(m.endpoint): \(e)")
                } else {
                    return .delivered
                }
            } catch {
                problems.append("\(error)")
            }
        }
        return .failed(problems.isEmpty ? "no Redis master available" : problems.joined(separator: "; "))
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
