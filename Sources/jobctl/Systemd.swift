import ArgumentParser
import Foundation
import JobwatchCore

struct Systemd: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a jobwatch-<job>.service and .timer for every scheduled job.",
        discussion: """
            Each timer's OnCalendar= carries the job's own zone, so unlike 'jobctl crontab' every zone works. \
            On DST change days systemd differs from cron: a time skipped by spring-forward is skipped, not run \
            at the end of the gap, and a */N or hourly job runs only in the first copy of a repeated hour. \
            Without --out the units are printed, each after a '# ==> NAME <==' header. Exits 1 when a job was \
            left out or a file has problems.
            """)

    @OptionGroup var jobs: JobsOptions
    @Option(help: "Write the unit files into this directory (e.g. /etc/systemd/system) instead of printing them.")
    var out: String?
    @Option(help: "The jobrun binary ExecStart= runs.") var jobrun = "/usr/local/bin/jobrun"

    func run() throws {
        if let problem = jobrunPathProblem(jobrun) { throw ValidationError(problem) }
        let loaded = jobs.load()
        var problems = loaded.problems
        var units: [UnitFile] = []
        for job in loaded.directory.jobs {
            switch SystemdTimer.outcome(for: job, jobrun: jobrun) {
            case .units(let service, let timer): units += [service, timer]
            case .skipped(let note): FileHandle.standardError.write(Data("\(note)\n".utf8))
            case .refused(let problem): problems.append(problem)
            }
        }
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for unit in units {
                try Data(unit.contents.utf8).write(to: URL(fileURLWithPath: out).appendingPathComponent(unit.name), options: .atomic)
            }
            let timers = units.map(\.name).filter { $0.hasSuffix(".timer") }
            print("wrote \(units.count) unit file(s) to \(out)")
            if !timers.isEmpty { print("start them with: systemctl daemon-reload && systemctl enable --now \(timers.joined(separator: " "))") }
        } else {
            print(units.map { "# ==> \($0.name) <==\n\($0.contents)" }.joined(separator: "\n"), terminator: "")
        }
        try exitReporting(problems)
    }
}
