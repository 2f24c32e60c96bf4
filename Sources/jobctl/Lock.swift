import ArgumentParser
import Foundation
import JobwatchCore
import RedisLease

struct Lock: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show who holds a job's lock, its remaining TTL and fencing token.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "Job name.") var job: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let config = try options.load()
        let state = try connect(config).inspect(keys: LeaseKeys(prefix: config.keyPrefix, job: try validJob(job)))
        if json {
            let object: [String: Any] = ["job": job, "holder": state.holder as Any, "ttl_ms": state.ttlMs as Any, "fence": state.fence]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        if let holder = state.holder {
            let ttl = state.ttlMs.map { "\(Timespan(milliseconds: $0))" } ?? "no expiry"
            print("\(job): held by \(holder), \(ttl) left, fence \(state.fence)")
        } else {
            print("\(job): free (last fence \(state.fence))")
        }
    }
}

struct Unlock: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a job's lock whoever holds it (operator override; logged).")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "Job name.") var job: String
    @Flag(help: "Required: the holder may still be running.") var force = false

    func run() throws {
        guard force else {
            throw ValidationError("unlocking may let a second copy of \(job) start while the first still runs; add --force if you are sure")
        }
        let config = try options.load()
        let previous = try connect(config).forceUnlock(keys: LeaseKeys(prefix: config.keyPrefix, job: try validJob(job)))
        let who = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        let line = "jobctl: \(job): lock forcibly released by \(who); previous holder: \(previous ?? "none")\n"
        FileHandle.standardError.write(Data(line.utf8))
        logToSyslog(line)
    }
}

func validJob(_ name: String) throws -> String {
    guard JobName.isValid(name) else { throw ValidationError(JobName.validationMessage(name)) }
    return name
}

func connect(_ config: GlobalConfig) throws -> LeaseClient {
    let topology = try RedisTopology.parse(config.redis).withPassword(try config.redisPassword?.resolve())
    let client = LeaseClient(topology: topology)
    try client.connect()
    return client
}

var environment: [String: String] { ProcessInfo.processInfo.environment }
