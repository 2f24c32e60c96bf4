/// Storm control of one channel, as a pure state machine: the lane says what arrived and
/// what it sent, and when; this says what to send alone, what waits, and when what waits goes
/// out as digests (`AlertDigest`). No I/O, no clock of its own.
///
/// - On a quiet channel an alert goes out at once, alone; so do the next ones, up to `burst`
///   messages per `interval`.
/// - Beyond that, alerts wait. What waits goes out as digests (one per group) `wait` after the
///   first of them began waiting, and never sooner than `interval` after the previous digests:
///   a storm is a few digests per interval, never a queue of thousands of messages, so an
///   unrelated alert waits about one interval at most.
/// - Once one alert waits, every later one waits too: a job's resolve never overtakes its
///   trigger.
/// - A reminder (`repeat`) of a job notified here less than `repeatInterval` ago is dropped
///   (acknowledged, not sent).
struct StormControl {
    struct Settings: Sendable, Equatable {
        /// Messages sent alone per `intervalMs`; 0: never group (PagerDuty, `group_burst: 0`).
        var burst: Int
        var waitMs: Int64
        var intervalMs: Int64
        /// 0: every reminder goes out.
        var repeatIntervalMs: Int64

        static let ungrouped = Settings(burst: 0, waitMs: 0, intervalMs: 0, repeatIntervalMs: 0)
    }

    /// What to do now with what arrived or waited.
    struct Plan {
        /// Send each alone, in this order.
        var alone: [OutboxEntry] = []
        /// Send as digests (`AlertDigest.messages`), in this order.
        var grouped: [OutboxEntry] = []
        /// Acknowledge without sending: reminders too soon, entries trimmed while pending.
        var dropped: [OutboxEntry] = []
    }

    var settings: Settings
    /// When each message of the current interval went out.
    private var sent: [Int64] = []
    private(set) var waiting: [OutboxEntry] = []
    private var waitingSince: Int64?
    private var lastDigests: Int64?
    /// When each job's last trigger or reminder went to this channel.
    private var notified: [String: Int64] = [:]

    init(settings: Settings) {
        self.settings = settings
    }

    /// When what waits is due to go out as digests; nil when nothing waits.
    var releaseAt: Int64? {
        guard let waitingSince else { return nil }
        let afterDigests = lastDigests.map { $0 + settings.intervalMs } ?? waitingSince
        return max(waitingSince + settings.waitMs, afterDigests)
    }

    mutating func arrived(_ entries: [OutboxEntry], now: Int64) -> Plan {
        sent.removeAll { $0 <= now - settings.intervalMs }
        var plan = Plan()
        for entry in entries where admit(entry, now: now, into: &plan) {
            if settings.burst == 0 || (waiting.isEmpty && sent.count + plan.alone.count < settings.burst) {
                plan.alone.append(entry)
            } else {
                if waiting.isEmpty { waitingSince = now }
                waiting.append(entry)
            }
        }
        return plan
    }

    /// What waited, and what arrived meanwhile, all as digests now.
    mutating func release(_ entries: [OutboxEntry], now: Int64) -> Plan {
        var plan = Plan()
        for entry in entries where admit(entry, now: now, into: &plan) { waiting.append(entry) }
        plan.grouped = waiting
        waiting = []
        waitingSince = nil
        lastDigests = now
        return plan
    }

    /// A message (alone or a digest) went out at `now`.
    mutating func sent(at now: Int64) {
        sent.append(now)
    }

    /// False when the entry is dropped (into `plan.dropped`).
    private mutating func admit(_ entry: OutboxEntry, now: Int64, into plan: inout Plan) -> Bool {
        if entry.isDeleted {
            plan.dropped.append(entry)
            return false
        }
        switch entry.event {
        case "resolve":
            notified[entry.job] = nil
        case "repeat":
            if settings.repeatIntervalMs > 0, let last = notified[entry.job], now - last < settings.repeatIntervalMs {
                plan.dropped.append(entry)
                return false
            }
            notified[entry.job] = now
        default:
            notified[entry.job] = now
        }
        return true
    }
}
