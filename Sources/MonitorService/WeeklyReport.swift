import CronSchedule
import FleetReport
import JobwatchCore
import Foundation
import Logging
import RedisLease
import ServiceLifecycle

/// SPEC §3.4: on `monitor.report.schedule` in `monitor.report.timezone`, the leader sends the
/// report for the period that just ended (previous occurrence of the schedule → this one) to
/// `monitor.report.channels` as a Slack Block Kit message.
///
/// Exactly once per period: one script sets `<prefix>mon:report:<period-start>` (NX) and
/// enqueues the message into `mon:outbox`, only while this replica holds the leader lease.
/// The marker and the entry are written together or not at all, so two replicas at the same
/// minute, or a restart just after the marker, can never send it twice nor lose it; the
/// AlertDispatcher then delivers the entry with its retries, as it does alerts.
public final class WeeklyReport: Service, Sendable {
    private let environment: MonitorEnvironment
    private let leadership: Leadership
    private let history: FleetHistory

    /// A replica that was down at the scheduled minute still sends when it leads within this
    /// long after it; later, a report would arrive as a surprise, so it is skipped.
    static let catchUpMs: Int64 = 6 * 3_600_000
    /// The sent marker outlives any period the schedule can have (`every` is at most 31 days).
    static let markerTTLMs: Int64 = 40 * 86_400_000

    /// KEYS: leader, marker, outbox   ARGV: owner, marker TTL, then channel/body pairs.
    static let enqueue = RedisScript("""
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
        if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
        for i = 3, #ARGV, 2 do
          redis.call('XADD', KEYS[3], '*', 'channel', ARGV[i], 'type', 'report', 'kind', 'report', 'job', 'weekly-report', 'event', 'report', 'body', ARGV[i + 1])
        end
        return 1
        """)

    public init(environment: MonitorEnvironment, leadership: Leadership) {
        self.environment = environment
        self.leadership = leadership
        history = FleetHistory(environment: environment)
    }

    /// Until shutdown. `monitor.report` is read again at every wake-up, so a SIGHUP that
    /// changes its schedule or channels applies from the next one.
    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            var plan: (settings: MonitorConfig.WeeklyReport, schedule: Schedule?)?
            while !Task.isCancelled {
                let settings = self.environment.monitor.report
                if plan?.settings.schedule != settings.schedule || plan?.settings.timezone != settings.timezone
                    || plan?.settings.channels != settings.channels {
                    plan = (settings, self.schedule(settings))
                    let pagerDuty = settings.channels.filter { self.environment.monitor.channels[$0]?.kind == .pagerduty }
                    if !pagerDuty.isEmpty { self.environment.logger.warning("monitor.report.channels: \(pagerDuty) are PagerDuty; not sent there") }
                }
                let now = self.environment.clock()
                var next = now + 1000
                if let schedule = plan?.schedule, let report = plan.map({ self.sendable($0.settings) }), !report.channels.isEmpty {
                    if self.leadership.isLeader, let due = Self.duePeriod(schedule, now: now) {
                        do {
                            try await self.send(from: due.from, to: due.to, settings: report)
                        } catch is CancellationError {
                            return
                        } catch {
                            self.environment.logger.warning("weekly report: \(error)")
                        }
                    }
                    next = (schedule.next(after: now / 1000) ?? Int64.max / 1000) * 1000
                }
                // Wake at the next occurrence, but at least every second: leadership or a reload
                // may arrive meanwhile, and a report still owed is then sent at once.
                try await Task.sleep(nanoseconds: UInt64(max(50, min(1000, next - now))) * 1_000_000)
            }
        }
    }

    /// The schedule, or nil (said once per change) when it does not parse.
    private func schedule(_ settings: MonitorConfig.WeeklyReport) -> Schedule? {
        do {
            return try Schedule(settings.schedule, timeZone: settings.timezone)
        } catch {
            environment.logger.error("monitor.report: \(error); no weekly report will be sent")
            return nil
        }
    }

    /// The message is Slack Block Kit (a webhook receives it as is); PagerDuty takes events only.
    private func sendable(_ settings: MonitorConfig.WeeklyReport) -> MonitorConfig.WeeklyReport {
        let channels = environment.monitor.channels
        let pagerDuty = settings.channels.filter { channels[$0]?.kind == .pagerduty }
        guard !pagerDuty.isEmpty else { return settings }
        var report = settings
        report.channels.removeAll { pagerDuty.contains($0) }
        return report
    }

    /// The period that ended at the latest occurrence, if that was recently enough to send.
    static func duePeriod(_ schedule: Schedule, now: Int64) -> (from: Int64, to: Int64)? {
        guard let end = schedule.previous(atOrBefore: now / 1000), now - end * 1000 <= catchUpMs,
              let start = schedule.previous(atOrBefore: end - 1) else { return nil }
        return (start * 1000, end * 1000)
    }

    private func send(from: Int64, to: Int64, settings: MonitorConfig.WeeklyReport) async throws {
        let store = environment.store
        let marker = store.prefix + "mon:report:\(from)"
        // Cheap check first: every leader tick passes here, the report is computed only once.
        if try await environment.shared.command(["EXISTS", marker]).integer == 1 { return }
        let report = try await history.report(from: from, to: to, timeZone: settings.timezone)
        let url = environment.monitor.publicURL
        let message = SlackReport(report, statusPageURL: url)
        let body = String(decoding: try JSONEncoder().encode(message), as: UTF8.self)
        let me = environment.replica
        let args = [me, String(Self.markerTTLMs)] + settings.channels.flatMap { [$0, body] }
        let result = try await environment.shared.run { c in
            try c.evaluate(Self.enqueue, keys: [store.leader, marker, store.outbox], args: args)
        }
        if case .error(let message) = result { throw RedisError(.server, message) }
        if result.integer == 1 {
            environment.logger.notice("weekly report queued for \(settings.channels.joined(separator: ", ")): \(report.summary.text)")
        }
    }
}
