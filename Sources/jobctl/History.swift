import ArgumentParser
import Foundation

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a job's recent runs, newest first.",
        discussion: "Asks monitor_url with the configured token (read scope). --json prints the API's JSON: {\"runs\": [...]}.")

    @OptionGroup var options: MonitorOptions
    @Argument(help: "Job name.") var job: String
    @Option(help: "How many runs to show (1-10000).") var limit = 20
    @Flag(help: "Print the API's JSON.") var json = false

    func validate() throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 10000") }
    }

    func run() throws {
        let api = try MonitorAPIClient(options)
        let response = try api.request("GET", "/api/v1/jobs/\(try validJob(job))/runs?limit=\(limit)")
        if json {
            print(response.text)
            return
        }
        let runs = try api.decode(response)["runs"] as? [[String: Any]] ?? []
        guard !runs.isEmpty else {
            print("\(job): no runs recorded")
            return
        }
        let rows = runs.map { run -> [String] in
            [
                run["started_at"] as? String ?? "—",
                run["host"] as? String ?? "—",
                Self.result(run),
                StatusTable.number(run["duration_ms"]).map(StatusTable.duration) ?? "—",
                run["scheduled_for"] as? String ?? "—",
                StatusTable.number(run["fence"]).map(String.init) ?? "—",
                run["run_id"] as? String ?? "?",
            ]
        }
        let headers = ["STARTED", "HOST", "RESULT", "DURATION", "SCHEDULED FOR", "FENCE", "RUN ID"]
        print(Table(headers: headers, rows: rows).render(), terminator: "")
        // Why output rules failed a run does not fit a column: one line each under the table.
        for run in runs {
            if let reason = run["reason"] as? String { print("\(run["run_id"] as? String ?? "?"): \(reason)") }
        }
    }

    /// The status table's result, plus the attempts of a job with `retries`: `success, 3 attempts (1,1,0)`.
    static func result(_ run: [String: Any]) -> String {
        let result = StatusTable.result(run)
        guard let codes = run["attempt_exit_codes"] as? [Any], codes.count > 1 else { return result }
        let list = codes.compactMap { StatusTable.number($0).map(String.init) }.joined(separator: ",")
        return "\(result), \(codes.count) attempts (\(list))"
    }
}
