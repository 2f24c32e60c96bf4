import MonitorCore

/// One job as the status page shows it; the monitor fills it from `mon:state` and the last
/// seven days of `mon:runs` and `mon:changes`.
public struct StatusRow: Sendable {
    public var spec: JobSpec
    public var state: JobState
    public var lastRun: RunRecord?
    public var nextExpected: Int64?
    /// Runs and state changes of at least the last seven days, for the timeline strip.
    public var runs: [RunRecord]
    public var changes: [StateChange]
    /// SPEC §6: its alert opened and resolved more than five times in 24 hours.
    public var flapping: Bool

    public init(
        spec: JobSpec, state: JobState, lastRun: RunRecord?, nextExpected: Int64?, runs: [RunRecord],
        changes: [StateChange], flapping: Bool = false
    ) {
        self.spec = spec
        self.state = state
        self.lastRun = lastRun
        self.nextExpected = nextExpected
        self.runs = runs
        self.changes = changes
        self.flapping = flapping
    }
}

/// `GET /`: one server-rendered page, no script and nothing fetched, so it works from a
/// phone on a VPN and through any proxy. Problem jobs come first; each row is anchored
/// `job-<name>` for alert links.
public func statusPage(jobs: [StatusRow], now: Int64, publicURL: String?) -> String {
    // Indices are sorted, not rows: a row is a large value and the comparison reads two fields.
    let ranks = jobs.map { StatusPageStyle.rank($0.state) }
    let order = jobs.indices.sorted { a, b in
        ranks[a] != ranks[b] ? ranks[a] < ranks[b] : jobs[a].spec.name < jobs[b].spec.name
    }
    var html = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    html += "<meta http-equiv=\"refresh\" content=\"60\">"
    html += "<title>\(StatusPageStyle.title(jobs)) · Jobwatch</title><style>\(StatusPageStyle.css)</style></head><body>"
    html += "<header><h1>Jobwatch</h1>" + summaryBar(jobs)
    html += "<p class=\"asof\">as of " + escapeHTML(TimeWords.dateAndTime(now, timeZone: "UTC")) + " UTC · refreshes every minute"
    if let publicURL { html += " · <a href=\"\(escapeHTML(publicURL))\">\(escapeHTML(publicURL))</a>" }
    html += "</p></header><main><table><thead><tr><th>State</th><th>Job</th><th>Last run</th><th>Next</th>"
    html += "<th class=\"tlh\">Last 7 days <span class=\"legend\">" + StatusPageStyle.legend + "</span></th></tr></thead><tbody>"
    html.reserveCapacity(jobs.count * 1500)
    for index in order { appendRow(jobs[index], now: now, to: &html) }
    html += "</tbody></table></main></body></html>\n"
    return html
}

private func summaryBar(_ rows: [StatusRow]) -> String {
    var counts: [JobState: Int] = [:]
    for row in rows { counts[row.state, default: 0] += 1 }
    var out = "<ul class=\"bar\"><li class=\"total\"><b>\(rows.count)</b> jobs</li>"
    for state in StatusPageStyle.order where counts[state, default: 0] > 0 {
        out += "<li class=\"s-\(state.rawValue)\"><b>\(counts[state]!)</b> \(state.rawValue)</li>"
    }
    return out + "</ul>"
}

/// Rows are written straight into the page: no string per row or per cell to build and copy.
private func appendRow(_ row: StatusRow, now: Int64, to html: inout String) {
    let spec = row.spec
    let name = escapeHTML(spec.name)
    html += "<tr id=\"job-\(name)\" class=\"s-\(row.state.rawValue)\">"
    html += "<td><span class=\"pill\">\(row.state.rawValue)</span>"
    if row.flapping { html += " <span class=\"pill flap\" title=\"alert opened and resolved more than 5 times in 24h\">flapping</span>" }
    html += "</td>"
    let schedule = spec.schedule.map { escapeHTML($0.expression) } ?? "no schedule"
    html += "<td><a class=\"name\" href=\"#job-\(name)\">\(name)</a><small>\(schedule) · \(escapeHTML(spec.timezone))</small></td>"
    html += "<td>"
    appendLastRun(row.lastRun, spec: spec, now: now, to: &html)
    html += "</td>"
    if let next = row.nextExpected {
        html += "<td><span title=\"\(escapeHTML(TimeWords.dateAndTime(next, timeZone: spec.timezone)))\">"
        html += TimeWords.relative(next, now: now) + "</span></td>"
    } else {
        html += "<td class=\"dim\">—</td>"
    }
    html += "<td>"
    TimelineStrip(row, now: now).appendSVG(timeZone: spec.timezone, to: &html)
    html += "</td></tr>"
}

private func appendLastRun(_ run: RunRecord?, spec: JobSpec, now: Int64, to html: inout String) {
    guard let run else {
        html += "<span class=\"dim\">never</span>"
        return
    }
    let result: String
    switch run.outcome {
    case nil: result = "<span class=\"r-running\">running</span>"
    case .success?: result = "<span class=\"r-ok\">ok</span>"
    case .replaced?: result = "<span class=\"r-running\">replaced</span>"
    case let outcome?:
        let detail = run.signal.map { "signal \($0)" } ?? run.exitCode.map { "exit \($0)" } ?? outcome.rawValue
        result = "<span class=\"r-bad\">\(escapeHTML(detail))</span>"
    }
    let when = escapeHTML(TimeWords.dateAndTime(run.startedAt, timeZone: spec.timezone))
    html += "<span title=\"\(when) \(escapeHTML(spec.timezone))\">\(TimeWords.relative(run.startedAt, now: now))</span> · \(result)"
    if let duration = run.durationMs { html += " · " + TimeWords.duration(duration) }
    html += "<small>on \(escapeHTML(run.host))"
    if let tail = run.outputTail, run.outcome != .success, let lastLine = tail.split(whereSeparator: \.isNewline).last {
        html += " · <code>\(escapeHTML(String(lastLine.prefix(120))))</code>"
    }
    html += "</small>"
}

/// Text and attribute values alike: job names, hosts and output are whatever users wrote.
func escapeHTML(_ text: String) -> String {
    // Most text has nothing to escape and is returned as it is, without a copy.
    guard text.utf8.contains(where: { "&<>\"'".utf8.contains($0) }) else { return text }
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for c in text.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}
