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
        let started = monotonicMs()
        let startedAtWall = Int64(time(nil))
        let child: ChildProcess
        do {
            child = try ChildProcess(argv: settings.argv, environment: env, user: settings.runAs)
        } catch {
            lease.map { $0.client.release(keys: $0.keys, owner: $0.owner) }
            diagnostics.error("\(error)")
            reports?.couldNotStart(because: "\(error)", scheduledFor: claimedOccurrence, fence: fence,
                                   command: settings.argv.joined(separator: " "))
            return 127
        }
        diagnostics.info("running \(job.name) as run \(runID) (pid \(child.pid), fence \(fence))")
        let gelf = startGELF(settings, runID: runID, pid: child.pid, fence: fence)
        gelf?.started(job: job.name, command: settings.argv.joined(separator: " "),
                      scheduledFor: claimedOccurrence.map { rfc3339($0, timeZone: job.timezone) })
        let sinks: [OutputSink] = gelf.map { [$0] } ?? []
        let pumps = [
            OutputPump(source: child.stdoutPipe, destination: invocation.quiet ? nil : 1, stream: .stdout, sinks: sinks, tail: tail),
            OutputPump(source: child.stderrPipe, destination: invocation.quiet ? nil : 2, stream: .stderr, sinks: sinks, tail: tail),
        ]
        pumps.forEach { $0.start() }
        reports?.started(pid: child.pid, scheduledFor: claimedOccurrence, fence: fence, command: settings.argv.joined(separator: " "),
                         leaseMs: lease.map { $0.client.primaryGranted } == true && cronlock == nil ? settings.lockTTL.milliseconds : nil)

        var supervisor = Supervisor(child: child, lease: lease, timeoutMs: settings.timeout?.milliseconds,
                                    killAfterMs: job.killAfter.milliseconds, diagnostics: diagnostics)
        let ending = supervisor.run(startedAt: started)
        for pump in pumps where !pump.waitForEnd(timeoutMs: 2000) {
            diagnostics.warning("a process left behind by the job still holds its output open; not waiting for it")
        }
        reports?.finished(ending, tail: tail)
        if var l = supervisor.lease, l.timeline.childExited() == .release {
            l.client.release(keys: l.keys, owner: l.owner, holdUntil: cronlock.map { startedAtWall + $0.graceSeconds + 1 })
        }
        if let dropped = gelf?.finished(job: job.name, ending: ending), dropped > 0 {
            diagnostics.info("Graylog: \(dropped) output line(s) dropped (receiver slow or unreachable)")
        }
        diagnostics.info("\(job.name) ended: \(ending.outcome), exit \(ending.exitCode), \(ending.durationMs) ms")
        return ending.exitCode
    }

    /// A broken GELF setting costs the logs, never the run: warn and carry on without it.
    private func startGELF(_ settings: RunSettings, runID: String, pid: Int32, fence: Int64) -> GELFOutput? {
        guard let url = settings.config.gelf else { return nil }
        do {
            let sender = try GELFSender(url: url, compression: GELFCompression(rawValue: settings.config.gelfCompression) ?? .gzip,
                                        chunkSize: settings.config.gelfChunkSize)
            return GELFOutput(sender: sender, host: settings.host, job: settings.job.name, runID: runID, pid: pid, fence: fence)
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
                let sentAt = monotonicMs()
                let outcome = try client.acquire(keys: keys, owner: owner, ttlMs: ttl, claim: claim)
                switch outcome {
                case .unreplicated where settings.config.onRedisDown == .skip:
                    client.giveBack(keys: keys, owner: owner, claim: claim)
                    diagnostics.error("no Redis replica acknowledged the lease within \(settings.config.redisWaitTimeout), not running \(job.name) (on_redis_down: skip): a failover could lose the claim and run it twice")
                    return .exit(ExitCode.wrapperError)
                case .acquired(let fence, let validFor), .unreplicated(let fence, let validFor):
                    if case .unreplicated = outcome {
                        diagnostics.warning("no Redis replica acknowledged the lease within \(settings.config.redisWaitTimeout): running \(job.name) anyway (on_redis_down: run); a failover now could let another host run this occurrence too")
                    }
                    let timeline = LeaseTimeline(ttlMs: ttl, acquiredAt: sentAt, validForMs: validFor)
                    return .held(HeldLease(client: client, keys: keys, owner: owner, timeline: timeline, policy: job.onLockLost),
                                 fence: fence, occurrence: claim?.epoch)
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

