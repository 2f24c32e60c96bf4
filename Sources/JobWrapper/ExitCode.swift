import SystemSupport

/// `jobrun`'s exit codes: the command's own below 200 (128+N for a signal), and cronlock's
/// 200 range for what Jobwatch decided.
public enum ExitCode {
    /// Not run: the lock or occurrence is held elsewhere, or this host is not in `hosts:`.
    public static let notRun: Int32 = 200
    /// Not run: configuration, usage, or Redis unreachable with `on_redis_down: skip`.
    public static let wrapperError: Int32 = 201
    /// Killed for exceeding `max_runtime` / `--timeout`.
    public static let timedOut: Int32 = 202
    /// Stopped because the lease was lost.
    public static let leaseLost: Int32 = 203
}

/// Messages from the wrapper itself, on stderr and prefixed so they are never mistaken for
/// the job's own output in cron mail.
public struct Diagnostics: Sendable {
    public var verbose: Bool

    public init(verbose: Bool) { self.verbose = verbose }

    public func error(_ message: String) { write("jobrun: error: \(message)\n") }
    public func warning(_ message: String) { write("jobrun: warning: \(message)\n") }
    public func info(_ message: String) { if verbose { write("jobrun: \(message)\n") } }

    private func write(_ text: String) {
        StandardError.write(text)
    }
}
