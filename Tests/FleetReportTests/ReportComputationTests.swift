import CronSchedule
import FleetReport
import MonitorCore
import XCTest

final class ReportComputationTests: XCTestCase {
    private let now = dstWeek.to + hour

    /// Expected counts across the spring-forward week equal cronsim's for the same
    /// schedule, zone and period; a paused day takes exactly its own occurrences away.
    func testExpectedOccurrencesMatchCronsimAcrossDSTAndPause() throws {
        let cases = ["30 1 * * *", "0 * * * *", "*/15 * * * *", "30 2 * * 1-5", "0 1,2,3 * * *", "45 23 * * sun"]
        for expression in cases {
            let oracle = try cronsimCount(expression, zone: "Europe/Dublin", from: dstWeek.from, to: dstWeek.to)
            let job = JobReport(JobHistory(spec: spec("j", expression), runs: [], changes: []),
                                from: dstWeek.from, to: dstWeek.to, now: now)
            XCTAssertEqual(job.expected, oracle, expression)
        }
        // Paused Tuesday 10:00 UTC to Wednesday 10:00 UTC (GMT, so also local): 24 hourly runs.
        let paused = [
            StateChange(from: .up, to: .paused, at: ms("2026-03-24T10:00:00Z"), reason: "pause"),
            StateChange(from: .paused, to: .up, at: ms("2026-03-25T10:00:00Z"), reason: "resume"),
        ]
        let oracle = try cronsimCount("0 * * * *", zone: "Europe/Dublin", from: dstWeek.from, to: dstWeek.to)
        let job = JobReport(JobHistory(spec: spec("hourly", "0 * * * *"), runs: [], changes: paused),
                            from: dstWeek.from, to: dstWeek.to, now: now)
        XCTAssertEqual(oracle, 168, "every UTC hour is a wall-clock hour too, skipped 01:xx or not")
        XCTAssertEqual(job.expected, oracle - 24)
        XCTAssertEqual(job.missed, oracle - 24, "paused occurrences are never missed")
        XCTAssertEqual(job.downtimeS, 0, "paused is not down")
    }

    /// A nightly job over the DST week: one clean failure, one miss, one late start.
    func nightlyHistory() -> JobHistory {
        let s = spec("nightly", "30 1 * * *", maxRuntime: 50 * minute)
        var runs = punctualRuns(s, from: dstWeek.from, to: dstWeek.to, duration: 60_000)
        // Sunday 01:30 does not exist in Dublin: the job runs at the end of the gap, 01:00 UTC.
        XCTAssertEqual(runs.last?.scheduledFor, ms("2026-03-29T01:00:00Z"))
        for (i, d) in [10_000, 20_000, 30_000, 40_000, 50_000, 3_600_000].enumerated() where i < runs.count {
            runs[i].durationMs = Int64(d)
            runs[i].finishedAt = runs[i].startedAt + Int64(d)
        }
        runs[1].outcome = .failure  // Tue
        runs.remove(at: 2)  // Wed: missed
        runs[2].startedAt += 5 * minute  // Thu: late, within the 10-minute grace
        let tue = ms("2026-03-24T01:30:00Z"), wed = ms("2026-03-25T01:30:00Z"), thu = ms("2026-03-26T01:35:00Z")
        let changes = [
            StateChange(from: .up, to: .failed, at: tue + 23_000, reason: "exit 1"),
            StateChange(from: .failed, to: .missed, at: wed + 10 * minute, reason: "no start"),
            StateChange(from: .missed, to: .up, at: thu + 40_000, reason: "success"),
        ]
        return JobHistory(spec: s, runs: runs, changes: changes)
    }

    func testCountsRatesPercentilesAndDowntime() {
        let job = JobReport(nightlyHistory(), from: dstWeek.from, to: dstWeek.to, now: now)
        XCTAssertEqual(job.job, "nightly")
        XCTAssertEqual(job.expected, 7)
        XCTAssertEqual(job.runs, 6)
        XCTAssertEqual(job.succeeded, 5)
        XCTAssertEqual(job.failed, 1)
        XCTAssertEqual(job.missed, 1)
        XCTAssertEqual(job.late, 1)
        XCTAssertEqual(job.overdue, 1, "the 1h run exceeded max_runtime 50m")
        XCTAssertEqual(job.successRate, 0.7143, "5 / (6 finished + 1 missed)")
        // Finished runs took 10, 20 (the failure), 40, 50, 3600 and 60 s (Sunday, untouched).
        XCTAssertEqual(job.durationMs, .init(p50: 40_000, p95: 3_600_000, max: 3_600_000))
        // Failed from Tue 01:30:23 until Thu 01:35:40 (missed in between counts too).
        XCTAssertEqual(job.downtimeS, (ms("2026-03-26T01:35:40Z") - ms("2026-03-24T01:30:23Z")) / 1000)
    }

    func testPendingOccurrenceAtTheEndIsNotMissed() {
        let s = spec("hourly", "0 * * * *")
        let to = ms("2026-03-23T12:05:00Z")
        let runs = punctualRuns(s, from: dstWeek.from, to: ms("2026-03-23T12:00:00Z"))
        let job = JobReport(JobHistory(spec: s, runs: runs, changes: []), from: dstWeek.from, to: to, now: to)
        XCTAssertEqual(job.expected, 13)
        XCTAssertEqual(job.missed, 0, "12:00 is still inside its grace")
        XCTAssertEqual(job.successRate, 1)
    }

    /// Of two runs for one occurrence the earlier start decides it, whatever order the runs
    /// come in and whether or not a run said which occurrence it was for.
    func testEarliestStartDecidesAnOccurrenceInAnyRunOrder() {
        let s = spec("hourly", "0 * * * *")
        let to = ms("2026-03-23T06:00:00Z")
        let at = ms("2026-03-23T03:00:00Z")
        var runs = punctualRuns(s, from: dstWeek.from, to: to)
        runs.removeAll { $0.scheduledFor == at }
        // A late retry listed first; the on-time start listed last, without its occurrence.
        runs.insert(runRecord("retry", at: at + 5 * minute, for: 1000, scheduledFor: at), at: 0)
        runs.append(runRecord("first", at: at + 2_000, for: 1000))
        let job = JobReport(JobHistory(spec: s, runs: runs, changes: []), from: dstWeek.from, to: to, now: to + hour)
        XCTAssertEqual(job.expected, 6)
        XCTAssertEqual(job.runs, 7)
        XCTAssertEqual(job.missed, 0)
        XCTAssertEqual(job.late, 0, "the on-time start decides 03:00, not the retry")
        let reversed = JobHistory(spec: s, runs: runs.reversed(), changes: [])
        XCTAssertEqual(JobReport(reversed, from: dstWeek.from, to: to, now: to + hour), job)
    }

    /// SPEC §3.1: occurrences from before the monitor first loaded a job are never missed.
    func testOccurrencesBeforeTheJobWasFirstSeenAreNotExpected() {
        let s = spec("hourly", "0 * * * *")
        let seen = ms("2026-03-23T06:30:00Z")
        let to = ms("2026-03-23T12:05:00Z")
        let runs = punctualRuns(s, from: seen, to: ms("2026-03-23T12:00:00Z"))
        let job = JobReport(JobHistory(spec: s, runs: runs, changes: [], watchedSince: seen), from: dstWeek.from, to: to, now: to)
        XCTAssertEqual(job.expected, 6, "07:00 through 12:00")
        XCTAssertEqual(job.missed, 0)
    }

    func testOrderingAndSummary() {
        let healthy = spec("aaa-healthy", "0 * * * *")
        let failing = spec("failing", "0 * * * *")
        var failingRuns = punctualRuns(failing, from: dstWeek.from, to: dstWeek.to)
        failingRuns[failingRuns.count - 1].outcome = .failure
        let failedAt = failingRuns[failingRuns.count - 1].finishedAt!
        let histories = [
            JobHistory(spec: healthy, runs: punctualRuns(healthy, from: dstWeek.from, to: dstWeek.to), changes: []),
            JobHistory(spec: failing, runs: failingRuns,
                       changes: [StateChange(from: .up, to: .failed, at: failedAt, reason: "exit 1")]),
            nightlyHistory(),
            JobHistory(spec: spec("never", "0 12 * * *"), runs: [], changes: []),
        ]
        let report = FleetReport(histories, from: dstWeek.from, to: dstWeek.to, now: now, timeZone: "Europe/Dublin")
        XCTAssertEqual(report.jobs.map(\.job), ["never", "nightly", "failing", "aaa-healthy"])
        XCTAssertEqual(report.summary.jobs, 4)
        XCTAssertEqual(report.summary.missed, 8)
        XCTAssertEqual(report.summary.failed, 2)
        XCTAssertEqual(report.summary.expected, 168 + 168 + 7 + 7)
        XCTAssertEqual(report.summary.runs, 168 + 168 + 6)
        // Sunday 23:00 UTC is Monday 00:00 in Dublin (IST) and the run ends 2s later.
        XCTAssertEqual(report.summary.text, "4 jobs, 2 missed 8 runs, 2 failed 2 runs, 1 failing since Mon 00:00")
    }

    /// SPEC §6: problems inside a maintenance window are counted as usual and also as
    /// `in_maintenance`, per job and in the summary.
    func testProblemsInsideMaintenanceWindowsAreCounted() throws {
        var s = spec("nightly", "30 1 * * *", zone: "UTC")
        s.maintenance = [.init(schedule: try Schedule("0 1 * * 0", timeZone: "UTC"), duration: 2 * hour)]
        let failedInside = runRecord("sun", at: ms("2026-03-29T01:31:00Z"), for: minute, .failure)
        let failedOutside = runRecord("wed", at: ms("2026-03-25T01:31:00Z"), for: minute, .failure)
        let history = JobHistory(spec: s, runs: [failedOutside, failedInside], changes: [])
        let job = JobReport(history, from: dstWeek.from, to: dstWeek.to, now: now)
        XCTAssertEqual(job.missed, 5)
        XCTAssertEqual(job.failed, 2)
        XCTAssertEqual(job.inMaintenance, 1, "Sunday's failure only: the other problems fell outside the window")
        let report = FleetReport([history], from: dstWeek.from, to: dstWeek.to, now: now, timeZone: "UTC")
        XCTAssertEqual(report.summary.inMaintenance, 1)
        XCTAssertTrue(report.summary.text.hasSuffix("1 problem inside maintenance windows"), report.summary.text)
    }
}
