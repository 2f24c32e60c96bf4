/// The generic webhook body of SPEC §3.3. The contract's keys are always present, `null`
/// when empty, so receivers can rely on the shape; `run` times are epoch milliseconds as in
/// `RunRecord`, its output cut to an excerpt.
public struct WebhookEvent: Codable, Sendable, Equatable {
    public var event: AlertEvent
    public var job: String
    public var state: String
    public var previousState: String
    /// The scheduled time concerned, RFC 3339 in the job's zone.
    public var occurrence: String?
    public var run: RunRecord?
    public var monitorURL: String?
    public var kind: IncidentKind
    public var summary: String
    public var since: String

    private enum CodingKeys: String, CodingKey {
        case event, job, state, previousState = "previous_state", occurrence, run, monitorURL = "monitor_url"
        case kind, summary, since
    }

    public init(_ event: AlertEvent, _ incident: Incident, spec: JobSpec, context: AlertContext) {
        let states = AlertWording.states(event, incident)
        self.event = event
        job = incident.job
        state = states.state
        previousState = states.previous
        occurrence = incident.occurrence.map { timestamp($0, timeZone: spec.timezone) }
        run = incident.lastRun.map { run in
            var excerpt = run
            excerpt.outputTail = run.outputTail.map { OutputExcerpt.tail($0) }
            return excerpt
        }
        monitorURL = context.link(to: incident.job)
        kind = incident.kind
        summary = AlertWording.headline(event, incident, spec)
        since = timestamp(incident.since, timeZone: spec.timezone)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(event, forKey: .event)
        try c.encode(job, forKey: .job)
        try c.encode(state, forKey: .state)
        try c.encode(previousState, forKey: .previousState)
        try c.encode(occurrence, forKey: .occurrence)
        try c.encode(run, forKey: .run)
        try c.encode(monitorURL, forKey: .monitorURL)
        try c.encode(kind, forKey: .kind)
        try c.encode(summary, forKey: .summary)
        try c.encode(since, forKey: .since)
    }
}
