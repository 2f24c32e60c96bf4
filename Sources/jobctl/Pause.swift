import ArgumentParser
import Foundation
import JobwatchCore
import Reporting

struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop alerting on a job (maintenance), until resumed or for a while.",
        discussion: "Needs a token with the admin scope. Runs are still recorded while paused.")

    @OptionGroup var options: MonitorOptions
    @Argument(help: "Job name.") var job: String
    @Option(name: .customLong("for"), help: "Resume by itself after this long (e.g. 2h, 1d, 1h30m).") var duration: String?

    func run() throws {
        let api = try MonitorAPIClient(options)
        var body: [String: Any] = [:]
        var until = ""
        if let duration {
            guard let span = Timespan(parsing: duration), span.milliseconds > 0 else {
                throw ValidationError("--for: invalid duration \"\(duration)\" (use e.g. 90s, 10m, 2h, 1d, 1h30m)")
            }
            let at = Timestamp.format(ms: Timestamp.nowMs() + span.milliseconds)
            body["until"] = at
            until = " until \(at)"
        }
        _ = try api.request("POST", "/api/v1/jobs/\(try validJob(job))/pause", json: body)
        print("\(job): paused\(until)")
    }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Alert on a paused job again.", discussion: "Needs a token with the admin scope.")

    @OptionGroup var options: MonitorOptions
    @Argument(help: "Job name.") var job: String

    func run() throws {
        let api = try MonitorAPIClient(options)
        _ = try api.request("POST", "/api/v1/jobs/\(try validJob(job))/resume", json: [:])
        print("\(job): resumed")
    }
}
