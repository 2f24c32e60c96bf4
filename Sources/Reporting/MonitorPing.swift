import JobwatchCore

/// The healthchecks-style `/ping/{job}[/start|/fail|/{exit_code}]` endpoint (SPEC §3.2), for
/// scripts that cannot run under `jobrun`.
public enum MonitorPing {
    public enum Signal: Equatable, Sendable {
        case success, start, fail
        case exitCode(Int32)
    }

    public static func path(job: String, signal: Signal) -> String {
        switch signal {
        case .success: return "/ping/\(job)"
        case .start: return "/ping/\(job)/start"
        case .fail: return "/ping/\(job)/fail"
        case .exitCode(let code): return "/ping/\(job)/\(code)"
        }
    }

    /// POSTs the ping with the configured bearer token, under the same short timeouts as run
    /// reports. Pings are not spooled: the caller sees the failure and decides.
    public static func send(job: String, signal: Signal, monitorURL: String, token: Secret?) -> Delivery {
        HTTPEventTransport(monitorURL: monitorURL, token: token).post(path: path(job: job, signal: signal), body: Array("{}".utf8))
    }
}
