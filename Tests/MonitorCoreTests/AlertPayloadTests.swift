import CronSchedule
import JobwatchCore
import MonitorCore
import XCTest

final class AlertPayloadTests: XCTestCase {
    private let context = AlertContext(statusPageURL: "https://jobs.example.com/", monitorHost: "jobmond-1")

    private func nightlyReport(name: String = "nightly-report") throws -> JobSpec {
        JobSpec(
            name: name, schedule: try Schedule("30 2 * * *", timeZone: "Europe/Dublin"), timezone: "Europe/Dublin",
            grace: 600_000, maxRuntime: 7_200_000, channels: ["pd-ops", "slack-ops"])
    }

    private func missed(_ spec: JobSpec) -> Incident {
        let lastRun = RunRecord(
            runID: "r-41", host: "web1", scheduledFor: ms("2026-03-09T02:30:00Z"), startedAt: ms("2026-03-09T02:30:01Z"),
            finishedAt: ms("2026-03-09T02:42:01Z"), durationMs: 720_000, exitCode: 0, outcome: .success)
        return Incident(
            job: spec.name, kind: .missed, since: ms("2026-03-10T02:40:00Z"), occurrence: ms("2026-03-10T02:30:00Z"),
            lastRun: lastRun, reason: "no start by 2026-03-10T02:40:00+00:00", previousState: .late)
    }

    private func failed(_ spec: JobSpec, output: String) -> Incident {
        let run = RunRecord(
            runID: "r-42", host: "web2", scheduledFor: ms("2026-03-10T02:30:00Z"), startedAt: ms("2026-03-10T02:30:02Z"),
            finishedAt: ms("2026-03-10T02:31:02Z"), durationMs: 60_000, exitCode: 3, outcome: .failure, fence: 9,
            outputTail: output)
        return Incident(
            job: spec.name, kind: .failed, since: ms("2026-03-10T02:31:02Z"), occurrence: run.scheduledFor,
            lastRun: run, reason: "exit code 3", previousState: .running)
    }

    private func json(_ value: some Encodable) throws -> [String: Any] {
        let data = try JSONEncoder().encode(value)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testPagerDutyTriggerForAMissedRun() throws {
        let spec = try nightlyReport()
        let event = PagerDutyEvent(.trigger, missed(spec), spec: spec, routingKey: "R0UT1NG", context: context)
        let body = try json(event)
        XCTAssertEqual(body["routing_key"] as? String, "R0UT1NG")
        XCTAssertEqual(body["event_action"] as? String, "trigger")
        XCTAssertEqual(body["dedup_key"] as? String, "jobwatch/nightly-report")
        let payload = try XCTUnwrap(body["payload"] as? [String: Any])
        XCTAssertEqual(payload["summary"] as? String, "nightly-report missed its 02:30 Europe/Dublin run (grace 10m)")
        XCTAssertEqual(payload["severity"] as? String, "critical")
        XCTAssertEqual(payload["source"] as? String, "web1")
        XCTAssertEqual(payload["component"] as? String, "nightly-report")
        XCTAssertEqual(payload["class"] as? String, "missed")
        XCTAssertEqual(payload["timestamp"] as? String, "2026-03-10T02:40:00+00:00")
        let details = try XCTUnwrap(payload["custom_details"] as? [String: Any])
        XCTAssertEqual(details["last_run"] as? String, "2026-03-09T02:30:01+00:00 on web1, success, exit code 0 after 12m")
        XCTAssertEqual(details["occurrence"] as? String, "2026-03-10T02:30:00+00:00")
        XCTAssertEqual(details["schedule"] as? String, "30 2 * * *")
        let links = try XCTUnwrap(body["links"] as? [[String: Any]])
        XCTAssertEqual(links.first?["href"] as? String, "https://jobs.example.com/#job-nightly-report")
    }

    func testPagerDutySeverityAndExcerptForAFailure() throws {
        let spec = try nightlyReport()
        let output = String(repeating: "line of output\n", count: 50_000)
        let event = PagerDutyEvent(.trigger, failed(spec, output: output), spec: spec, routingKey: "k", context: context)
        XCTAssertEqual(event.payload?.severity, "error")
        XCTAssertEqual(event.payload?.summary, "nightly-report failed on web2: exit code 3")
        XCTAssertEqual(event.payload?.customDetails.exitCode, 3)
        XCTAssertLessThanOrEqual(event.payload?.customDetails.outputTail?.utf8.count ?? .max, 4096)
        XCTAssertLessThan(try JSONEncoder().encode(event).count, 512 * 1024)
    }

    func testPagerDutyResolveCarriesOnlyWhatTheAPINeeds() throws {
        let spec = try nightlyReport()
        let body = try json(PagerDutyEvent(.resolve, missed(spec), spec: spec, routingKey: "k", context: context))
        XCTAssertEqual(Set(body.keys), ["routing_key", "event_action", "dedup_key"])
        XCTAssertEqual(body["event_action"] as? String, "resolve")
    }

    func testSlackAlertShape() throws {
        let spec = try nightlyReport()
        let message = SlackMessage(.trigger, failed(spec, output: "boom <db> & retry\n"), spec: spec, context: context)
        let body = try json(message)
        XCTAssertEqual(body["text"] as? String, "nightly-report failed on web2: exit code 3")
        let blocks = try XCTUnwrap(body["blocks"] as? [[String: Any]])
        XCTAssertEqual(blocks.map { $0["type"] as? String }, ["header", "section", "section", "context"])
        let fields = try XCTUnwrap(blocks[1]["fields"] as? [[String: Any]]).compactMap { $0["text"] as? String }
        XCTAssertEqual(fields, [
            "*State*\nfailed", "*Job*\nnightly-report", "*Schedule*\n`30 2 * * *` (Europe/Dublin)",
            "*Last run*\n2026-03-10T02:30:02+00:00", "*Host*\nweb2", "*Duration*\n1m", "*Exit code*\n3",
        ])
        let excerpt = try XCTUnwrap((blocks[2]["text"] as? [String: Any])?["text"] as? String)
        XCTAssertEqual(excerpt, "```\nboom &lt;db&gt; &amp; retry\n\n```")
        let footer = try XCTUnwrap((blocks[3]["elements"] as? [[String: Any]])?.first?["text"] as? String)
        XCTAssertTrue(footer.hasSuffix("<https://jobs.example.com/#job-nightly-report|Status page>"), footer)
    }

    func testHostileHostNamesAndOutputAreInertInSlack() throws {
        let spec = try nightlyReport()
        var incident = failed(spec, output: "\u{1B}[31mred\u{1B}[0m <!here> \u{0}done\n")
        incident.lastRun?.host = "<!channel> <@U123|boss> <http://evil.example|click>\u{1B}[2J"
        let body = try json(SlackMessage(.trigger, incident, spec: spec, context: context))
        let text = try XCTUnwrap(body["text"] as? String)
        XCTAssertEqual(text, "nightly-report failed on &lt;!channel&gt; &lt;@U123|boss&gt; &lt;http://evil.example|click&gt;\u{FFFD}[2J: exit code 3",
                       "the notification text is mrkdwn: no mention, no link, no terminal escape")
        let blocks = try XCTUnwrap(body["blocks"] as? [[String: Any]])
        let header = try XCTUnwrap((blocks[0]["text"] as? [String: Any])?["text"] as? String)
        XCTAssertFalse(header.unicodeScalars.contains { $0.properties.generalCategory == .control }, header)
        let fields = try XCTUnwrap(blocks[1]["fields"] as? [[String: Any]]).compactMap { $0["text"] as? String }
        let excerpt = try XCTUnwrap((blocks[2]["text"] as? [String: Any])?["text"] as? String)
        for rendered in fields + [excerpt] {
            XCTAssertFalse(rendered.contains("<!") || rendered.contains("<@") || rendered.contains("<http"), rendered)
            XCTAssertFalse(rendered.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0 }, rendered)
        }
    }

    func testSlackStaysInsideBlockKitLimitsWithHugeOutputAndLongNames() throws {
        let spec = try nightlyReport(name: String(repeating: "very-long-job-name-", count: 7) + "end")
        let output = String(repeating: "<&>```é😀 ", count: 100_000)
        for event in [AlertEvent.trigger, .repeat, .resolve] {
            let message = SlackMessage(event, failed(spec, output: output), spec: spec, context: context)
            XCTAssertLessThanOrEqual(message.blocks.count, 50)
            for block in message.blocks {
                if block.type == "header" { XCTAssertLessThanOrEqual(block.text?.text.utf16.count ?? 0, 150) }
                XCTAssertLessThanOrEqual(block.text?.text.utf16.count ?? 0, 3000)
                XCTAssertLessThanOrEqual(block.fields?.count ?? 0, 10)
                for field in block.fields ?? [] { XCTAssertLessThanOrEqual(field.text.utf16.count, 2000) }
                for element in block.elements ?? [] { XCTAssertLessThanOrEqual(element.text.utf16.count, 3000) }
            }
            if event != .resolve {
                let code = try XCTUnwrap(message.blocks.first { $0.text?.text.hasPrefix("```") == true }?.text?.text)
                XCTAssertLessThanOrEqual(code.utf16.count, SlackMessage.excerptLimit)
                XCTAssertTrue(code.hasSuffix("\n```"))
                XCTAssertEqual(code.components(separatedBy: "```").count, 3, "the output cannot close the block")
            }
        }
    }

    func testSlackRecoveryMessage() throws {
        let spec = try nightlyReport()
        var incident = missed(spec)
        incident.resolvedAt = incident.since + 7_800_000
        incident.lastRun = RunRecord(
            runID: "r-43", host: "web3", startedAt: incident.since + 7_700_000, finishedAt: incident.resolvedAt,
            durationMs: 100_000, exitCode: 0, outcome: .success)
        let message = SlackMessage(.resolve, incident, spec: spec, context: context)
        XCTAssertEqual(message.text, "nightly-report recovered after 2h10m: a run on web3 succeeded")
        XCTAssertEqual(message.blocks.first?.text?.text, "✅ nightly-report recovered after 2h10m: a run on web3 succeeded")
        XCTAssertEqual(message.blocks.map(\.type), ["header", "section", "context"])
        XCTAssertEqual(message.blocks[1].fields?.first?.text, "*State*\nup")
    }

    func testWebhookShape() throws {
        let spec = try nightlyReport()
        let body = try json(WebhookEvent(.trigger, missed(spec), spec: spec, context: context))
        XCTAssertEqual(body["event"] as? String, "trigger")
        XCTAssertEqual(body["job"] as? String, "nightly-report")
        XCTAssertEqual(body["state"] as? String, "missed")
        XCTAssertEqual(body["previous_state"] as? String, "late")
        XCTAssertEqual(body["occurrence"] as? String, "2026-03-10T02:30:00+00:00")
        XCTAssertEqual(body["monitor_url"] as? String, "https://jobs.example.com/#job-nightly-report")
        let run = try XCTUnwrap(body["run"] as? [String: Any])
        XCTAssertEqual(run["run_id"] as? String, "r-41")
        XCTAssertEqual(run["duration_ms"] as? Int, 720_000)

        let resolved = try json(WebhookEvent(.resolve, missed(spec), spec: spec, context: AlertContext(statusPageURL: nil, monitorHost: "m")))
        XCTAssertEqual(resolved["state"] as? String, "up")
        XCTAssertEqual(resolved["previous_state"] as? String, "missed")
        XCTAssertTrue(resolved.keys.contains("monitor_url"))
        XCTAssertTrue(resolved["monitor_url"] is NSNull)
    }

    func testActionsNameTheirAlert() throws {
        let incident = missed(try nightlyReport())
        XCTAssertEqual(MonitorAction.repeatAlert(incident).alert?.event, .repeat)
        XCTAssertNil(MonitorAction.scheduleDeadline(at: 5).alert)
    }

    func testJobSpecFromADefinitionUsesDefaultChannels() throws {
        let definition = try JobDefinition.parse(
            text: "schedule: \"*/5 * * * *\"\ngrace: 30s\nmin_runtime: 0s\nrealert_every: 0\n",
            path: "jobs.d/rotate.yaml", defaultTimezone: "UTC")
        let spec = JobSpec(definition, defaultChannels: ["slack-ops"])
        XCTAssertEqual(spec.channels, ["slack-ops"])
        XCTAssertEqual(spec.grace, 30_000)
        XCTAssertNil(spec.minRuntime)
        XCTAssertNil(spec.realertEvery)
        XCTAssertEqual(try JSONDecoder().decode(JobSpec.self, from: JSONEncoder().encode(spec)), spec)
    }
}
