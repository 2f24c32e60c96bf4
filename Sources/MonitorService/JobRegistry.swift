import Foundation
import JobwatchCore
import Logging
import MonitorCore

/// Public API of this file:
///
///     public final class JobRegistry: Sendable
///         init(environment: MonitorEnvironment)
///         func reload() async   // SIGHUP: asks the leader to re-read jobs.d (and mon:defs)
///         func definitions(registered: [String: String]) -> JobDefinitions
///     public struct JobDefinitions: Sendable { specs: [String: JobSpec]; rejected: [String: String] }
///
/// Where definitions come from: `jobs.d/<name>.yaml` files, then definitions registered with
/// `PUT /api/v1/jobs/{job}` (`mon:defs`) for names without a file, so a deployed file stays
/// the source of truth. Reading happens on the leader, when it takes over and on every
/// `reload`/`define` stream entry: a SIGHUP sent to a follower still reaches the leader,
/// and every replica holds the same jobs.d (SPEC §1.2).
public final class JobRegistry: Sendable {
    private let environment: MonitorEnvironment

    public init(environment: MonitorEnvironment) {
        self.environment = environment
    }

    /// Queues a reload behind the reports already in the stream; returns once it is queued.
    public func reload() async {
        let entry = environment.store.reloadEntry(at: environment.clock())
        do {
            let reply = try await environment.shared.command(entry)
            if case .error(let e) = reply { environment.logger.error("reload: \(e)") }
        } catch {
            environment.logger.error("reload: cannot reach Redis: \(error)")
        }
    }

    /// Every definition the monitor should watch. `registered` is `mon:defs` (job → YAML).
    /// A broken file rejects only its own job; the others load as usual.
    public func definitions(registered: [String: String]) -> JobDefinitions {
        let (config, monitor) = (environment.config, environment.monitor)
        let directory = JobsDirectory.load(config.jobsDir, defaultTimezone: config.timezone)
        var result = JobDefinitions()
        result.complete = directory.listed
        for definition in directory.jobs {
            result.specs[definition.name] = JobSpec(definition, defaultChannels: monitor.defaultAlerts,
                                                    fleetMaintenance: monitor.maintenance, fleetTimezone: config.timezone)
        }
        for problem in directory.problems {
            note(problem, into: &result)
        }
        for (job, text) in registered where result.specs[job] == nil && result.rejected[job] == nil {
            do {
                let definition = try JobDefinition.parse(text: text, path: "api/\(job).yaml", defaultTimezone: config.timezone)
                result.specs[job] = JobSpec(definition, defaultChannels: monitor.defaultAlerts,
                                            fleetMaintenance: monitor.maintenance, fleetTimezone: config.timezone)
            } catch let e as ConfigErrors {
                e.errors.forEach { note($0, into: &result) }
            } catch {
                result.rejected[job] = "\(error)"
            }
        }
        for (job, spec) in result.specs {
            for channel in spec.channels where monitor.channels[channel] == nil {
                environment.logger.warning("job \(job) alerts unknown channel \(channel)")
            }
        }
        return result
    }

    /// A problem is attributed to the job its file is named after; one that names no job
    /// (an unreadable directory, a bad file name) can only be logged.
    private func note(_ problem: ConfigError, into result: inout JobDefinitions) {
        environment.logger.error("\(problem)")
        let file = (problem.path as NSString).lastPathComponent
        let job = file.hasSuffix(".yaml") || file.hasSuffix(".yml") ? (file as NSString).deletingPathExtension : ""
        guard JobName.isValid(job) else { return }
        let reason = problem.description
        result.rejected[job] = result.rejected[job].map { $0 + "; " + reason } ?? reason
    }
}

public struct JobDefinitions: Sendable {
    public var specs: [String: JobSpec] = [:]
    /// Job → why its definition does not load (`path:line:column: message`).
    public var rejected: [String: String] = [:]
    /// jobs.d could be listed, so a job in neither `specs` nor `rejected` has no definition
    /// any more. False when the directory itself was unreadable: nothing may be retired then.
    public var complete = true
}
