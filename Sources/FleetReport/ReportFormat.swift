import CronSchedule
import Foundation

/// `jobctl report --format`: the same report as a terminal table, Markdown (for tickets and
/// wikis), CSV (for spreadsheets) or SPEC §3.2 JSON.
public enum ReportFormat: String, Sendable, CaseIterable {
    case text, markdown, json, csv
}

extension FleetReport {
    public func rendered(as format: ReportFormat) -> String {
        switch format {
        case .text: return textTable()
        case .markdown: return markdownTable()
        case .json: return json()
        case .csv: return csv()
        }
    }

    static let columns = ["JOB", "EXPECTED", "RUNS", "OK", "FAILED", "MISSED", "LATE", "OVERDUE", "SUCCESS", "P50", "P95", "MAX", "DOWNTIME",
                          "MAINTENANCE"]

    /// Numbers as people read them: percentages, `12m05s`, `-` for "no finished run".
    func humanCells(_ job: JobReport) -> [String] {
        let duration = { (ms: Int64?) in ms.map(TimeWords.duration) ?? "-" }
        return [
            job.job, String(job.expected), String(job.runs), String(job.succeeded), String(job.failed),
            String(job.missed), String(job.late), String(job.overdue), Self.percent(job.successRate),
            duration(job.durationMs.p50), duration(job.durationMs.p95), duration(job.durationMs.max),
            job.downtimeS == 0 ? "-" : TimeWords.duration(job.downtimeS * 1000),
            job.inMaintenance == 0 ? "-" : String(job.inMaintenance),
        ]
    }

    static func percent(_ rate: Double) -> String {
        let tenths = Int((rate * 1000).rounded())
        return tenths == 1000 ? "100%" : "\(tenths / 10).\(tenths % 10)%"
    }

    var period: String {
        TimeWords.dateAndTime(from, timeZone: "UTC") + " – " + TimeWords.dateAndTime(to, timeZone: "UTC") + " UTC"
    }

    private func textTable() -> String {
        let rows = [Self.columns] + jobs.map(humanCells)
        var widths = Self.columns.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        // The name is read left-aligned; numbers line up on their last digit.
        let lines = rows.map { row in
            row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        return "Jobwatch report \(period)\n\(summary.text)\n\n" + lines.joined(separator: "\n") + "\n"
    }

    private func markdownTable() -> String {
        let header = "| " + Self.columns.map(\.localizedCapitalized).joined(separator: " | ") + " |"
        let rule = "|" + Self.columns.indices.map { $0 == 0 ? "---|" : "---:|" }.joined()
        let rows = jobs.map { job in
            var cells = humanCells(job).map(Self.markdownCell)
            // GitHub reads a pipe as a cell border even inside code; `\|` is its escape.
            cells[0] = "`" + job.job.replacingOccurrences(of: "|", with: "\\|") + "`"
            return "| " + cells.joined(separator: " | ") + " |"
        }
        return "## Jobwatch report \(period)\n\n\(Self.markdownCell(summary.text))\n\n"
            + ([header, rule] + rows).joined(separator: "\n") + "\n"
    }

    /// A pipe would end the cell; the other characters would start Markdown markup.
    static func markdownCell(_ text: String) -> String {
        var out = ""
        for c in text {
            if "|\\*_`[]<>".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// Raw numbers (milliseconds, seconds, a 0–1 rate), so a spreadsheet can compute with them.
    private func csv() -> String {
        let header = "job,expected,runs,succeeded,failed,missed,late,overdue,success_rate,p50_ms,p95_ms,max_ms,downtime_s,in_maintenance"
        let rows = jobs.map { job in
            let numbers: [String] = [
                job.expected, job.runs, job.succeeded, job.failed, job.missed, job.late, job.overdue,
            ].map(String.init) + [
                String(job.successRate), job.durationMs.p50.map(String.init) ?? "",
                job.durationMs.p95.map(String.init) ?? "", job.durationMs.max.map(String.init) ?? "",
                String(job.downtimeS), String(job.inMaintenance),
            ]
            return ([Self.csvField(job.job)] + numbers).joined(separator: ",")
        }
        // RFC 4180 ends every record, the last included, with CRLF.
        return ([header] + rows).map { $0 + "\r\n" }.joined()
    }

    /// RFC 4180: quote a field holding a comma, quote or line break, doubling its quotes.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding plain integers, strings and finite doubles cannot fail.
        let data = (try? encoder.encode(self)) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
