import CronSchedule
import MonitorCore
import XCTest

/// Every ten seconds with five seconds of grace: first seen at 1s, the first occurrence is
/// at 10s and its deadline at 15s.
func tenSecondJob(
    maxRuntime: Int64? = nil, minRuntime: Int64? = nil, alertAfterFailures: Int = 1, realertEvery: Int64? = nil
) throws -> JobSpec {
    JobSpec(
        name: "heartbeat", schedule: try Schedule("every 10s", timeZone: "UTC"), timezone: "UTC", grace: 5_000,
        maxRuntime: maxRuntime, minRuntime: minRuntime, alertAfterFailures: alertAfterFailures,
        realertEvery: realertEvery, channels: ["pd-ops"])
}

func unscheduledJob(maxRuntime: Int64? = nil) -> JobSpec {
    JobSpec(name: "adhoc", schedule: nil, timezone: "UTC", maxRuntime: maxRuntime)
}

/// Epoch milliseconds for an RFC 3339 text.
func ms(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Int64 {
    guard let seconds = parseRFC3339(text) else {
        XCTFail("bad timestamp \(text)", file: file, line: line)
        return 0
    }
    return seconds * 1000
}

extension Array where Element == MonitorAction {
    var raised: [Incident] { compactMap { if case .raiseAlert(let i) = $0 { return i } else { return nil } } }
    var repeated: [Incident] { compactMap { if case .repeatAlert(let i) = $0 { return i } else { return nil } } }
    var resolved: [Incident] { compactMap { if case .resolveAlert(let i) = $0 { return i } else { return nil } } }
    var changes: [StateChange] { compactMap { if case .record(let c) = $0 { return c } else { return nil } } }
    var alerts: Int { raised.count + repeated.count + resolved.count }
}

extension JobMonitor {
    /// A whole run in one call, for tests that only care about its end.
    mutating func run(
        _ id: String, from start: Int64, to end: Int64, outcome: RunOutcome = .success, exitCode: Int? = 0,
        scheduledFor: Int64? = nil
    ) -> [MonitorAction] {
        runStarted(runID: id, host: "web1", at: start, scheduledFor: scheduledFor)
            + runFinished(runID: id, at: end, exitCode: exitCode, signal: nil, outcome: outcome, durationMs: end - start)
    }
}
