/// "Host X is silent": when most of one host's jobs miss together, one alert names the host and
/// the misses it explains are recorded but not paged (their incidents are inhibited), as for an
/// outage of the monitor. Pure: the leader feeds it what it applies and detects, `now` given.
///
/// - A job belongs to the host that ran it last. A miss counts against that host only when the
///   host has sent no report since the missed occurrence was due: a host that still reports
///   is not silent, whatever its jobs do.
/// - The misses of one detection round (one pass over the deadlines due now) are decided
///   together at its end, so no miss waits: counting the host's misses paged within `window`
///   before, when they reach `fraction` of its jobs and at least `minJobs`, the host is silent.
///   One alert, these misses inhibited, and every later miss of its jobs too, until the host
///   reports again, which resolves that alert. Otherwise each miss is paged as usual.
public struct HostSilence: Sendable {
    public struct Settings: Sendable, Equatable {
        /// 0 turns host silence off.
        public var fraction: Double
        public var minJobs: Int
        public var windowMs: Int64

        public init(fraction: Double, minJobs: Int, windowMs: Int64) {
            self.fraction = fraction
            self.minJobs = minJobs
            self.windowMs = windowMs
        }
    }

    public struct Silence: Sendable, Equatable {
        public var lastHeard: Int64?
        public var jobsOnHost: Int
        /// Every job whose miss it explains, in the order they missed.
        public var jobs: [String]

        public init(lastHeard: Int64?, jobsOnHost: Int, jobs: [String]) {
            self.lastHeard = lastHeard
            self.jobsOnHost = jobsOnHost
            self.jobs = jobs
        }
    }

    public enum Verdict: Equatable {
        /// Page it as usual.
        case page
        /// Its host is known to be silent: record it, do not page it.
        case inhibit(host: String)
        /// Its host may be going silent: wait for the end of this round (`endRound`).
        case hold
    }

    public let settings: Settings
    /// The monitor's clock when each host's latest report was applied.
    public private(set) var lastHeard: [String: Int64] = [:]
    public private(set) var silent: [String: Silence] = [:]
    private var paged: [String: [(job: String, at: Int64)]] = [:]
    private var held: [String: [String]] = [:]
    private var heldOrder: [String] = []

    public init(settings: Settings) {
        self.settings = settings
    }

    /// A report from `host` applied at `now`. Returns the silence it ends, if the host was silent.
    public mutating func heard(from host: String, at now: Int64) -> Silence? {
        lastHeard[host] = max(lastHeard[host] ?? now, now)
        paged[host] = nil
        return silent.removeValue(forKey: host)
    }

    /// A host silent before this leader began (its jobs' incidents say so), restored.
    public mutating func restore(host: String, jobs: [String], jobsOnHost: Int) {
        silent[host] = Silence(lastHeard: lastHeard[host], jobsOnHost: jobsOnHost, jobs: jobs)
    }

    /// A miss of `job` (last run on `host`, nil if never run) whose occurrence was due at `due`.
    public mutating func missed(job: String, host: String?, due: Int64) -> Verdict {
        guard settings.fraction > 0, let host else { return .page }
        if silent[host] != nil {
            if silent[host]?.jobs.contains(job) == false { silent[host]?.jobs.append(job) }
            return .inhibit(host: host)
        }
        if let heard = lastHeard[host], heard >= due { return .page }
        if held[host] == nil { heldOrder.append(host) }
        held[host, default: []].append(job)
        return .hold
    }

    /// Decides the misses held this round. `jobsOn` counts a host's scheduled jobs. For each
    /// host with held misses, in the order they came: the host and the silence it just entered
    /// (inhibit `silence.jobs` that were held, and alert), or nil with the jobs to page.
    public mutating func endRound(now: Int64, jobsOn: (String) -> Int) -> [(host: String, silence: Silence?, held: [String])] {
        defer {
            held = [:]
            heldOrder = []
        }
        return heldOrder.map { host in
            let jobs = held[host] ?? []
            let recent = (paged[host] ?? []).filter { $0.at > now - settings.windowMs }
            let count = recent.count + jobs.count
            let total = jobsOn(host)
            if total >= settings.minJobs, count >= settings.minJobs, Double(count) >= settings.fraction * Double(total) {
                let silence = Silence(lastHeard: lastHeard[host], jobsOnHost: total, jobs: recent.map(\.job) + jobs)
                silent[host] = silence
                paged[host] = nil
                return (host, silence, jobs)
            }
            paged[host] = recent + jobs.map { ($0, now) }
            return (host, nil, jobs)
        }
    }
}
