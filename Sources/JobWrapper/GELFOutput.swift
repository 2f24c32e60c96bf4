import GELF
#if canImport(Glibc)
import Glibc
#endif

/// One run's stream to Graylog: a `start` event, every output line, a `finish` event, all
/// tagged so that `_job:X AND _run_id:Y` shows the whole run. Sending never blocks the job:
/// the pump's chunks are only copied here, and split into lines on the sender's thread; see
/// `GELFSender`.
final class GELFOutput: OutputSink, @unchecked Sendable {
    /// How long a finished run may wait for Graylog before `jobrun` exits.
    static let flushTimeout = 1.0

    private let sender: GELFSender
    private let host: String
    private let common: [GELFField]
    /// With `retries`, every attempt's output is one stream: an attempt's end of file is not
    /// the stream's (line numbers go on counting; `finished` ends both streams).
    private let spansAttempts: Bool

    init(sender: GELFSender, host: String, job: String, runID: String, pid: Int32, fence: Int64, spansAttempts: Bool) {
        self.sender = sender
        self.host = host
        self.spansAttempts = spansAttempts
        common = [GELFField("_job", job), GELFField("_run_id", runID), GELFField("_pid", Int(pid)), GELFField("_fence", Int(fence))]
        sender.setOutputContext(host: host, fields: common)
    }

    func output(_ bytes: UnsafeRawBufferPointer, stream: OutputStream) {
        sender.sendOutput(bytes, stream: Self.gelfStream(stream))
    }

    func endOfOutput(stream: OutputStream) {
        guard !spansAttempts else { return }
        sender.endOutput(stream: Self.gelfStream(stream))
    }

    private static func gelfStream(_ stream: OutputStream) -> GELFOutputStream {
        stream == .stdout ? .stdout : .stderr
    }

    func started(job: String, command: String, scheduledFor: String?) {
        var fields = common + [GELFField("_stream", "event"), GELFField("_event", "start"), GELFField("_command", command)]
        if let scheduledFor { fields.append(GELFField("_scheduled_for", scheduledFor)) }
        sender.sendEvent(GELFMessage(host: host, shortMessage: "\(job) started on \(host)", timestamp: Self.now(), level: 6, fields: fields))
    }

    /// Sends the finish event with the number of output lines that could not be delivered,
    /// and returns that number.
    @discardableResult
    func finished(job: String, result: RunResult) -> Int {
        let ending = result.ending
        var signal = 0
        if case .signaled(let s) = ending.termination { signal = Int(s) }
        var fields = common + [
            GELFField("_stream", "event"), GELFField("_event", "finish"),
            GELFField("_exit_code", Int(ending.exitCode)), GELFField("_signal", signal),
            GELFField("_duration_ms", Int(ending.durationMs)), GELFField("_outcome", result.outcome),
        ]
        if let codes = result.attemptExitCodes {
            fields.append(GELFField("_attempts", codes.count))
            fields.append(GELFField("_attempt_exit_codes", codes.map(String.init).joined(separator: ",")))
        }
        if let reason = result.reason { fields.append(GELFField("_reason", reason)) }
        var text = "\(job) finished: \(result.outcome), exit \(ending.exitCode) after \(ending.durationMs) ms"
        if let reason = result.reason { text += ": \(reason)" }
        let level = result.outcome == "success" ? 6 : 3
        var droppedLines = 0
        sender.finish(finalMessage: { dropped in
            droppedLines = dropped
            return GELFMessage(host: self.host, shortMessage: text, timestamp: Self.now(), level: level,
                               fields: fields + [GELFField("_dropped_lines", dropped)])
        }, timeout: Self.flushTimeout)
        return droppedLines
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
