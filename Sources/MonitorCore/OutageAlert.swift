/// The one alert sent when the monitor itself was down: no `jobmond` led from `from` to `to`,
/// and the listed jobs missed occurrences meanwhile. Their own missed alerts are inhibited
/// (recorded and visible, not paged), so an outage of the monitor pages once, not once per job.
public struct OutageAlert: Sendable, Equatable {
    public var from: Int64
    public var to: Int64
    public var jobs: [String]

    public static let kind = "monitor_down"

    public init(from: Int64, to: Int64, jobs: [String]) {
        self.from = from
        self.to = to
        self.jobs = jobs
    }

    /// "jobmond was down 14 min (09:02:10–09:16:40 UTC): 37 jobs missed meanwhile"
    public var summary: String {
        let minutes = max(1, (to - from + 30_000) / 60_000)
        let span = "\(timestamp(from, timeZone: "UTC")) to \(timestamp(to, timeZone: "UTC"))"
        return "jobmond was down \(minutes) min (\(span)): \(jobs.count) job\(jobs.count == 1 ? "" : "s") missed meanwhile"
    }

    /// Job names for a message, cut to about `limit` characters ("… and 12 more").
    func list(limit: Int, format: (String) -> String = { $0 }) -> String {
        var out = ""
        for (i, job) in jobs.enumerated() {
            let item = (i == 0 ? "" : ", ") + format(job)
            if out.count + item.count > limit - 20 { return out + " … and \(jobs.count - i) more" }
            out += item
        }
        return out
    }

    public func pagerDuty(routingKey: String, context: AlertContext) -> PagerDutyOutage {
        PagerDutyOutage(
            routingKey: routingKey, eventAction: "trigger", dedupKey: "jobwatch/monitor-down/\(from)",
            payload: .init(summary: OutputExcerpt.prefix(summary, utf16Limit: PagerDutyEvent.summaryLimit),
                           source: context.monitorHost, severity: "warning", timestamp: timestamp(to, timeZone: "UTC"),
                           component: "jobmond", eventClass: Self.kind,
                           customDetails: .init(downFrom: timestamp(from, timeZone: "UTC"), downTo: timestamp(to, timeZone: "UTC"),
                                                jobs: jobs)),
            links: context.statusPageURL.map { [PagerDutyEvent.Link(href: $0, text: "Status page")] })
    }

    public func slack(context: AlertContext) -> SlackMessage {
        var note = "Their own missed-run alerts are held back; `jobctl status` shows them as missed."
        if let url = context.statusPageURL { note += " <\(SlackMessage.escaped(url))|Status page>" }
        return SlackMessage(text: summary, blocks: [
            .init(type: "header", text: .plain("jobmond was down")),
            .init(type: "section", text: .markdown(SlackMessage.escaped(summary))),
            .init(type: "section", text: .markdown(list(limit: SlackMessage.excerptLimit) { "`\(SlackMessage.escaped($0))`" })),
            .init(type: "context", elements: [.markdown(note)]),
        ])
    }

    public func webhook(context: AlertContext) -> WebhookOutage {
        WebhookOutage(event: Self.kind, from: timestamp(from, timeZone: "UTC"), to: timestamp(to, timeZone: "UTC"),
                      jobs: jobs, summary: summary, monitorURL: context.statusPageURL)
    }
}

public struct PagerDutyOutage: Encodable, Sendable {
    let routingKey: String
    let eventAction: String
    let dedupKey: String
    let payload: Payload
    let links: [PagerDutyEvent.Link]?

    struct Payload: Encodable, Sendable {
        let summary: String
        let source: String
        let severity: String
        let timestamp: String
        let component: String
        let eventClass: String
        let customDetails: Details

        enum CodingKeys: String, CodingKey {
            case summary, source, severity, timestamp, component, eventClass = "class", customDetails = "custom_details"
        }
    }

    struct Details: Encodable, Sendable {
        let downFrom: String
        let downTo: String
        let jobs: [String]

        enum CodingKeys: String, CodingKey { case downFrom = "down_from", downTo = "down_to", jobs }
    }

    enum CodingKeys: String, CodingKey {
        case routingKey = "routing_key", eventAction = "event_action", dedupKey = "dedup_key", payload, links
    }
}

public struct WebhookOutage: Encodable, Sendable {
    let event: String
    let from: String
    let to: String
    let jobs: [String]
    let summary: String
    let monitorURL: String?

    enum CodingKeys: String, CodingKey { case event, from, to, jobs, summary, monitorURL = "monitor_url" }
}
