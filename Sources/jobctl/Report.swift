import ArgumentParser
import CronSchedule
import FleetReport
import Foundation
import JobwatchCore
import Reporting

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The missed-job report: per job expected runs, runs, missed, failed, late, overdue, success rate, durations, downtime.",
        discussion: """
            Asks monitor_url with the configured token (read scope) for GET /api/v1/report. The period is the \
            last --since (default 7d), or --from/--to (RFC 3339; --to defaults to now). --format json prints \
            the API's report JSON (SPEC §3.2); csv gives raw numbers (ms, s, a 0-1 rate) for spreadsheets.
            """)

    @OptionGroup var options: MonitorOptions
    @Option(help: "The period ending now (e.g. 7d, 24h, 1d12h).") var since: String?
    @Option(help: "Start of the period (RFC 3339).") var from: String?
    @Option(help: "End of the period (RFC 3339; default now).") var to: String?
    @Option(help: "text, markdown, json or csv.") var format = "text"

    func validate() throws {
        guard ReportFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be one of " + ReportFormat.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if since != nil, from != nil || to != nil { throw ValidationError("use either --since or --from/--to") }
        if to != nil, from == nil { throw ValidationError("--to needs --from") }
        if let since, (Timespan(parsing: since)?.milliseconds ?? 0) <= 0 {
            throw ValidationError("--since: invalid duration \"\(since)\" (use e.g. 7d, 24h, 90m)")
        }
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, parseRFC3339(value) == nil {
                throw ValidationError("\(name): expected an RFC 3339 time like 2026-03-02T09:00:00Z, got \"\(value)\"")
            }
        }
    }

    func run() throws {
        let api = try MonitorAPIClient(options)
        var query: [(String, String)] = []
        if let from { query.append(("from", from)) }
        if let to { query.append(("to", to)) }
        if let since, let span = Timespan(parsing: since) {
            query.append(("from", Timestamp.format(ms: Timestamp.nowMs() - span.milliseconds)))
        }
        let path = "/api/v1/report" + (query.isEmpty ? "" : "?" + query.map { "\($0)=\(Self.escaped($1))" }.joined(separator: "&"))
        let response = try api.request("GET", path)
        let report: FleetReport
        do {
            report = try JSONDecoder().decode(FleetReport.self, from: Data(response.body))
        } catch {
            throw monitorFailure("the monitor's report is not readable: \(error)")
        }
        print(report.rendered(as: ReportFormat(rawValue: format) ?? .text), terminator: "")
    }

    /// An offset's `+` would arrive as a space.
    static func escaped(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~:"))) ?? value
    }
}
