import Foundation
import JobwatchCore
import MonitorCore
@testable import MonitorService
import XCTest

/// A host stops reporting and every job it ran misses: one "host is silent" alert per channel,
/// the jobs missed and visible but not paged one by one, and the host's next report resolves it.
final class HostSilenceEngineTests: EngineTestCase {
    func testHostWhoseJobsAllMissPagesOnceAndResolvesWhenItReportsAgain() async throws {
        let h = try makeHarness()
        let jobs = ["backup", "rotate", "vacuum", "reindex"]
        for job in jobs + ["solo"] { try h.writeJob(job, "schedule: every 2s\ngrace: 1s\n") }
        let engine = try h.engine()
        engine.start()
        XCTAssertTrue(try h.eventually { try (jobs + ["solo"]).allSatisfy { try h.monitor($0) != nil } })
        for job in jobs {
            try h.start(job, "r1", host: "db1")
            try h.finish(job, "r1", host: "db1")
        }
        try h.start("solo", "r1", host: "web9")
        try h.finish("solo", "r1", host: "web9")

        // The next occurrence passes its grace with nothing from either host.
        func silentAlerts(_ event: String) throws -> [EngineHarness.Delivery] {
            try h.outbox().filter { $0.fields["kind"] == InhibitingAlert.hostSilent && $0.event == event }
        }
        XCTAssertTrue(try h.eventually(6) { try silentAlerts("trigger").count == 2 })
        XCTAssertTrue(try h.eventually(3) { try h.outbox().filter { $0.fields["job"] == "solo" }.count == 2 },
                      "web9 runs one job: below min_jobs, its miss pages as usual")
        let trigger = try silentAlerts("trigger")
        XCTAssertEqual(trigger.map(\.channel).sorted(), ["pd", "slack"])
        XCTAssertEqual(Set(trigger.map { $0.fields["job"] }), ["host:db1"])
        let pd = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(trigger.first { $0.channel == "pd" }?.fields["body"]).utf8))
            as? [String: Any])
        XCTAssertEqual(pd["dedup_key"] as? String, "jobwatch/host-silent/db1")
        let payload = try XCTUnwrap(pd["payload"] as? [String: Any])
        XCTAssertEqual(payload["source"] as? String, "db1")
        XCTAssertTrue((payload["summary"] as? String)?.hasPrefix("host db1 silent since ") == true, "\(payload)")
        let details = try XCTUnwrap(payload["custom_details"] as? [String: Any])
        XCTAssertEqual(Set(details["jobs"] as? [String] ?? []), Set(jobs))
        XCTAssertEqual(details["jobs_on_host"] as? Int, 4)
        for job in jobs {
            XCTAssertEqual(try h.monitor(job)?.state(at: Timestamp.nowMs()), .missed)
            XCTAssertEqual(try h.monitor(job)?.incident?.inhibitedBy, InhibitingAlert.hostSilent)
        }

        // Further misses while db1 stays silent page nothing (every 2 s a round passes).
        let round = try XCTUnwrap(h.monitor("backup")?.nextDeadline)
        XCTAssertTrue(h.eventually(5) { Timestamp.nowMs() > round + 500 })
        XCTAssertEqual(try h.outbox().filter { jobs.contains($0.fields["job"] ?? "") }.count, 0, "no per-job page for db1's jobs")
        XCTAssertEqual(try silentAlerts("trigger").count, 2)

        // db1 reports again: the host alert resolves; each job's incident ends with its run, unpaged.
        try h.start("backup", "r2", host: "db1")
        XCTAssertTrue(try h.eventually(3) { try silentAlerts("resolve").count == 2 })
        XCTAssertEqual(try silentAlerts("trigger").count, 2)
        let resolve = try XCTUnwrap(silentAlerts("resolve").first { $0.channel == "pd" })
        let resolved = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(resolve.fields["body"]).utf8)) as? [String: Any])
        XCTAssertEqual(resolved["event_action"] as? String, "resolve")
        XCTAssertEqual(resolved["dedup_key"] as? String, "jobwatch/host-silent/db1")
        try h.finish("backup", "r2", host: "db1")
        XCTAssertTrue(try h.eventually(3) { try h.monitor("backup")?.incident == nil })
        XCTAssertEqual(try h.outbox().filter { $0.fields["job"] == "backup" }.count, 0, "no resolve for an incident never paged")
        await engine.stop()
    }
}
