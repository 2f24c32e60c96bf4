import CProcess
import JobwatchCore
import MonitorCore
import RedisLease

/// The leader's working state, loaded from Redis when leadership begins and dropped when it
/// ends. Only the loop's task touches it.
final class LeaderSession {
    private let environment: MonitorEnvironment
    private let worker: RedisWorker
    private let persister: RedisWorker
    private let registry: JobRegistry
    private let store: MonitorStore
    private let claimIdleMs: Int64
    private let batchSize: Int
    private let historyMs: Int64
    private var monitors: MonitorTable
    private var queue = DeadlineQueue()
    private var alerts: AlertRouting
    private var lastClaim: Int64 = 0
    private var lastTrim: Int64 = 0
    /// Applied reports stay in the stream this long (to read back while investigating), then go:
    /// their effect is in the state and the run records, and finish reports carry up to 64 KiB.
    static let appliedKeptMs: Int64 = 600_000
    private var lastAlive: Int64 = 0
    /// No leader ran from `from` to `to` (this session's start), longer than `outageMs`: the
    /// misses whose deadlines passed meanwhile are not paged one by one (`explained`) but in
    /// one `InhibitingAlert` once the deadlines due at start-up have been looked at.
    private var outage: (from: Int64, to: Int64)?
    private var explained: [String] = []
    /// Which hosts went silent, and the misses of this round that wait for its end to know.
    private var silence: HostSilence
    private var held: [(job: String, incident: Incident)] = []
    /// A leader failover takes the 10 s lease; a minute without any leader is an outage.
    static let outageMs: Int64 = 60_000
    /// The previous batch's persist, still running while this one is read and applied.
    private var inFlight: Task<Bool, Error>?

    private init(environment: MonitorEnvironment, worker: RedisWorker, persister: RedisWorker, registry: JobRegistry,
                 claimIdleMs: Int64, batchSize: Int, monitors: MonitorTable, lastAlive: Int64?) {
        self.environment = environment
        self.worker = worker
        self.persister = persister
        self.registry = registry
        store = environment.store
        self.claimIdleMs = claimIdleMs
        self.batchSize = batchSize
        historyMs = Int64(environment.monitor.historyDays) * 86_400_000
        self.monitors = monitors
        alerts = AlertRouting(environment: environment)
        let rule = environment.monitor.hostSilence
        silence = HostSilence(settings: .init(fraction: rule.fraction, minJobs: rule.minJobs, windowMs: rule.window.milliseconds))
        var silentJobs: [String: [String]] = [:]
        for (job, monitor) in monitors {
            queue.schedule(job, at: monitor.nextDeadline)
            if let (host, at) = monitor.lastReport { _ = silence.heard(from: host, at: at) }
            if monitor.incident?.inhibitedBy == InhibitingAlert.hostSilent, let host = monitor.lastHost {
                silentJobs[host, default: []].append(job)
            }
        }
        let perHost = silentJobs.isEmpty ? [:] : Self.jobsPerHost(monitors)
        for (host, jobs) in silentJobs {
            silence.restore(host: host, jobs: jobs.sorted(), jobsOnHost: perHost[host] ?? 0)
        }
        let now = environment.clock()
        if let lastAlive, now - lastAlive >= Self.outageMs {
            outage = (lastAlive, now)
            environment.logger.warning("no jobmond led since \(Timestamp.format(ms: lastAlive)): misses from then on are alerted as one outage")
        }
    }

    static func start(environment: MonitorEnvironment, worker: RedisWorker, persister: RedisWorker,
                      registry: JobRegistry, claimIdleMs: Int64, batchSize: Int) async throws -> LeaderSession {
        let store = environment.store
        let (monitors, unreadable, lastAlive) = try await worker.run { c -> (MonitorTable, [String], Int64?) in
            // From id 0: reports written before any jobmond ever ran are applied too.
            let created = try c.command(["XGROUP", "CREATE", store.events, MonitorStore.group, "0", "MKSTREAM"])
            if case .error(let e) = created, !e.hasPrefix("BUSYGROUP") { throw RedisError(.server, e) }
            _ = try MonitorStore.forgetIdleConsumers(c, stream: store.events, group: MonitorStore.group, keeping: environment.replica)
            let alive = try c.command(["GET", store.alive]).integer
            var unreadable: [String] = []
            return (try store.loadMonitors(c) { unreadable.append($0) }, unreadable, alive)
        }
        environment.logger.notice("leading: loaded \(monitors.count) jobs")
        if !unreadable.isEmpty {
            // Written by a newer jobmond, or damaged: such a job starts afresh from its definition.
            environment.logger.error("\(unreadable.count) job states in \(store.state) could not be read and start afresh: \(unreadable.prefix(20).joined(separator: ", "))")
        }
        let session = LeaderSession(environment: environment, worker: worker, persister: persister, registry: registry,
                                    claimIdleMs: claimIdleMs, batchSize: batchSize, monitors: monitors, lastAlive: lastAlive)
        var writes = BatchWrites(store: store, historyMs: session.historyMs, now: environment.clock())
        try await session.refreshDefinitions(&writes)
        guard try await session.persist(writes, waitForIt: true) else { throw RedisError(.server, "lost the leader lease while starting") }
        // Loading parsed every job file and encoded every state: hand the transient peak back
        // to the system, or glibc keeps it as free heap for the life of the process.
        jw_release_free_memory()
        return session
    }

    /// One round: returns false when the lease turned out to be someone else's.
    func step() async throws -> Bool {
        var entries: [EventEntry] = []
        let started = environment.clock()
        if started - lastClaim >= max(claimIdleMs, 1000) {
            // Our own batch still being written is pending too, and would look abandoned.
            if let previous = inFlight {
                inFlight = nil
                guard try await previous.value else { return false }
            }
            // A new leader takes every entry still pending at once, whatever its age: only the
            // leader consumes, so whoever holds them is gone, and they come before newer ones.
            entries = try await claimAbandoned(idleMs: lastClaim == 0 ? 0 : claimIdleMs)
            lastClaim = started
        }
        let wait = queue.nextDue.map { max(0, min(1000, $0 - started)) } ?? 1000
        let read = try await readNew(blockMs: entries.isEmpty ? wait : 0)
        entries += read
        let now = environment.clock()
        var writes = BatchWrites(store: store, historyMs: historyMs, now: now, expectedEvents: entries.count)
        for entry in entries {
            writes.ack(entry.id)
            guard let event = entry.event else { continue }
            try await apply(event, now: now, into: &writes)
        }
        // Reports first, then deadlines (the core's rule); while catching up on a backlog the
        // deadlines wait, so a start still in the stream never pages as missed.
        if read.count < batchSize {
            for job in queue.popDue(now: now) {
                guard var monitor = monitors[job] else { continue }
                for (runID, heldUntil) in try await leases(of: job, runs: monitor.leasesDue(now: now), now: now) {
                    let actions = monitor.leaseChecked(runID: runID, heldUntil: heldUntil, now: now)
                    settle(job, monitor, actions, into: &writes)
                }
                let actions = monitor.deadlinePassed(now: now)
                settle(job, monitor, actions, into: &writes)
            }
            if let outage {
                // Every deadline due at start-up has been looked at.
                if !explained.isEmpty {
                    alerts.deliver(InhibitingAlert(.monitorDown(from: outage.from, to: outage.to), jobs: explained, at: now),
                                   to: environment.monitor.defaultAlerts, into: &writes)
                }
                self.outage = nil
                explained = []
            }
            decideHeldMisses(now: now, into: &writes)
        }
        if now - lastAlive >= 5_000 {
            writes.alive()
            lastAlive = now
        }
        if now - lastTrim >= 60_000 {
            lastTrim = now
            let (events, cutoff) = (store.events, now - Self.appliedKeptMs)
            _ = try await worker.run { c in try MonitorStore.trimConsumed(c, stream: events, group: MonitorStore.group, olderThanMs: cutoff) }
        }
        if writes.isEmpty { return true }
        return try await persist(writes, waitForIt: read.count < batchSize)
    }

    /// Whether each run still holds the job's lease, and until when: the lock's value ends in
    /// `:<run_id>` while it is that run's. One round trip, and only when a check is due.
    private func leases(of job: String, runs: [String], now: Int64) async throws -> [(String, Int64?)] {
        guard !runs.isEmpty else { return [] }
        let key = store.lock(job)
        let (holder, ttl) = try await worker.run { c -> (String?, Int64?) in
            let replies = try c.pipeline([["GET", key], ["PTTL", key]])
            return (replies[0].string, replies[1].integer)
        }
        return runs.map { runID in
            guard let holder, holder.hasSuffix(":" + runID), let ttl, ttl > 0 else { return (runID, nil) }
            return (runID, now + ttl)
        }
    }

    /// Entries delivered to a consumer that died before acknowledging them.
    private func claimAbandoned(idleMs: Int64) async throws -> [EventEntry] {
        let args = ["XAUTOCLAIM", store.events, MonitorStore.group, environment.replica, String(idleMs), "0-0",
                    "COUNT", String(batchSize)]
        let clock = environment.clock
        let claimed = try await worker.run { c in
            try c.command(args) { reply -> [EventEntry] in
                if reply.isError { throw RedisError(.server, "XAUTOCLAIM: \(reply.text)") }
                return EventEntry.entries(ofAutoclaim: reply, now: clock())
            }
        }
        if !claimed.isEmpty { environment.logger.notice("re-claimed \(claimed.count) pending events") }
        return claimed
    }

    private func readNew(blockMs: Int64) async throws -> [EventEntry] {
        var args: [String] = ["XREADGROUP", "GROUP", MonitorStore.group, environment.replica, "COUNT", String(batchSize)]
        // BLOCK 0 would wait forever: with a deadline already due, do not block at all.
        if blockMs > 0 { args += ["BLOCK", String(blockMs)] }
        args += ["STREAMS", store.events, ">"]
        let (command, clock) = (args, environment.clock)
        return try await worker.run { c in
            try c.command(command) { reply -> [EventEntry] in
                if reply.isError { throw RedisError(.server, "XREADGROUP: \(reply.text)") }
                return EventEntry.entries(ofRead: reply, now: clock())
            }
        }
    }

    private func apply(_ event: MonitorEvent, now: Int64, into writes: inout BatchWrites) async throws {
        switch event {
        case .reload, .define:
            try await refreshDefinitions(&writes)
        case let .start(job, runID, host, startedAt, scheduledFor, fence, leaseMs):
            heard(from: host, now: now, into: &writes)
            var monitor = known(job, now: now)
            let fresh = monitor.runningRuns[runID] == nil
            let actions = monitor.runStarted(runID: runID, host: host, at: startedAt, scheduledFor: scheduledFor, fence: fence,
                                             leaseMs: leaseMs, now: now)
            if fresh, let run = monitor.runningRuns[runID] { writes.run(job, run, finished: false) }
            settle(job, monitor, actions, into: &writes)
        case let .finish(job, runID, host, finishedAt, exitCode, signal, durationMs, outcome, outputTail, details):
            heard(from: host, now: now, into: &writes)
            var monitor = known(job, now: now)
            let before = monitor.lastRun
            let listed = monitor.runningRuns[runID] != nil
            let actions = monitor.runFinished(runID: runID, at: finishedAt, exitCode: exitCode, signal: signal,
                                              outcome: outcome, durationMs: durationMs, host: host, outputTail: outputTail,
                                              details: details)
            if let run = monitor.lastRun, run.runID == runID, run != before {
                writes.run(job, run, finished: true, listed: listed)
                writes.finished(job, runID: runID, outcome: run.outcome?.rawValue ?? outcome.rawValue,
                                failed: monitor.failureReason(of: run) != nil, durationMs: run.durationMs)
            }
            settle(job, monitor, actions, into: &writes)
        // The actions are computed first: `settle` must see the monitor *after* the event.
        case let .skip(job, host, at):
            heard(from: host, now: now, into: &writes)
            var monitor = known(job, now: now)
            let actions = monitor.skipped(host: host, at: at)
            settle(job, monitor, actions, into: &writes)
        case let .pause(job, until, at):
            var monitor = known(job, now: now)
            let actions = monitor.paused(until: until, now: max(at, now))
            settle(job, monitor, actions, into: &writes)
        case let .resume(job, at):
            var monitor = known(job, now: now)
            let actions = monitor.resumed(now: max(at, now))
            settle(job, monitor, actions, into: &writes)
        }
    }

    /// A job first seen in a report: watched with defaults and no schedule, so it is never
    /// missed until a definition arrives.
    private func known(_ job: String, now: Int64) -> JobMonitor {
        if let monitor = monitors[job] { return monitor }
        environment.logger.info("auto-registered job \(job) from its first report")
        return JobMonitor(spec: defaultSpec(job), firstSeen: now)
    }

    private func defaultSpec(_ job: String) -> JobSpec {
        JobSpec(name: job, schedule: nil, timezone: environment.config.timezone,
                channels: environment.monitor.defaultAlerts)
    }

    /// Applies jobs.d and `mon:defs`: new jobs are watched from now, changed ones updated,
    /// broken ones raise `config_error` for themselves alone.
    private func refreshDefinitions(_ writes: inout BatchWrites) async throws {
        let defsKey = store.defs
        let registered = try await worker.run { c -> [String: String] in
            let items = try c.command(["HGETALL", defsKey]).array ?? []
            var defs: [String: String] = [:]
            for i in stride(from: 0, to: items.count - 1, by: 2) {
                if let job = items[i].string, let text = items[i + 1].string { defs[job] = text }
            }
            return defs
        }
        let definitions = registry.definitions(registered: registered)
        alerts = AlertRouting(environment: environment)
        let now = environment.clock()
        for (job, spec) in definitions.specs {
            guard var monitor = monitors[job] else {
                settle(job, JobMonitor(spec: spec, firstSeen: now), [], into: &writes)
                continue
            }
            // An unchanged definition does nothing, unless it ends a config error.
            guard monitor.spec != spec || monitor.incident?.kind == .configError else { continue }
            let actions = monitor.definitionChanged(spec, now: now)
            settle(job, monitor, actions, into: &writes)
        }
        // A scheduled job whose file is gone is retired (auto-registered jobs never had one).
        if definitions.complete {
            for (job, monitor) in monitors where monitor.spec.schedule != nil
                && definitions.specs[job] == nil && definitions.rejected[job] == nil {
                var retired = monitor
                environment.logger.notice("job \(job) has no definition any more: no longer expected to run")
                let actions = retired.definitionRemoved(unscheduled: defaultSpec(job), now: now)
                settle(job, retired, actions, into: &writes)
            }
        }
        for (job, reason) in definitions.rejected {
            var monitor = monitors[job] ?? JobMonitor(spec: defaultSpec(job), firstSeen: now)
            guard monitor.incident?.kind != .configError || monitor.incident?.reason != reason else { continue }
            let actions = monitor.definitionRejected(reason: reason, now: now)
            settle(job, monitor, actions, into: &writes)
        }
    }

    /// Keeps the new state and turns its actions into writes. Callers compute `actions` first:
    /// an argument list copies `monitor` before a mutating call inside it runs.
    private func settle(_ job: String, _ monitor: JobMonitor, _ actions: [MonitorAction], into writes: inout BatchWrites) {
        monitors[job] = monitor
        writes.touched(job)
        for action in actions {
            switch action {
            case .record(let change):
                writes.change(job, from: change.from.rawValue, to: change.to.rawValue, at: change.at,
                              reason: change.reason, alert: "")
            case .scheduleDeadline:
                break   // read from `nextDeadline` below, which also covers a restored job
            case .raiseAlert, .repeatAlert, .resolveAlert, .flappingNotice:
                guard let (event, incident) = action.alert else { continue }
                if event == .trigger, let outage, incident.kind == .missed, let occurrence = incident.occurrence,
                   monitor.spec.startDeadline(of: occurrence) <= outage.to {
                    monitors[job]?.inhibitIncident(by: InhibitingAlert.monitorDown)
                    explained.append(job)
                    continue
                }
                if event == .trigger, incident.kind == .missed {
                    switch silence.missed(job: job, host: monitor.lastHost, due: incident.occurrence.map(monitor.spec.expectedStart) ?? writes.now) {
                    case .page: break
                    case .inhibit:
                        monitors[job]?.inhibitIncident(by: InhibitingAlert.hostSilent)
                        continue
                    case .hold:
                        held.append((job, incident))
                        continue
                    }
                }
                guard incident.inhibitedBy == nil else { continue }   // its trigger was never paged
                alerts.deliver(event, incident, spec: monitor.spec, into: &writes)
            }
        }
        queue.schedule(job, at: monitor.nextDeadline)
    }

    /// A report from `host`: if it had gone silent, it is back, and the alert that said so resolves.
    private func heard(from host: String, now: Int64, into writes: inout BatchWrites) {
        guard let ended = silence.heard(from: host, at: now) else { return }
        environment.logger.notice("host \(host) reports again")
        let alert = InhibitingAlert(.hostSilent(host: host, lastHeard: ended.lastHeard, jobsOnHost: ended.jobsOnHost),
                                    jobs: ended.jobs, event: .resolve, at: now)
        alerts.deliver(alert, to: channels(of: ended.jobs), into: &writes)
    }

    /// The misses this round held because their host may be going silent: one host alert for
    /// those it explains, the usual page for the others.
    private func decideHeldMisses(now: Int64, into writes: inout BatchWrites) {
        guard !held.isEmpty else { return }
        let incidents = Dictionary(held.map { ($0.job, $0.incident) }, uniquingKeysWith: { $1 })
        held = []
        // One pass over the jobs, however many hosts a fleet-wide outage holds misses for.
        let perHost = Self.jobsPerHost(monitors)
        for (host, entered, jobs) in silence.endRound(now: now, jobsOn: { perHost[$0] ?? 0 }) {
            if let entered {
                for job in jobs { self.monitors[job]?.inhibitIncident(by: InhibitingAlert.hostSilent) }
                let alert = InhibitingAlert(.hostSilent(host: host, lastHeard: entered.lastHeard, jobsOnHost: entered.jobsOnHost),
                                            jobs: entered.jobs, at: now)
                alerts.deliver(alert, to: channels(of: entered.jobs), into: &writes)
                continue
            }
            for job in jobs {
                guard let incident = incidents[job], let spec = monitors[job]?.spec else { continue }
                alerts.deliver(.trigger, incident, spec: spec, into: &writes)
            }
        }
    }

    /// Each host's scheduled jobs: those it ran last.
    private static func jobsPerHost(_ monitors: MonitorTable) -> [String: Int] {
        var counts: [String: Int] = [:]
        for (_, monitor) in monitors where monitor.spec.schedule != nil {
            if let host = monitor.lastHost { counts[host, default: 0] += 1 }
        }
        return counts
    }

    /// The channels of these jobs, each once, in the order the jobs name them.
    private func channels(of jobs: [String]) -> [String] {
        var seen: Set<String> = []
        return jobs.flatMap { monitors[$0]?.spec.channels ?? [] }.filter { seen.insert($0).inserted }
    }

    /// Waits for the previous persist, then starts this one. Returns false when the lease turned
    /// out to be lost. With a backlog it returns at once and the persist runs while the next
    /// batch is read and applied; caught up, or with alerts to send, it waits for it.
    private func persist(_ writes: consuming BatchWrites, waitForIt: Bool) async throws -> Bool {
        if let previous = inFlight {
            inFlight = nil
            guard try await previous.value else { return false }
        }
        let batch = writes.transaction(monitors: monitors)
        let (leader, owner, persister) = (store.leader, environment.replica, self.persister)
        let task = Task {
            try await persister.run { c in try BatchWrites.writeAsLeader(c, batch, leaderKey: leader, owner: owner) }
        }
        if waitForIt || writes.alertCount > 0 { return try await task.value }
        inFlight = task
        return true
    }

    /// Waits for a persist still running, whatever its outcome: a session started after this
    /// one must load the state it wrote, or it would overwrite it with less.
    func drain() async {
        _ = try? await inFlight?.value
        inFlight = nil
    }
}
