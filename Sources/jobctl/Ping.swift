import ArgumentParser
import Foundation
import Reporting

struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tell the monitor a job ran (for scripts that cannot use jobrun).",
        discussion: "POSTs /ping/JOB, /ping/JOB/start, /ping/JOB/fail or /ping/JOB/CODE to monitor_url with the token.")

    @OptionGroup var options: MonitorOptions
    @Argument(help: "Job name.") var job: String
    @Flag(help: "The job is starting now.") var start = false
    @Flag(help: "The job failed.") var fail = false
    @Option(help: "The job's exit code (0 is success).") var exitCode: Int32?

    func validate() throws {
        if [start, fail, exitCode != nil].filter({ $0 }).count > 1 {
            throw ValidationError("give at most one of --start, --fail and --exit-code")
        }
    }

    func run() throws {
        let config = try options.load()
        var signal = MonitorPing.Signal.success
        if start { signal = .start }
        if fail { signal = .fail }
        if let exitCode { signal = .exitCode(exitCode) }
        switch MonitorPing.send(job: try validJob(job), signal: signal, monitorURL: config.monitorURL, token: config.token) {
        case .delivered:
            return
        case .failed(let why), .rejected(let why):
            FileHandle.standardError.write(Data("jobctl: ping \(job) failed: \(why)\n".utf8))
            throw ExitCode.failure
        }
    }
}
