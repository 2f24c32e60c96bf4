/// A PagerDuty Events API v2 event (`POST https://events.pagerduty.com/v2/enqueue`).
/// Repeats are sent as `trigger` on the same `dedup_key`, which PagerDuty logs on the open
/// alert; a resolve carries only the three fields the API needs.
public struct PagerDutyEvent: Codable, Sendable, Equatable {
    public var routingKey: String
    public var eventAction: String
    public var dedupKey: String
    public var payload: Payload?
    public var links: [Link]?
    public var client: String?
    public var clientURL: String?

    /// PagerDuty's limit on `payload.summary`.
    public static let summaryLimit = 1024

    public struct Payload: Codable, Sendable, Equatable {
        public var summary: String
        public var source: String
        public var severity: String
        public var timestamp: String
        public var component: String
        public var eventClass: String
        public var customDetails: Details

        private enum CodingKeys: String, CodingKey {
            case summary, source, severity, timestamp, component, eventClass = "class", customDetails = "custom_details"
        }
    }

    public struct Details: Codable, Sendable, Equatable {
        public var job: String
        public var state: String
        public var reason: String
        public var schedule: String?
        public var timezone: String
        public var occurrence: String?
        public var lastRun: String
        public var host: String?
        public var exitCode: Int?
        public var signal: Int?
        public var durationMs: Int64?
        public var outputTail: String?
        public var repeats: Int

        private enum CodingKeys: String, CodingKey {
            case job, state, reason, schedule, timezone, occurrence, lastRun = "last_run", host
            case exitCode = "exit_code", signal, durationMs = "duration_ms", outputTail = "output_tail", repeats
        }
    }

    public struct Link: Codable, Sendable, Equatable {
        public var href: String
        public var text: String
    }

    private enum CodingKeys: String, CodingKey {
        case routingKey = "routing_key", eventAction = "event_action", dedupKey = "dedup_key", payload, links
        case client, clientURL = "client_url"
    }

    public static func dedupKey(for job: String) -> String { "jobwatch/\(job)" }

    public init(_ event: AlertEvent, _ incident: Incident, spec: JobSpec, routingKey: String, context: AlertContext) {
        self.routingKey = routingKey
        dedupKey = Self.dedupKey(for: incident.job)
        guard event != .resolve else {
            eventAction = "resolve"
            return
        }
        eventAction = "trigger"
        let run = incident.lastRun
        let details = Details(
            job: incident.job, state: AlertWording.states(event, incident).state, reason: incident.reason,
            schedule: spec.schedule?.expression, timezone: spec.timezone,
            occurrence: incident.occurrence.map { timestamp($0, timeZone: spec.timezone) },
            lastRun: AlertWording.lastRun(run, spec), host: run?.host, exitCode: run?.exitCode, signal: run?.signal,
            durationMs: run?.durationMs, outputTail: run?.outputTail.map { OutputExcerpt.tail($0) },
            repeats: incident.repeats)
        payload = Payload(
            summary: OutputExcerpt.prefix(AlertWording.headline(event, incident, spec), utf16Limit: Self.summaryLimit),
            source: run?.host ?? context.monitorHost,
            severity: event == .flapping ? "warning" : incident.kind.severity,
            timestamp: timestamp(incident.since, timeZone: "UTC"), component: incident.job,
            eventClass: event == .flapping ? "flapping" : incident.kind.rawValue, customDetails: details)
        if let link = context.link(to: incident.job) {
            links = [Link(href: link, text: "\(incident.job) on the Jobwatch status page")]
            client = "Jobwatch"
            clientURL = link
        }
    }
}
