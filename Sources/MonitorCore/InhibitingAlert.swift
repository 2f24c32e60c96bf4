/// One alert that stands for many jobs' misses, which are recorded and visible but not paged
/// on their own (their incidents are `inhibitedBy` its kind): an outage of the monitor pages
/// once, not once per job, and so does a host that went silent.
public struct InhibitingAlert: Sendable, Equatable {
    public enum Cause: Sendable, Equatable {
        /// No `jobmond` led from `from` to `to`.
        case monitorDown(from: Int64, to: Int64)
        /// `host` has sent no report since `lastHeard` (nil: not since this leader started)
        /// while the listed jobs, last run there, missed; `jobsOnHost` of its jobs in all.
        case hostSilent(host: String, lastHeard: Int64?, jobsOnHost: Int)
    }

    public var cause: Cause
    public var jobs: [String]
    /// `trigger`, or `resolve` when a silent host reports again (an outage of the monitor is
    /// over by the time it is told, so it has no resolve).
    public var event: AlertEvent
    /// When it was raised or resolved, epoch milliseconds.
    public var at: Int64

    public static let monitorDown = "monitor_down"
    public static let hostSilent = "host_silent"

    public init(_ cause: Cause, jobs: [String], event: AlertEvent = .trigger, at: Int64) {
        self.cause = cause
        self.jobs = jobs
        self.event = event
        self.at = at
    }

    /// The incident kind it inhibits and the `kind` of its outbox entries.
    public var kind: String {
        switch cause {
        case .monitorDown: return Self.monitorDown
        case .hostSilent: return Self.hostSilent
        }
    }

    /// The name its outbox entries carry where a job's would: keeps a host's trigger and
    /// resolve in order, and can never be a job's name.
    public var subject: String {
        switch cause {
        case .monitorDown: return "jobmond"
        case .hostSilent(let host, _, _): return "host:\(host)"
        }
    }

    /// The silent host; nil for the monitor.
    public var host: String? {
        if case .hostSilent(let host, _, _) = cause { return host }
        return nil
    }

    public var dedupKey: String {
        switch cause {
        case .monitorDown(let from, _): return "jobwatch/monitor-down/\(from)"
        case .hostSilent(let host, _, _): return "jobwatch/host-silent/\(host)"
        }
    }

    /// "jobmond was down 14 min (09:02:10 to 09:16:40 UTC): 37 jobs missed meanwhile",
    /// "host web-3 silent since 09:02:10 UTC: 7 of its 9 jobs missed", "host web-3 reports again".
    public var summary: String {
        switch cause {
        case .monitorDown(let from, let to):
            let minutes = max(1, (to - from + 30_000) / 60_000)
            let span = "\(timestamp(from, timeZone: "UTC")) to \(timestamp(to, timeZone: "UTC"))"
            return "jobmond was down \(minutes) min (\(span)): \(jobs.count) job\(jobs.count == 1 ? "" : "s") missed meanwhile"
        case .hostSilent(let host, let lastHeard, let jobsOnHost):
            if event == .resolve { return "host \(host) reports again (\(jobs.count) of its jobs had missed)" }
            let since = lastHeard.map { " since \(timestamp($0, timeZone: "UTC"))" } ?? ""
            return "host \(host) silent\(since): \(jobs.count) of its \(jobsOnHost) jobs missed"
        }
    }

    var heading: String {
        switch cause {
        case .monitorDown: return "jobmond was down"
        case .hostSilent(let host, _, _): return event == .resolve ? "Host \(host) reports again" : "Host \(host) is silent"
        }
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

    public func pagerDuty(routingKey: String, context: AlertContext) -> PagerDutyInhibiting {
        guard event == .trigger else {
            return PagerDutyInhibiting(routingKey: routingKey, eventAction: "resolve", dedupKey: dedupKey, payload: nil, links: nil)
        }
        let details: PagerDutyInhibiting.Details
        let source: String
        switch cause {
        case .monitorDown(let from, let to):
            details = .init(downFrom: timestamp(from, timeZone: "UTC"), downTo: timestamp(to, timeZone: "UTC"), jobs: jobs)
            source = context.monitorHost
        case .hostSilent(let host, let lastHeard, let jobsOnHost):
            details = .init(host: host, lastHeard: lastHeard.map { timestamp($0, timeZone: "UTC") }, jobsOnHost: jobsOnHost, jobs: jobs)
            source = host
        }
        return PagerDutyInhibiting(
            routingKey: routingKey, eventAction: "trigger", dedupKey: dedupKey,
            payload: .init(summary: OutputExcerpt.prefix(summary, utf16Limit: PagerDutyEvent.summaryLimit),
                           source: source, severity: kind == Self.hostSilent ? "critical" : "warning",
                           timestamp: timestamp(at, timeZone: "UTC"), component: kind == Self.hostSilent ? source : "jobmond",
                           eventClass: kind, customDetails: details),
            links: context.statusPageURL.map { [PagerDutyEvent.Link(href: $0, text: "Status page")] })
    }

    public func slack(context: AlertContext) -> SlackMessage {
        var note = event == .resolve
            ? "Each job's own incident ends with its next good run."
            : "Their own missed-run alerts are held back; `jobctl status` shows them as missed."
        if let url = context.statusPageURL { note += " <\(SlackMessage.escaped(url))|Status page>" }
        return SlackMessage(text: SlackMessage.escaped(summary), blocks: [
            .init(type: "header", text: .plain(OutputExcerpt.prefix(SlackMessage.visible(heading), utf16Limit: SlackMessage.headerLimit))),
            .init(type: "section", text: .markdown(OutputExcerpt.prefix(SlackMessage.escaped(summary), utf16Limit: SlackMessage.sectionTextLimit))),
            .init(type: "section", text: .markdown(list(limit: SlackMessage.excerptLimit) { "`\(SlackMessage.escaped($0))`" })),
            .init(type: "context", elements: [.markdown(note)]),
        ])
    }

    public func webhook(context: AlertContext) -> WebhookInhibiting {
        var body = WebhookInhibiting(event: kind, action: event.rawValue, jobs: jobs, summary: summary, monitorURL: context.statusPageURL)
        switch cause {
        case .monitorDown(let from, let to):
            (body.from, body.to) = (timestamp(from, timeZone: "UTC"), timestamp(to, timeZone: "UTC"))
        case .hostSilent(let host, let lastHeard, let jobsOnHost):
            (body.host, body.lastHeard, body.jobsOnHost) = (host, lastHeard.map { timestamp($0, timeZone: "UTC") }, jobsOnHost)
        }
        return body
    }
}

public struct PagerDutyInhibiting: Encodable, Sendable {
    let routingKey: String
    let eventAction: String
    let dedupKey: String
    let payload: Payload?
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

    /// `down_from`/`down_to` for the monitor, `host`/`last_heard`/`jobs_on_host` for a host.
    struct Details: Encodable, Sendable {
        var downFrom: String?
        var downTo: String?
        var host: String?
        var lastHeard: String?
        var jobsOnHost: Int?
        var jobs: [String]

        enum CodingKeys: String, CodingKey {
            case downFrom = "down_from", downTo = "down_to", host, lastHeard = "last_heard", jobsOnHost = "jobs_on_host", jobs
        }
    }

    enum CodingKeys: String, CodingKey {
        case routingKey = "routing_key", eventAction = "event_action", dedupKey = "dedup_key", payload, links
    }
}

/// `{"event": "monitor_down" | "host_silent", "action": "trigger" | "resolve", "jobs", "summary",
/// "monitor_url"}` plus `from`/`to` (monitor) or `host`/`last_heard`/`jobs_on_host` (host).
public struct WebhookInhibiting: Encodable, Sendable {
    let event: String
    let action: String
    var from: String?
    var to: String?
    var host: String?
    var lastHeard: String?
    var jobsOnHost: Int?
    let jobs: [String]
    let summary: String
    let monitorURL: String?

    init(event: String, action: String, jobs: [String], summary: String, monitorURL: String?) {
        self.event = event
        self.action = action
        self.jobs = jobs
        self.summary = summary
        self.monitorURL = monitorURL
    }

    enum CodingKeys: String, CodingKey {
        case event, action, from, to, host, lastHeard = "last_heard", jobsOnHost = "jobs_on_host", jobs, summary
        case monitorURL = "monitor_url"
    }
}
