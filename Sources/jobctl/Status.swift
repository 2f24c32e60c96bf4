import ArgumentParser
import CronSchedule
import Foundation
import HTTPClient
import JobwatchCore

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every job (or one) as the monitor sees it: state, last run, next expected run, lock holder.",
        discussion: "Asks monitor_url with the configured token (read scope). --json prints the API's JSON: {\"jobs\": [...]}, or one job object.")

    @OptionGroup var options: MonitorOptions
    @Argument(help: "Only this job.") var job: String?
    @Flag(help: "Print the API's JSON.") var json = false

    func run() throws {
        let api = try MonitorAPIClient(options)
        let path = try job.map { "/api/v1/jobs/\(try validJob($0))" } ?? "/api/v1/jobs"
        let response = try api.request("GET", path)
        if json {
            print(response.text)
            return
        }
        let object = try api.decode(response)
        let jobs = job == nil ? (object["jobs"] as? [[String: Any]] ?? []) : [object]
        print(StatusTable(jobs: jobs, now: Date().timeIntervalSince1970, colour: Terminal.wantsColour).render(), terminator: "")
    }
}

/// The table a person reads: one line per job, columns padded to the widest cell, colour
/// only on the state column and only on a terminal. Delivery problems (an alert a channel
/// refused) are listed under the table, since they need a person's attention.
struct StatusTable {
    let jobs: [[String: Any]]
    let now: Double
    let colour: Bool

    static let headers = ["JOB", "STATE", "LAST RUN", "HOST", "RESULT", "DURATION", "NEXT EXPECTED", "LOCK"]

    func render() -> String {
        let sorted = jobs.sorted { ($0["job"] as? String ?? "") < ($1["job"] as? String ?? "") }
        let rows = sorted.map(row)
        var out = Table(headers: Self.headers, rows: rows.map(\.cells)).render { column, row, text in
            guard colour, column == 1, let row else { return text }
            return Terminal.paint(text, state: rows[row].cells[1])
        }
        let problems = sorted.compactMap(deliveryProblem)
        if !problems.isEmpty {
            out += "\nAlert delivery problems:\n" + problems.map { "  " + $0 + "\n" }.joined()
        }
        if jobs.isEmpty { out += "(no jobs known to the monitor yet)\n" }
        return out
    }

    private func row(_ job: [String: Any]) -> (cells: [String], job: String) {
        let name = job["job"] as? String ?? "?"
        var state = job["state"] as? String ?? "?"
        if let until = job["paused_until"] as? String, state == "paused" { state += " until " + Self.when(until, now: now) }
        if job["flapping"] as? Bool == true { state += " (flapping)" }
        let run = job["last_run"] as? [String: Any]
        let lock = (job["lock"] as? [String: Any])?["holder"] as? String
        return ([
            name, state,
            run.flatMap { $0["started_at"] as? String }.map { Self.when($0, now: now) } ?? "never",
            run?["host"] as? String ?? "—",
            run.map(Self.result) ?? "—",
            run.flatMap { Self.number($0["duration_ms"]) }.map(Self.duration) ?? "—",
            (job["next_expected"] as? String).map { Self.when($0, now: now) } ?? "—",
            lock ?? "—",
        ], name)
    }

    private func deliveryProblem(_ job: [String: Any]) -> String? {
        guard let problem = job["delivery"] as? [String: Any] else { return nil }
        let channel = problem["channel"] as? String ?? "?"
        let error = (problem["error"] as? String ?? "refused").split(separator: "\n").first.map(String.init) ?? ""
        let at = (problem["at"] as? String).map { " (" + Self.when($0, now: now) + ")" } ?? ""
        return "\(job["job"] as? String ?? "?") → \(channel): \(error)\(at)"
    }

    static func result(_ run: [String: Any]) -> String {
        guard let outcome = run["outcome"] as? String else { return "running" }
        if let signal = number(run["signal"]) { return "\(outcome) (signal \(signal))" }
        if let code = number(run["exit_code"]), code != 0 || outcome != "success" { return "\(outcome) (exit \(code))" }
        return outcome
    }

    /// Milliseconds for short runs, whole seconds past one.
    static func duration(_ ms: Int64) -> String { "\(Timespan(milliseconds: ms < 1000 ? ms : ms / 1000 * 1000))" }

    static func number(_ value: Any?) -> Int64? { (value as? NSNumber)?.int64Value }

    /// "3m ago" / "in 45s": relative times read faster than timestamps in a fleet overview.
    static func when(_ text: String, now: Double) -> String {
        guard let seconds = parseRFC3339(text) else { return text }
        let delta = Int64(now.rounded(.down)) - seconds
        let span = Timespan(seconds: Swift.abs(delta))
        let coarse = coarsen(span)
        if delta >= 0 { return delta < 1 ? "just now" : "\(coarse) ago" }
        return "in \(coarse)"
    }

    /// Two units at most: "1h5m", not "1h5m12s".
    static func coarsen(_ span: Timespan) -> String {
        let s = span.wholeSeconds
        let units: [(Int64, String)] = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")]
        guard let first = units.firstIndex(where: { s >= $0.0 }) else { return "0s" }
        var text = "\(s / units[first].0)\(units[first].1)"
        if first + 1 < units.count {
            let rest = s % units[first].0 / units[first + 1].0
            if rest > 0 { text += "\(rest)\(units[first + 1].1)" }
        }
        return text
    }
}

/// Aligned columns separated by two spaces. `decorate` may wrap a cell (colour) after it was
/// padded, so escape codes never disturb the alignment.
struct Table {
    let headers: [String]
    let rows: [[String]]

    func render(decorate: (_ column: Int, _ row: Int?, _ text: String) -> String = { $2 }) -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String], _ row: Int?) -> String {
            let padded = cells.enumerated().map { i, cell in
                let text = i == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
                return decorate(i, row, text)
            }
            return padded.joined(separator: "  ") + "\n"
        }
        return line(headers, nil) + rows.enumerated().map { line($1, $0) }.joined()
    }
}

enum Terminal {
    /// Colour on a terminal only, and never when NO_COLOR is set (no-color.org).
    static var wantsColour: Bool {
        isatty(1) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    static func paint(_ text: String, state: String) -> String {
        let code: String
        switch state.split(separator: " ").first.map(String.init) ?? state {
        case "up": code = "32"
        case "running": code = "36"
        case "late", "slow", "fast": code = "33"
        case "missed", "failed", "overdue", "lost": code = "1;31"
        case "paused": code = "2"
        default: return text
        }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }
}

/// jobctl's side of the monitor API (status, history, pause, resume): `monitor_url` with the
/// configured bearer token; an error answer becomes the API's own `error` message.
struct MonitorAPIClient {
    let baseURL: String
    let token: String?

    init(_ options: MonitorOptions) throws {
        let config = try options.load()
        var base = config.monitorURL
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
        token = try config.token?.resolve()
    }

    func request(_ method: String, _ path: String, json body: [String: Any]? = nil) throws -> HTTPSession.Response {
        var headers = ["Accept: application/json"]
        if let token { headers.append("Authorization: Bearer \(token)") }
        var bytes: [UInt8]?
        if let body {
            headers.append("Content-Type: application/json")
            bytes = Array(try JSONSerialization.data(withJSONObject: body))
        }
        let response: HTTPSession.Response
        do {
            response = try HTTPSession(connectTimeout: 3, timeout: 30).send(method, url: baseURL + path, headers: headers, body: bytes)
        } catch {
            throw monitorFailure("cannot reach the monitor at \(baseURL): \(error)")
        }
        guard (200..<300).contains(response.status) else {
            let reason = (try? decode(response))?["error"] as? String ?? String(response.text.prefix(300))
            throw monitorFailure("\(method) \(path): HTTP \(response.status): \(reason)")
        }
        return response
    }

    func decode(_ response: HTTPSession.Response) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
            throw monitorFailure("the monitor answered something other than a JSON object")
        }
        return object
    }
}

/// Reports the problem on stderr and exits 1, without argument-parser's usage text.
func monitorFailure(_ text: String) -> Error {
    FileHandle.standardError.write(Data(("jobctl: " + text + "\n").utf8))
    return ExitCode.failure
}
