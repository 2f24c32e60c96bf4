/// A Slack incoming-webhook message in Block Kit, kept inside Slack's limits whatever the
/// job's name or output (header 150 characters, field 2,000, section text 3,000, 50 blocks);
/// Slack rejects the whole message when one is exceeded.
public struct SlackMessage: Codable, Sendable, Equatable {
    /// Shown in notifications and by clients that cannot draw blocks.
    public var text: String
    public var blocks: [Block]

    public static let headerLimit = 150
    public static let fieldLimit = 2000
    public static let sectionTextLimit = 3000
    /// Leaves room under `sectionTextLimit` and keeps a message short enough to read.
    public static let excerptLimit = 2900

    public struct Block: Codable, Sendable, Equatable {
        public var type: String
        public var text: Text?
        public var fields: [Text]?
        public var elements: [Text]?

        public init(type: String, text: Text? = nil, fields: [Text]? = nil, elements: [Text]? = nil) {
            self.type = type
            self.text = text
            self.fields = fields
            self.elements = elements
        }
    }

    public struct Text: Codable, Sendable, Equatable {
        public var type: String
        public var text: String
        public var emoji: Bool?

        public static func plain(_ text: String) -> Text { Text(type: "plain_text", text: text, emoji: true) }
        public static func markdown(_ text: String) -> Text { Text(type: "mrkdwn", text: text, emoji: nil) }
    }

    /// A message built elsewhere (digests, the monitor-outage alert) from these same blocks.
    public init(text: String, blocks: [Block]) {
        self.text = text
        self.blocks = blocks
    }

    public init(_ event: AlertEvent, _ incident: Incident, spec: JobSpec, context: AlertContext) {
        let headline = AlertWording.headline(event, incident, spec)
        let icon = event == .resolve ? "✅" : event == .repeat ? "🔁" : event == .flapping ? "⚠️" : "🔴"
        // The notification text is mrkdwn too: a host name like "<!channel>" must not ping anyone.
        text = Self.escaped(headline)
        blocks = [
            Block(type: "header", text: .plain(OutputExcerpt.prefix("\(icon) \(Self.visible(headline))", utf16Limit: Self.headerLimit))),
            Block(
                type: "section",
                text: .markdown(OutputExcerpt.prefix(Self.escaped(Self.detail(event, incident)), utf16Limit: Self.sectionTextLimit)),
                fields: Self.fields(event, incident, spec).map {
                    .markdown(OutputExcerpt.prefix($0, utf16Limit: Self.fieldLimit))
                }),
        ]
        if event != .resolve, let tail = incident.lastRun?.outputTail, !tail.isEmpty {
            blocks.append(Block(type: "section", text: .markdown(Self.codeBlock(tail, limit: Self.excerptLimit))))
        }
        var footer = "Since \(timestamp(incident.since, timeZone: spec.timezone))"
        if incident.repeats > 0 { footer += " · reminder \(incident.repeats)" }
        if let link = context.link(to: incident.job) { footer += " · <\(link)|Status page>" }
        blocks.append(Block(type: "context", elements: [.markdown(footer)]))
    }

    private static func detail(_ event: AlertEvent, _ incident: Incident) -> String {
        switch event {
        case .trigger: return incident.reason
        case .repeat: return "Still unresolved: \(incident.reason)"
        case .resolve: return "Was \(incident.kind.rawValue): \(incident.reason)"
        case .flapping: return "Last was \(incident.kind.rawValue): \(incident.reason)"
        }
    }

    private static func fields(_ event: AlertEvent, _ incident: Incident, _ spec: JobSpec) -> [String] {
        let run = incident.lastRun
        let schedule = spec.schedule.map { "`\($0.expression)` (\(spec.timezone))" } ?? "none (\(spec.timezone))"
        let exit = run.flatMap { $0.signal.map { "signal \($0)" } ?? $0.exitCode.map(String.init) } ?? "—"
        let duration = run.map { $0.durationMs.map(span) ?? "still running" } ?? "—"
        let lastRun = run.map { timestamp($0.startedAt, timeZone: spec.timezone) } ?? "never"
        return [
            "*State*\n\(AlertWording.states(event, incident).state)",
            "*Job*\n\(escaped(incident.job))",
            "*Schedule*\n\(escaped(schedule))",
            "*Last run*\n\(lastRun)",
            "*Host*\n\(escaped(run?.host ?? "—"))",
            "*Duration*\n\(duration)",
            "*Exit code*\n\(exit)",
        ]
    }

    /// Slack's mrkdwn treats `&`, `<` and `>` as control characters (`<!channel>`, `<@U1>`,
    /// `<http://x|y>` are mentions and links); terminal control characters (ANSI escapes,
    /// NUL) become U+FFFD so nothing a job or a host sends reaches the reader as markup.
    public static func escaped(_ text: String) -> String {
        var out = ""
        for character in text { out += escaped(character) }
        return out
    }

    private static func escaped(_ character: Character) -> String {
        switch character {
        case "&": return "&amp;"
        case "<": return "&lt;"
        case ">": return "&gt;"
        default: return isControl(character) ? "\u{FFFD}" : String(character)
        }
    }

    /// Plain text (headers) is never parsed for mentions, but control characters still go.
    public static func visible(_ text: String) -> String {
        String(text.map { isControl($0) ? "\u{FFFD}" : $0 })
    }

    private static func isControl(_ character: Character) -> Bool {
        guard character != "\n", character != "\t" else { return false }
        return character.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// The end of the output as a code block of at most `limit` characters, escaped before
    /// it is measured so entities never push it over; a ``` inside would close the block early.
    static func codeBlock(_ output: String, limit: Int) -> String {
        let fence = "```"
        let safe = output.replacing(fence, with: "`\u{200B}`\u{200B}`")
        let budget = limit - 2 * (fence.count + 1) - OutputExcerpt.marker.utf16.count
        var kept: [String] = []
        var used = 0
        for character in safe.reversed() {
            let piece = escaped(character)
            if used + piece.utf16.count > budget { break }
            kept.append(piece)
            used += piece.utf16.count
        }
        let cut = kept.count < safe.count ? OutputExcerpt.marker : ""
        return fence + "\n" + cut + kept.reversed().joined() + "\n" + fence
    }
}
