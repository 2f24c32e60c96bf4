import CProcess
import CronSchedule
import GELF
import JobwatchCore
import RedisLease
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// The whole life of one `jobrun` invocation: decide whether this host runs the occurrence,
/// run it under the lease, and turn what happened into an exit code.
public struct JobRun {
    let invocation: Invocation
    let cronlock: CronlockMode?
    let environment: [String: String]
    let diagnostics: Diagnostics

    public init(invocation: Invocation, cronlock: CronlockMode? = nil, environment: [String: String]) {
        self.invocation = invocation
        self.cronlock = cronlock
        self.environment = environment
        self.diagnostics = Diagnostics(verbose: invocation.verbose)
    }

    public func execute() -> Int32 {
        jw_block_wrapper_signals()
        jw_ignore_sigpipe()
        let settings: RunSettings
        do {
            settings = try RunSettings(invocation: invocation, environment: environment)
        } catch {
            diagnostics.error("\(error)")
            return ExitCode.wrapperError
        }
        let job = settings.job
        if let hosts = job.hosts, !hosts.contains(settings.host) {
            diagnostics.info("\(job.name) may run only on \(hosts.joined(separator: ", ")); this is \(settings.host): not running")
            return ExitCode.notRun
        }
        if cronlock == nil, let signal = JitteredStart.wait(for: job, diagnostics: diagnostics) {
            diagnostics.info("signal \(signal) while waiting for the jittered start: not running \(job.name)")
            return 128 + signal
        }

        let runID = RunID.make()
        let reports = settings.reporting ? RunReports(settings: settings, runID: runID, diagnostics: diagnostics) : nil
        var fence: Int64 = 0
        var lease: HeldLease?
        var claimedOccurrence: Int64?
        if settings.locking {
            switch acquire(settings, runID: runID, reports: reports) {
            case .held(let l, let f, let occurrence):
                lease = l
                fence = f
                claimedOccurrence = occurrence
            case .runWithoutLock:
                break
            case .exit(let code):
                return code
            }
        }

        var env = environment
        // Secrets given to jobrun are jobrun's: the job's own output and children never see them.
        for secret in ["JOBWATCH_TOKEN", "JOBWATCH_REDIS_PASSWORD"] { env[secret] = nil }
        settings.runAs?.apply(to: &env)
        for (k, v) in job.env { env[k] = v }
        env["JOBWATCH_JOB"] = job.name
        env["JOBWATCH_RUN_ID"] = runID
        env["JOBWATCH_FENCE"] = String(fence)
        env["JOBWATCH_HOST"] = settings.host

        let tail = OutputTail()
        let command = settings.argv.joined(separator: " ")
        let runStarted = monotonicMs()
        let startedAtWall = Int64(time(nil))
        var gelf: GELFOutput?
        var supervisor = Supervisor(lease: lease, timeoutMs: settings.timeout?.milliseconds,
                                    killAfterMs: job.killAfter.milliseconds, diagnostics: diagnostics)
        var attempts = Attempts(retries: job.retries)
        while true {
            env["JOBWATCH_ATTEMPT"] = job.retries > 0 ? String(attempts.count + 1) : nil
            let started = monotonicMs()
            let child: ChildProcess
            do {
                child = try ChildProcess(argv: settings.argv, environment: env, user: settings.runAs)
            } catch {
                diagnostics.error("\(error)")
                guard attempts.count > 0 else {
                    lease.map { $0.client.release(keys: $0.keys, owner: $0.owner) }
                    reports?.couldNotStart(because: "\(error)", scheduledFor: claimedOccurrence, fence: fence, command: command)
                    return 127
                }
                attempts.record(RunEnding(termination: .exited(127), cause: .finished, durationMs: 0), verdict: nil)
                break
            }
            if attempts.count == 0 {
                diagnostics.info("running \(job.name) as run \(runID) (pid \(child.pid), fence \(fence))")
                gelf = startGELF(settings, runID: runID, pid: child.pid, fence: fence)
                gelf?.started(job: job.name, command: command,
                              scheduledFor: claimedOccurrence.map { rfc3339($0, timeZone: job.timezone) })
            } else {
                diagnostics.info("attempt \(attempts.count + 1) of \(job.retries + 1) of \(job.name) (pid \(child.pid))")
            }
            let verdict = Self.outputVerdict(job)
            let sinks: [OutputSink] = [gelf.map { $0 as OutputSink }, verdict.map { $0 as OutputSink }].compactMap { $0 }
            let pumps = [
                OutputPump(source: child.stdoutPipe, destination: invocation.quiet ? nil : 1, stream: .stdout, sinks: sinks, tail: tail),
                OutputPump(source: child.stderrPipe, destination: invocation.quiet ? nil : 2, stream: .stderr, sinks: sinks, tail: tail),
            ]
            pumps.forEach { $0.start() }
            if attempts.count == 0 {
                reports?.started(pid: child.pid, scheduledFor: claimedOccurrence, fence: fence, command: command,
                                 leaseMs: lease.map { $0.client.primaryGranted && $0.keys.isJobWide } == true && cronlock == nil
                                     ? settings.lockTTL.milliseconds : nil)
            }
            let ending = supervisor.run(child, startedAt: started)
            for pump in pumps where !pump.waitForEnd(timeoutMs: 2000) {
                diagnostics.warning("a process left behind by the job still holds its output open; not waiting for it")
            }
            attempts.record(ending, verdict: verdict?.reason)
            guard attempts.mayRetry else { break }
            diagnostics.warning("\(job.name) attempt \(attempts.count) failed (\(attempts.lastOutcome)); retrying in \(job.retryDelay)")
            if let cause = supervisor.pause(forMs: job.retryDelay.milliseconds) {
                attempts.endBetweenAttempts(cause)
                break
            }
        }
        let result = attempts.result(durationMs: monotonicMs() - runStarted)
        reports?.finished(result, tail: tail)
        if var l = supervisor.lease {
            if result.ending.cause == .replaced {
                l.client.replacedRunStopped(keys: l.keys, owner: l.owner)
            } else if l.timeline.childExited() == .release {
                l.client.release(keys: l.keys, owner: l.owner, holdUntil: cronlock.map { startedAtWall + $0.graceSeconds + 1 })
            }
        }
        if let dropped = gelf?.finished(job: job.name, result: result), dropped > 0 {
            diagnostics.info("Graylog: \(dropped) output line(s) dropped (receiver slow or unreachable)")
        }
        diagnostics.info("\(job.name) ended: \(result.outcome), exit \(result.exitCode), \(result.ending.durationMs) ms")
        return result.exitCode
    }

    /// Nil for a job without `output_rules`: it pays nothing per line.
    private static func outputVerdict(_ job: JobDefinition) -> OutputVerdict? {
        guard !job.outputRules.isEmpty else { return nil }
        // The expressions compiled when the file was loaded; they compile again the same way.
        return try? OutputVerdict(rules: job.outputRules)
    }

    /// A broken GELF setting costs the logs, never the run: warn and carry on without it.
    private func startGELF(_ settings: RunSettings, runID: String, pid: Int32, fence: Int64) -> GELFOutput? {
        guard let url = settings.config.gelf else { return nil }
        do {
            let sender = try GELFSender(url: url, compression: GELFCompression(rawValue: settings.config.gelfCompression) ?? .gzip,
                                        chunkSize: settings.config.gelfChunkSize)
            return GELFOutput(sender: sender, host: settings.host, job: settings.job.name, runID: runID, pid: pid, fence: fence,
                              spansAttempts: settings.job.retries > 0)
        } catch {
            diagnostics.warning("not sending output to Graylog: \(error)")
            return nil
        }
    }

    private enum Acquisition {
        case held(HeldLease, fence: Int64, occurrence: Int64?)
        case runWithoutLock
        case exit(Int32)
    }

    private func acquire(_ settings: RunSettings, runID: String, reports: RunReports?) -> Acquisition {
        let job = settings.job
        var keys = LeaseKeys(prefix: settings.config.keyPrefix, job: job.name)
        var owner = "\(settings.host):\(getpid()):\(runID)"
        var claim = occurrenceClaim(job, runID: runID)
        if let cronlock {
            // cronlock hosts read the value as "held until this Unix time".
            keys = LeaseKeys(prefix: settings.config.keyPrefix, job: job.name, lockKey: cronlock.lockKey)
            owner = String(Int64(time(nil)) + cronlock.releaseSeconds + 1)
            claim = nil
        }
        // A run without an occurrence (started by hand) always behaves as `forbid`.
        let concurrency = cronlock == nil ? job.concurrency : .forbid
        let jobKeys = keys
        func perOccurrence(_ claim: OccurrenceClaim?) -> LeaseKeys {
            guard concurrency == .allow, let claim else { return jobKeys }
            return LeaseKeys(prefix: settings.config.keyPrefix, job: job.name, occurrence: claim.epoch)
        }
        let client = LeaseClient(topology: settings.topology, replicaAcks: settings.config.replicaAcks(for: settings.topology),
                                 replicaTimeoutMs: Int(settings.config.redisWaitTimeout.milliseconds))
        if let claim { diagnostics.info("claiming occurrence \(rfc3339(claim.epoch, timeZone: job.timezone))") }
        let ttl = settings.lockTTL.milliseconds
        let waitUntil = monotonicMs() + settings.lockWait.milliseconds
        var contests = 0
        do {
            try client.connect()
            reports?.useRedis(client)
            while true {
                keys = perOccurrence(claim)
                var sentAt = monotonicMs()
                var outcome = try client.acquire(keys: keys, owner: owner, ttlMs: ttl, claim: claim)
                var tookOver = false
                if case .lockHeld(let holder, _) = outcome, concurrency == .replace, let claim {
                    diagnostics.info("lock \(keys.lock) held by \(holder): taking it over (concurrency: replace)")
                    sentAt = monotonicMs()
                    outcome = try client.takeOver(keys: keys, owner: owner, ttlMs: ttl, claim: claim, from: holder,
                                                  markMs: ttl + job.killAfter.milliseconds + Self.replacedRunSlackMs)
                    tookOver = true
                }
                switch outcome {
                case .unreplicated where settings.config.onRedisDown == .skip:
                    client.giveBack(keys: keys, owner: owner, claim: claim)
                    diagnostics.error("no Redis replica acknowledged the lease within \(settings.config.redisWaitTimeout), not running \(job.name) (on_redis_down: skip): a failover could lose the claim and run it twice")
                    return .exit(ExitCode.wrapperError)
                case .acquired(let fence, let validFor), .unreplicated(let fence, let validFor):
                    if case .unreplicated = outcome {
                        diagnostics.warning("no Redis replica acknowledged the lease within \(settings.config.redisWaitTimeout): running \(job.name) anyway (on_redis_down: run); a failover now could let another host run this occurrence too")
                    }
                    // A run started by hand never takes over, but the next occurrence may replace it.
                    let replaceable = concurrency == .replace
                    var held = HeldLease(client: client, keys: keys, owner: owner,
                                         timeline: LeaseTimeline(ttlMs: ttl, acquiredAt: sentAt, validForMs: validFor,
                                                                 periodMs: replaceable ? Self.replaceablePeriodMs : nil),
                                         policy: job.onLockLost, replaceable: replaceable)
                    if tookOver && !awaitReplacedRun(&held, killAfter: job.killAfter) {
                        return .exit(ExitCode.leaseLost)
                    }
                    return .held(held, fence: fence, occurrence: claim?.epoch)
                case .clockSkew(let serverMs):
                    let offset = Timestamp.nowMs() - serverMs
                    diagnostics.warning("this host's clock is \(Self.seconds(abs(offset))) s \(offset > 0 ? "ahead of" : "behind") Redis's: choosing the occurrence of \(job.name) by Redis's clock (fix NTP on this host)")
                    guard let corrected = occurrenceClaim(job, runID: runID, nowMs: serverMs, byServerClock: true) else {
                        diagnostics.warning("no occurrence of \(job.name) is due by Redis's clock (this host's cron fired on its own clock): not running")
                        return .exit(ExitCode.notRun)
                    }
                    claim = corrected
                    diagnostics.info("claiming occurrence \(rfc3339(corrected.epoch, timeZone: job.timezone)) instead")
                case .contested where contests < 5:
                    // Redlock's retry: a random pause so the competitors stop colliding.
                    contests += 1
                    diagnostics.info("lease contested (no host got a majority of the masters): retrying")
                    usleep(useconds_t(Int.random(in: 20...150) * 1000))
                case .contested:
                    diagnostics.info("lease still contested after 5 attempts: not running")
                    reports?.skipped(.lockHeld, holder: "", scheduledFor: claim?.epoch)
                    return .exit(ExitCode.notRun)
                case .occurrenceTaken(let other):
                    diagnostics.info("occurrence already claimed by run \(other): not running")
                    reports?.skipped(.occurrenceTaken, holder: other, scheduledFor: claim?.epoch)
                    return .exit(ExitCode.notRun)
                case .lockHeld(let holder, let ttlLeft):
                    let now = monotonicMs()
                    if now >= waitUntil {
                        diagnostics.info("lock \(keys.lock) held by \(holder) (\(ttlLeft) ms left): not running")
                        reports?.skipped(.lockHeld, holder: holder, scheduledFor: claim?.epoch)
                        return .exit(ExitCode.notRun)
                    }
                    // Jitter keeps waiting hosts from retrying in lock-step.
                    let pause = min(waitUntil - now, Int64.random(in: 50...250))
                    usleep(useconds_t(pause * 1000))
                }
            }
        } catch let error as RedisError where error.kind != .unreachable {
            diagnostics.error("Redis refused the lease request, not running \(job.name): \(error)")
            return .exit(ExitCode.wrapperError)
        } catch {
            switch settings.config.onRedisDown {
            case .skip:
                diagnostics.error("Redis unreachable, not running \(job.name) (on_redis_down: skip): \(error)")
                return .exit(ExitCode.wrapperError)
            case .run:
                diagnostics.warning("Redis unreachable, running \(job.name) WITHOUT a lock (on_redis_down: run): \(error)")
                reports?.redisUnreachable()
                return .runWithoutLock
            }
        }
    }

    /// How often a run that may be replaced renews its lease: how soon it learns it was.
    static let replaceablePeriodMs: Int64 = 1000
    /// What the replaced run gets beyond `kill_after` to notice, stop its command and report.
    static let replacedRunSlackMs: Int64 = 1000

    /// `concurrency: replace`: the run taken over learns it on its next renewal (within
    /// `replaceablePeriodMs`), stops its command (SIGTERM, SIGKILL after `kill_after`), reports
    /// `replaced` and deletes its `replacing` mark. This run starts when the mark is gone, or
    /// `kill_after` + 1 s after the takeover if the old run's host is gone. The lease is
    /// renewed meanwhile. False if it was lost while waiting.
    private func awaitReplacedRun(_ held: inout HeldLease, killAfter: Timespan) -> Bool {
        let giveUpAt = monotonicMs() + killAfter.milliseconds + Self.replacedRunSlackMs
        guard case .renewAt(var renewAt) = held.timeline.firstRenewal else { return true }
        while held.client.replacedRunStillStopping(keys: held.keys) {
            let now = monotonicMs()
            if now >= giveUpAt {
                diagnostics.warning("the replaced run of \(held.keys.job) did not confirm it stopped within kill_after + 1 s: starting anyway")
                return true
            }
            if now >= renewAt {
                let action: LeaseTimeline.Action
                switch try? held.client.renew(keys: held.keys, owner: held.owner, ttlMs: held.timeline.ttlMs) {
                case .renewed?: action = held.timeline.renewed(sentAt: now)
                case .lost?, .replaced?: action = held.timeline.renewRefused()
                case nil: action = held.timeline.renewUnreachable(now: now, error: "Redis unreachable")
                }
                guard case .renewAt(let next) = action else {
                    diagnostics.error("lease on \(held.keys.lock) lost while waiting for the replaced run to stop")
                    return false
                }
                renewAt = next
            }
            usleep(50_000)
        }
        diagnostics.info("the replaced run of \(held.keys.job) has stopped")
        return true
    }

    /// The run belongs to the latest scheduled time at or before now, if that is within grace.
    /// Every host computes the same epoch for the same occurrence whatever its clock skew, as
    /// long as its cron fired for that occurrence; the claim outlives any plausible skew.
    ///
    /// The host's clock decides first; the script checks it against Redis's, and when they
    /// differ by more than `OccurrenceClaim.skewToleranceMs` the choice is made again by Redis's
    /// clock (`byServerClock`): then a host whose cron fired at a wrong moment runs nothing.
    private func occurrenceClaim(_ job: JobDefinition, runID: String, nowMs: Int64 = Timestamp.nowMs(),
                                 byServerClock: Bool = false) -> OccurrenceClaim? {
        guard let schedule = job.schedule else { return nil }
        guard let occurrence = schedule.occurrence(startingAtMs: nowMs, graceMs: job.grace.milliseconds, jitter: job.jitter) else {
            if !byServerClock { diagnostics.info("started outside every occurrence's grace window: taking the lease only") }
            return nil
        }
        let ttl = max(3600, 2 * (job.grace.wholeSeconds + (job.jitter?.seconds ?? 0)))
        return OccurrenceClaim(epoch: occurrence / 1000, runID: runID, ttlSeconds: ttl, hostClockMs: byServerClock ? nil : nowMs)
    }

    private static func seconds(_ ms: Int64) -> String {
        ms >= 10_000 ? String(ms / 1000) : "\(ms / 1000).\(ms % 1000 / 100)"
    }
}

enum RunID {
    /// Sortable by start time and unique across hosts: 12 hex digits of milliseconds since
    /// the epoch, then 8 random hex digits.
    static func make() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let ms = UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
        let r = UInt32.random(in: 0...UInt32.max)
        return hex(ms, digits: 12) + hex(UInt64(r), digits: 8)
    }

    private static func hex(_ v: UInt64, digits: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }
}

