import CronSchedule
import FleetReport
import Foundation
import MonitorCore
import XCTest

/// Epoch milliseconds for an RFC 3339 text.
func ms(_ text: String) -> Int64 { parseRFC3339(text)! * 1000 }

let minute: Int64 = 60_000
let hour: Int64 = 3_600_000

/// The week around Ireland's 2026 spring-forward (Sunday 29 March, 01:00 UTC → 02:00 IST).
let dstWeek = (from: ms("2026-03-23T00:00:00Z"), to: ms("2026-03-30T00:00:00Z"))

func spec(_ name: String, _ expression: String?, zone: String = "Europe/Dublin", grace: Int64 = 10 * minute,
          maxRuntime: Int64? = nil) -> JobSpec {
    JobSpec(name: name, schedule: try! expression.map { try Schedule($0, timeZone: zone) }, timezone: zone,
            grace: grace, maxRuntime: maxRuntime)
}

func runRecord(_ id: String, at start: Int64, for duration: Int64?, _ outcome: RunOutcome? = .success,
         scheduledFor: Int64? = nil, host: String = "web1", output: String? = nil) -> RunRecord {
    RunRecord(runID: id, host: host, scheduledFor: scheduledFor, startedAt: start,
              finishedAt: duration.map { start + $0 }, durationMs: duration, exitCode: outcome == .failure ? 1 : 0,
              outcome: outcome, outputTail: output)
}

/// Runs every occurrence of `spec` in `[from, to)` a few seconds late, succeeding.
func punctualRuns(_ spec: JobSpec, from: Int64, to: Int64, duration: Int64 = 2_000) -> [RunRecord] {
    spec.schedule!.occurrences(from: from / 1000, through: (to - 1) / 1000).map {
        runRecord("\(spec.name)-\($0)", at: $0 * 1000 + 3_000, for: duration, scheduledFor: $0 * 1000)
    }
}

/// How many times cronsim fires `expression` in `[from, to)`: the oracle for expected counts.
func cronsimCount(_ expression: String, zone: String, from: Int64, to: Int64) throws -> Int {
    let script = """
    import sys
    from datetime import datetime
    from zoneinfo import ZoneInfo
    from cronsim import CronSim
    expr, tz, start, end = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    n = 0
    for dt in CronSim(expr, datetime.fromtimestamp(start - 1, ZoneInfo(tz))):
        if dt.timestamp() >= end: break
        n += 1
    print(n)
    """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, expression, zone, String(from / 1000), String(to / 1000)]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { throw XCTSkip("cannot run python3: \(error)") }
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let count = Int(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
        throw XCTSkip("python3 with the cronsim package is required (pip install cronsim)")
    }
    return count
}

/// A fleet of `count` healthy hourly jobs, every third one with problems, for size and
/// speed tests; `nameLength` pads names to test long ones.
func statusFleet(_ count: Int, now: Int64, nameLength: Int = 0) -> [StatusRow] {
    (0..<count).map { i in
        let base = "job-\(i)-" + ["backup", "invoice-export", "cache-warm", "report", "sync"][i % 5]
        let name = base + String(repeating: "x", count: max(0, nameLength - base.count))
        let expression = ["0 * * * *", "30 2 * * *", "*/5 * * * *", "15 */6 * * *"][i % 4]
        let s = spec(name, expression, maxRuntime: hour)
        var runs = punctualRuns(s, from: now - 7 * 24 * hour, to: now - 10 * minute)
        var changes: [StateChange] = []
        var state = JobState.up
        if i % 7 == 3, runs.count > 2 {
            runs[runs.count - 1].outcome = .failure
            runs[runs.count - 1].exitCode = 1
            runs[runs.count - 1].outputTail = "Traceback…\nConnectionError: <db01> refused"
            changes.append(StateChange(from: .up, to: .failed, at: runs[runs.count - 1].finishedAt!, reason: "exit 1"))
            state = .failed
        } else if i % 11 == 5, runs.count > 4 {
            runs.removeSubrange(runs.count - 3..<runs.count - 1)
            changes.append(StateChange(from: .up, to: .missed, at: now - 2 * hour, reason: "no start"))
            state = .missed
        } else if i % 13 == 7 {
            state = .paused
        }
        return StatusRow(spec: s, state: state, lastRun: runs.last,
                         nextExpected: s.schedule!.next(after: now / 1000).map { $0 * 1000 }, runs: runs, changes: changes)
    }
}
