// The fleet-visibility targets of issue 6, measured on generated history (release build):
// the weekly report over 10,000 jobs, and the status page for 1,000 jobs.
// Run through benchmarks/fleet.sh.
import CronSchedule
import FleetReport
import Foundation
import MonitorCore

let minute: Int64 = 60_000
let week: Int64 = 7 * 24 * 60 * minute
let now: Int64 = 1_774_828_800_000   // 2026-03-30T00:00Z, the end of Dublin's DST week
let from = now - week

func seconds(_ body: () -> Void) -> Double {
    let begin = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9
}

/// Every occurrence of a job in the week, run 3 s late for 2 s; every 9th one failing and
/// every 50th one missing, so the report has work to do.
func history(_ index: Int, expression: String) -> (JobSpec, [RunRecord]) {
    let spec = JobSpec(name: "job-\(index)", schedule: try! Schedule(expression, timeZone: "Europe/Dublin"),
                       timezone: "Europe/Dublin", grace: 5 * minute, maxRuntime: 30 * minute)
    var runs: [RunRecord] = []
    for (n, t) in spec.schedule!.occurrences(from: from / 1000, through: now / 1000 - 1).enumerated() where n % 50 != 49 {
        let start = t * 1000 + 3_000
        let failed = n % 9 == 8
        runs.append(RunRecord(runID: "\(index)-\(n)", host: "web\(n % 3)", scheduledFor: t * 1000, startedAt: start,
                              finishedAt: start + 2_000, durationMs: 2_000, exitCode: failed ? 1 : 0,
                              outcome: failed ? .failure : .success))
    }
    return (spec, runs)
}

// 10,000 jobs: 100 run every minute (10,080 runs each over the week), the rest on the usual
// cron mix. ~1.3 million runs in all.
let mix = ["*/5 * * * *", "0 * * * *", "30 2 * * *", "15 */6 * * *", "0 9 * * 1-5"]
var histories: [JobHistory] = []
let generation = seconds {
    histories = (0..<10_000).map { i in
        let (spec, runs) = history(i, expression: i < 100 ? "* * * * *" : mix[i % mix.count])
        return JobHistory(spec: spec, runs: runs, changes: [])
    }
}
let runCount = histories.reduce(0) { $0 + $1.runs.count }
var report: FleetReport?
let reportTime = seconds { report = FleetReport(histories, from: from, to: now, now: now, timeZone: "Europe/Dublin") }
print("weekly report: 10,000 jobs, \(runCount) runs: \(String(format: "%.2f", reportTime)) s (history generated in \(String(format: "%.1f", generation)) s; \(report!.summary.missed) missed)")

let rows = histories.prefix(1_000).map { h in
    StatusRow(spec: h.spec, state: .up, lastRun: h.runs.last,
              nextExpected: h.spec.schedule!.next(after: now / 1000).map { $0 * 1000 }, runs: h.runs, changes: [])
}
var page = ""
var times: [Double] = []
for _ in 0..<5 { times.append(seconds { page = statusPage(jobs: rows, now: now, publicURL: "https://jobs.example.com") }) }
print("status page: 1,000 jobs: best \(String(format: "%.0f", times.min()! * 1000)) ms of 5, \(page.utf8.count / 1024) KiB")
