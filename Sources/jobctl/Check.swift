import ArgumentParser
import Foundation
import JobwatchCore

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the global config and every jobs.d file; exit non-zero on any problem.")

    @OptionGroup var jobs: JobsOptions

    func run() throws {
        let (global, dir, loadProblems) = jobs.load()
        var problems = loadProblems
        for job in dir.jobs {
            for name in job.alerts ?? [] where !global.monitor.channels.isEmpty && global.monitor.channels[name] == nil {
                problems.append(job.problem(at: "alerts", "alerts: unknown channel \"\(name)\" (channels: \(global.monitor.channels.keys.sorted().joined(separator: ", ")))"))
            }
        }
        for p in problems { FileHandle.standardError.write(Data("\(p)\n".utf8)) }
        let source = global.sourcePath ?? "built-in defaults"
        print("checked \(source) and \(dir.jobs.count + Set(dir.problems.map(\.path)).count) job file(s) in \(dir.path): "
              + (problems.isEmpty ? "all valid" : "\(problems.count) problem(s)"))
        if !problems.isEmpty { throw ExitCode(1) }
    }
}
