/// The `monitor:` section: only `jobmond` acts on it, but `jobctl check` validates it
/// everywhere so a broken channel is caught before the monitor needs it.
public struct MonitorConfig: Sendable {
    public struct Token: Sendable {
        public var name: String
        public var secret: Secret
        public var scopes: [String]
    }

    public enum ChannelKind: String, Sendable { case pagerduty, slack, webhook }

    public struct Channel: Sendable {
        public var name: String
        public var kind: ChannelKind
        /// PagerDuty routing key, Slack webhook URL or webhook URL.
        public var target: Secret
        /// PagerDuty endpoint override (EU region); nil means the US default.
        public var url: String?
        /// Storm control (Slack and webhook): at most `groupBurst` messages per `groupInterval`
        /// go out one by one; the alerts beyond wait `groupWait`, then go out as one digest per
        /// group (`groupBy`), the next digests at most once per `groupInterval`. 0: never.
        public var groupBurst: Int = Channel.defaultGroupBurst
        public var groupWait: Timespan = Channel.defaultGroupWait
        public var groupInterval: Timespan = Channel.defaultGroupInterval
        /// What splits digests besides the event (trigger, repeat, resolve): `kind`, `host`.
        public var groupBy: [GroupLabel] = [.kind]
        /// Reminders (`realert_every`) of one job reach this channel at most this often; 0:
        /// every reminder.
        public var repeatInterval: Timespan = .zero

        public static let defaultGroupBurst = 10
        public static let defaultGroupWait = Timespan(seconds: 10)
        public static let defaultGroupInterval = Timespan(seconds: 30)
    }

    public enum GroupLabel: String, Sendable, CaseIterable { case kind, host }

    /// One "host X is silent" alert instead of a page per job (`HostSilence` in the monitor
    /// core): when at least `fraction` of a host's jobs, and at least `minJobs`, miss within
    /// `window` while the host sends nothing. `fraction` 0 turns it off.
    public struct HostSilenceRule: Sendable {
        public var fraction = 0.5
        public var minJobs = 3
        public var window = Timespan(seconds: 600)
    }

    public struct WeeklyReport: Sendable {
        public var schedule = "0 9 * * 1"
        public var timezone = "UTC"
        public var channels: [String] = []
    }

    public var listen = "127.0.0.1:8427"
    public var publicURL: String?
    public var tokens: [Token] = []
    public var channels: [String: Channel] = [:]
    public var defaultAlerts: [String] = []
    public var publicStatusPage = false
    public var report = WeeklyReport()
    public var hostSilence = HostSilenceRule()
    /// Fleet-wide windows, in the global `timezone` (SPEC §6).
    public var maintenance: [MaintenanceWindow] = []
    public var historyDays = 93
    /// First wait before re-sending an alert a channel failed to take; doubles per attempt.
    public var retryInitial = Timespan(seconds: 2)
    /// The longest wait between two attempts at one alert.
    public var retryMax = Timespan(seconds: 300)

    public init() {}

    public static let keys = ["listen", "public_url", "tokens", "channels", "default_alerts", "public_status_page", "report", "history_days", "retry_initial", "retry_max", "host_silence", "maintenance"]
    public static let tokenKeys = ["name", "secret", "scopes"]
    public static let channelKeys = ["type", "routing_key", "webhook_url", "url", "group_burst", "group_wait", "group_interval",
                                      "group_by", "repeat_interval"]
    public static let reportKeys = ["schedule", "timezone", "channels"]
    public static let hostSilenceKeys = ["fraction", "min_jobs", "window"]
    static let scopes = ["report", "read", "admin"]

    /// `timeZone`: the global one as the file sets it, for checking window schedules.
    mutating func read(_ m: YAMLFile.Mapping, timeZone: String) {
        let file = m.file
        maintenance = MaintenanceWindow.list(m, key: "maintenance", context: "monitor.maintenance",
                                             keys: MaintenanceWindow.fleetKeys, timeZone: timeZone)
        m.rejectUnknownKeys(allowed: Self.keys, context: "monitor")
        listen = m.string("listen") ?? listen
        publicURL = m.string("public_url")
        publicStatusPage = m.bool("public_status_page") ?? publicStatusPage
        historyDays = m.int("history_days", range: 1...3650) ?? historyDays
        retryInitial = m.timespan("retry_initial", atLeast: Timespan(milliseconds: 10)) ?? retryInitial
        retryMax = m.timespan("retry_max", atLeast: retryInitial) ?? retryMax
        if case .sequence(let items)? = m.node("tokens")?.content {
            for item in items {
                guard let t = file.mapping(item, what: "monitor.tokens entry") else { continue }
                t.rejectUnknownKeys(allowed: Self.tokenKeys, context: "monitor.tokens")
                guard let name = t.string("name"), let secret = t.string("secret") else {
                    file.problem("monitor.tokens: each token needs name and secret", at: item)
                    continue
                }
                let scopes = t.strings("scopes") ?? []
                for s in scopes where !Self.scopes.contains(s) {
                    file.problem("monitor.tokens: unknown scope \"\(s)\" (report, read, admin)", at: t.node("scopes"))
                }
                tokens.append(Token(name: name, secret: Secret(secret), scopes: scopes))
            }
        } else if let n = m.node("tokens"), !n.isNull {
            file.problem("monitor.tokens: expected a list of { name, secret, scopes }", at: n)
        }
        if let n = m.node("channels"), let cm = file.mapping(n, what: "monitor.channels") {
            for (key, value) in cm.entries {
                guard let name = key.string, let c = file.mapping(value, what: "monitor.channels.\(key.string ?? "?")") else { continue }
                c.rejectUnknownKeys(allowed: Self.channelKeys, context: "monitor.channels.\(name)")
                guard let kind = c.oneOf("type", ["pagerduty", "slack", "webhook"]).flatMap(ChannelKind.init(rawValue:)) else {
                    if c.node("type") == nil { file.problem("monitor.channels.\(name): missing type (pagerduty, slack or webhook)", at: key) }
                    continue
                }
                let targetKey = ["pagerduty": "routing_key", "slack": "webhook_url", "webhook": "url"][kind.rawValue]!
                guard let target = c.string(targetKey) else {
                    file.problem("monitor.channels.\(name): a \(kind.rawValue) channel needs \(targetKey)", at: key)
                    continue
                }
                var channel = Channel(name: name, kind: kind, target: Secret(target), url: kind == .pagerduty ? c.string("url") : nil)
                if kind == .pagerduty {
                    for key in ["group_burst", "group_wait", "group_interval", "group_by"] where c.node(key) != nil {
                        file.problem("monitor.channels.\(name).\(key): PagerDuty channels are not grouped (PagerDuty groups by dedup key itself)",
                                     at: c.node(key))
                    }
                } else {
                    channel.groupBurst = c.int("group_burst", range: 0...1000) ?? channel.groupBurst
                    channel.groupWait = c.timespan("group_wait") ?? channel.groupWait
                    channel.groupInterval = c.timespan("group_interval", atLeast: Timespan(seconds: 1)) ?? channel.groupInterval
                    if let labels = c.strings("group_by") {
                        channel.groupBy = labels.compactMap { label in
                            guard let known = GroupLabel(rawValue: label) else {
                                file.problem("monitor.channels.\(name).group_by: unknown label \"\(label)\" (kind, host)", at: c.node("group_by"))
                                return nil
                            }
                            return known
                        }
                    }
                }
                channel.repeatInterval = c.timespan("repeat_interval") ?? channel.repeatInterval
                channels[name] = channel
            }
        }
        defaultAlerts = m.strings("default_alerts") ?? defaultAlerts
        for name in defaultAlerts where channels[name] == nil {
            file.problem("monitor.default_alerts: unknown channel \"\(name)\"", at: m.node("default_alerts"))
        }
        if let n = m.node("host_silence"), let h = file.mapping(n, what: "monitor.host_silence") {
            h.rejectUnknownKeys(allowed: Self.hostSilenceKeys, context: "monitor.host_silence")
            hostSilence.fraction = h.fraction("fraction") ?? hostSilence.fraction
            hostSilence.minJobs = h.int("min_jobs", range: 1...100_000) ?? hostSilence.minJobs
            hostSilence.window = h.timespan("window", atLeast: Timespan(seconds: 1)) ?? hostSilence.window
        }
        if let n = m.node("report"), let r = file.mapping(n, what: "monitor.report") {
            r.rejectUnknownKeys(allowed: Self.reportKeys, context: "monitor.report")
            report.schedule = r.string("schedule") ?? report.schedule
            report.timezone = r.string("timezone") ?? report.timezone
            report.channels = r.strings("channels") ?? report.channels
            for name in report.channels where channels[name] == nil {
                file.problem("monitor.report.channels: unknown channel \"\(name)\"", at: r.node("channels"))
            }
        }
    }
}
