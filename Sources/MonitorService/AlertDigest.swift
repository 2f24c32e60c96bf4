import Foundation
import JobwatchCore
import MonitorCore

/// What a lane sends for the alerts that waited in it (`StormControl`): each alone when there
/// is one (or the channel is not grouped), else one digest per group — the event (trigger,
/// reminder, resolve) and the channel's `group_by` labels (`kind` by default, `host`) — in the
/// order they came. A job appears at most once per round of digests, so a job's trigger still
/// goes before its resolve.
///
/// Slack: one Block Kit message naming every job (inline code, ≤ 2,900 characters per section,
/// ≤ 45 sections per message; a bigger group continues in the next message). Webhook: one JSON
/// object `{"event": "digest", "alert_event", "kind", "count", "jobs", "alerts": [the single
/// alerts' bodies], "part", "parts"}` per 500 alerts.
enum AlertDigest {
    struct Grouping: Sendable {
        let kind: MonitorConfig.ChannelKind
        let burst: Int
        let intervalMs: Int64
        var groupBy: [MonitorConfig.GroupLabel] = [.kind]
    }

    struct Message {
        let entries: [OutboxEntry]
        /// Nil: nothing to send (entries trimmed while pending), only to acknowledge.
        let body: String?
        let event: String
        let about: String
        var jobs: [String] { entries.map(\.job) }
    }

    static let webhookAlertsPerMessage = 500
    static let slackSectionCharacters = SlackMessage.excerptLimit
    static let slackSectionsPerMessage = 45

    static func messages(_ entries: [OutboxEntry], grouping: Grouping?, statusPageURL: String?) -> [Message] {
        var out: [Message] = []
        let trimmed = entries.filter(\.isDeleted)
        if !trimmed.isEmpty { out.append(Message(entries: trimmed, body: nil, event: "", about: "trimmed alerts")) }
        let live = entries.filter { !$0.isDeleted }
        guard let grouping, grouping.kind != .pagerduty, live.count > 1 else {
            return out + live.map(single)
        }
        var round: [OutboxEntry] = []
        var jobs: Set<String> = []
        for entry in live {
            if jobs.contains(entry.job) {
                out += digests(round, grouping, statusPageURL)
                round = []
                jobs = []
            }
            round.append(entry)
            jobs.insert(entry.job)
        }
        return out + digests(round, grouping, statusPageURL)
    }

    private static func single(_ entry: OutboxEntry) -> Message {
        Message(entries: [entry], body: entry.body, event: entry.event, about: "\(entry.event) for \(entry.job)")
    }

    private static func digests(_ round: [OutboxEntry], _ grouping: Grouping, _ statusPageURL: String?) -> [Message] {
        var order: [String] = []
        var groups: [String: [OutboxEntry]] = [:]
        for entry in round {
            let key = [entry.event, grouping.groupBy.contains(.kind) ? entry.kind : "",
                       grouping.groupBy.contains(.host) ? entry.host : ""].joined(separator: "\u{1F}")
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(entry)
        }
        return order.flatMap { key -> [Message] in
            let members = groups[key]!
            guard members.count > 1 else { return members.map(single) }
            switch grouping.kind {
            case .slack: return slack(members, grouping, statusPageURL)
            case .webhook: return webhook(members, grouping, statusPageURL)
            case .pagerduty: return members.map(single)
            }
        }
    }

    /// "12 jobs missed their run", "12 jobs recovered (missed)", "12 jobs still failed"; a
    /// digest of several kinds (`group_by` without `kind`) says "alerting"; one grouped by host
    /// ends "on db1".
    static func title(count: Int, kind: String?, event: String, host: String? = nil) -> String {
        let place = host.map { $0.isEmpty ? "" : " on \($0)" } ?? ""
        switch event {
        case "resolve": return "\(count) jobs recovered" + (kind.map { " (\($0))" } ?? "") + place
        case "repeat": return "\(count) jobs still \(kind ?? "alerting")" + place
        default:
            let phrase = kind.map {
                ["missed": "missed their run", "lost": "lost their run", "overdue": "are overdue",
                 "config_error": "have a configuration error", "slow": "are running slow",
                 "fast": "finished unusually fast"][$0] ?? $0
            } ?? "alerting"
            return "\(count) jobs \(phrase)" + place
        }
    }

    /// The title of one group's digest: its members share the event and the grouped labels.
    private static func title(_ members: [OutboxEntry], _ grouping: Grouping) -> String {
        let first = members[0]
        return title(count: members.count, kind: grouping.groupBy.contains(.kind) ? first.kind : nil, event: first.event,
                     host: grouping.groupBy.contains(.host) ? first.host : nil)
    }

    private static func slack(_ members: [OutboxEntry], _ grouping: Grouping, _ statusPageURL: String?) -> [Message] {
        // Sections of names, then messages of sections.
        var sections: [[OutboxEntry]] = [[]]
        var length = 0
        for entry in members {
            let name = "`\(SlackMessage.escaped(entry.job))`, "
            if length + name.count > slackSectionCharacters, !sections[sections.count - 1].isEmpty {
                sections.append([])
                length = 0
            }
            sections[sections.count - 1].append(entry)
            length += name.count
        }
        let parts = stride(from: 0, to: sections.count, by: slackSectionsPerMessage).map {
            Array(sections[$0..<min($0 + slackSectionsPerMessage, sections.count)])
        }
        let event = members[0].event
        let title = title(members, grouping)
        var note = "Grouped: more than \(grouping.burst) alerts within \(grouping.intervalMs / 1000) s on this channel."
        if let statusPageURL { note += " <\(SlackMessage.escaped(statusPageURL))|Status page>" }
        let encoder = JSONEncoder()
        return parts.enumerated().map { index, part in
            let heading = parts.count > 1 ? "\(title) (part \(index + 1) of \(parts.count))" : title
            var blocks = [SlackMessage.Block(type: "header",
                                             text: .plain(OutputExcerpt.prefix(SlackMessage.visible(heading), utf16Limit: SlackMessage.headerLimit)))]
            for section in part {
                let names = section.map { "`\(SlackMessage.escaped($0.job))`" }.joined(separator: ", ")
                blocks.append(.init(type: "section", text: .markdown(names)))
            }
            blocks.append(.init(type: "context", elements: [.markdown(note)]))
            let entries = part.flatMap { $0 }
            let body = (try? encoder.encode(SlackMessage(text: SlackMessage.escaped(heading), blocks: blocks)))
                .map { String(decoding: $0, as: UTF8.self) }
            return Message(entries: entries, body: body ?? "{}", event: event, about: "digest: \(heading)")
        }
    }

    private static func webhook(_ members: [OutboxEntry], _ grouping: Grouping, _ statusPageURL: String?) -> [Message] {
        let (kind, event) = (grouping.groupBy.contains(.kind) ? members[0].kind : "mixed", members[0].event)
        let chunks = stride(from: 0, to: members.count, by: webhookAlertsPerMessage).map {
            Array(members[$0..<min($0 + webhookAlertsPerMessage, members.count)])
        }
        return chunks.enumerated().map { index, chunk in
            let alerts = chunk.map { (try? JSONSerialization.jsonObject(with: Data($0.body.utf8))) ?? $0.body }
            var object: [String: Any] = [
                "event": "digest", "alert_event": event, "kind": kind, "count": chunk.count, "jobs": chunk.map(\.job),
                "alerts": alerts, "part": index + 1, "parts": chunks.count,
                "monitor_url": statusPageURL.map { $0 as Any } ?? NSNull(),
            ]
            if grouping.groupBy.contains(.host) { object["host"] = chunk[0].host }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
            let about = "digest: \(title(chunk, grouping)) (part \(index + 1) of \(chunks.count))"
            return Message(entries: chunk, body: String(decoding: data, as: UTF8.self), event: event, about: about)
        }
    }
}
