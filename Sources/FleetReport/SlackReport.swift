import MonitorCore

/// The weekly report as a Slack Block Kit message: a header, the summary, the worst offenders
/// with their counts and a link to the status page. Slack rejects a whole message that breaks
/// one limit, so every piece is measured (in UTF-16 units, as Slack counts) before it is added.
public struct SlackReport: Codable, Sendable, Equatable {
    public var text: String
    public var blocks: [Block]

    /// Slack's own limit is 50; the rest of the message needs at most four.
    public static let maxOffenderSections = 8
    /// Offender lines shown before "and N more": a week's worst, not the whole fleet.
    public static let maxOffenders = 40
    static let nameLimit = 80

    public struct Block: Codable, Sendable, Equatable {
        public var type: String
        public var text: Text?
        public var elements: [Text]?
    }

    public struct Text: Codable, Sendable, Equatable {
        public var type: String
        public var text: String
        public var emoji: Bool?
    }

    public init(_ report: FleetReport, statusPageURL: String?) {
        let header = "📋 Jobwatch weekly report · \(report.period)"
        text = "Jobwatch weekly report: \(report.summary.text)"
        blocks = [
            Block(type: "header", text: Text(type: "plain_text", text: Self.prefix(header, SlackMessage.headerLimit), emoji: true)),
            Self.section(Self.summary(report)),
        ]
        let offenders = report.jobs.filter(\.hasProblems)
        let shown = offenders.prefix(Self.maxOffenders)
        var lines = shown.map(Self.line)
        if offenders.count > shown.count { lines.append("_and \(offenders.count - shown.count) more with problems_") }
        if !lines.isEmpty {
            blocks.append(Block(type: "divider", text: nil, elements: nil))
            blocks += Self.chunks(["*Worst offenders*"] + lines).map(Self.section)
        }
        if let url = statusPageURL {
            blocks.append(Block(type: "context", elements: [Text(type: "mrkdwn", text: "<\(url)|Status page>", emoji: nil)]))
        }
    }

    private static func summary(_ report: FleetReport) -> String {
        let s = report.summary
        let icon = s.missed + s.failed == 0 ? "✅" : "⚠️"
        return "\(icon) *\(escaped(s.text))*\n\(s.expected) runs expected, \(s.runs) started, "
            + "\(s.missed) missed, \(s.failed) failed"
    }

    /// `• *nightly-backup* — 3 missed, 1 failed · 71.4% ok · down 2h10m`
    private static func line(_ job: JobReport) -> String {
        var counts: [String] = []
        if job.missed > 0 { counts.append("\(job.missed) missed") }
        if job.failed > 0 { counts.append("\(job.failed) failed") }
        if job.overdue > 0 { counts.append("\(job.overdue) overdue") }
        var line = "• *\(escaped(prefix(job.job, nameLimit)))* — " + counts.joined(separator: ", ")
        line += " · \(FleetReport.percent(job.successRate)) ok"
        if job.downtimeS > 0 { line += " · down \(TimeWords.duration(job.downtimeS * 1000))" }
        return line
    }

    /// Lines packed into as few sections as fit the text limit, capped at
    /// `maxOffenderSections`; what does not fit is counted, never silently dropped.
    static func chunks(_ lines: [String]) -> [String] {
        var sections: [String] = []
        var current = ""
        for (index, line) in lines.enumerated() {
            let joined = current.isEmpty ? line : current + "\n" + line
            if joined.utf16.count <= SlackMessage.sectionTextLimit - 40 {
                current = joined
                continue
            }
            if sections.count + 1 == maxOffenderSections {
                current += "\n_and \(lines.count - index) more lines_"
                break
            }
            sections.append(current)
            current = line
        }
        return sections + [current]
    }

    private static func section(_ text: String) -> Block {
        Block(type: "section", text: Text(type: "mrkdwn", text: prefix(text, SlackMessage.sectionTextLimit), emoji: nil))
    }

    private static func prefix(_ text: String, _ limit: Int) -> String {
        guard text.utf16.count > limit else { return text }
        var out = ""
        for c in text {
            if out.utf16.count + c.utf16.count > limit - 1 { break }
            out.append(c)
        }
        return out + "…"
    }

    private static func escaped(_ text: String) -> String { SlackMessage.escaped(text) }
}
