import Foundation
import JobwatchCore
import Logging
import MonitorCore

/// Turns an alert into one outbox entry per channel of the job, with the finished request
/// body, plus its line in `mon:changes`. Secrets are resolved once per leadership or reload,
/// never per alert.
struct AlertRouting {
    private let context: AlertContext
    private let channels: [String: MonitorConfig.Channel]
    private let targets: [String: String]
    private let logger: Logger
    private let encoder: JSONEncoder

    init(environment: MonitorEnvironment) {
        let monitor = environment.monitor
        context = AlertContext(statusPageURL: monitor.publicURL, monitorHost: ProcessInfo.processInfo.hostName)
        channels = monitor.channels
        logger = environment.logger
        var targets: [String: String] = [:]
        for (name, channel) in monitor.channels {
            do { targets[name] = try channel.target.resolve() } catch {
                environment.logger.error("channel \(name): \(error)")
            }
        }
        self.targets = targets
        encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
    }

    /// An alert that stands for many jobs (the monitor was down, a host is silent).
    func deliver(_ alert: InhibitingAlert, to names: [String], into writes: inout BatchWrites) {
        for name in names {
            guard let channel = channels[name], let target = targets[name] else { continue }
            let body: Data?
            switch channel.kind {
            case .pagerduty: body = try? encoder.encode(alert.pagerDuty(routingKey: target, context: context))
            case .slack: body = try? encoder.encode(alert.slack(context: context))
            case .webhook: body = try? encoder.encode(alert.webhook(context: context))
            }
            guard let body else { continue }
            writes.delivery(channel: name, kind: channel.kind.rawValue, incident: alert.kind, job: alert.subject,
                            event: alert.event.rawValue, host: alert.host, body: String(decoding: body, as: UTF8.self))
        }
        logger.warning("\(alert.summary)\(alert.event == .trigger ? "; one alert instead of one per job" : "")")
    }

    func deliver(_ event: AlertEvent, _ incident: Incident, spec: JobSpec, into writes: inout BatchWrites) {
        let problem = incident.kind.rawValue
        let up = JobState.up.rawValue
        let (from, to) = switch event {
        case .trigger: (incident.previousState.rawValue, problem)
        case .repeat: (problem, problem)
        case .resolve: (problem, up)
        case .flapping: (up, up)   // a notice about the job, not a change of its state
        }
        writes.change(incident.job, from: from, to: to, at: writes.now, reason: incident.reason, alert: event.rawValue)
        for name in spec.channels {
            guard let channel = channels[name], let target = targets[name] else {
                logger.error("job \(incident.job): alert for unknown or unreadable channel \(name) dropped")
                continue
            }
            let body: Data?
            switch channel.kind {
            case .pagerduty:
                body = try? encoder.encode(PagerDutyEvent(event, incident, spec: spec, routingKey: target, context: context))
            case .slack: body = try? encoder.encode(SlackMessage(event, incident, spec: spec, context: context))
            case .webhook: body = try? encoder.encode(WebhookEvent(event, incident, spec: spec, context: context))
            }
            guard let body else { continue }
            writes.delivery(channel: name, kind: channel.kind.rawValue, incident: problem, job: incident.job, event: event.rawValue,
                            host: incident.lastRun?.host, body: String(decoding: body, as: UTF8.self))
        }
    }
}
