import ArgumentParser
import Foundation
import JobwatchCore
import SystemSupport

struct ImportCrontab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-crontab",
        abstract: "Turn an existing crontab into jobs.d files and print the crontab that replaces it.",
        discussion: """
            Writes one NAME.yaml per command line into --out and prints the crontab with each converted line \
            as 'SCHEDULE jobrun NAME'. Comments, blank lines and variables are printed as they were; a line \
            that cannot be converted (@reboot, a % feeding standard input, …) is printed unchanged under a \
            comment and reported on stderr as FILE:LINE:1. An existing job file is never overwritten: a new \
            name gets a -2, -3, … suffix instead, and a 'jobrun JOB' line whose JOB.yaml exists is kept as it \
            is. Exits 0 once the crontab was read and the files written, even if some lines were not \
            converted; 1 when FILE cannot be read or a file cannot be written.
            Example: crontab -l | jobctl import-crontab - --out jobs.d > crontab.new
            """)

    @Argument(help: "The crontab to convert ('-' reads standard input).") var file: String
    @Option(help: "Directory the job files are written to (created if missing).") var out = "jobs.d"
    @Flag(help: "The file is in /etc/crontab (or /etc/cron.d) format, with a user column after the schedule.")
    var system = false
    @OptionGroup var cron: CronTargetOptions

    func run() throws {
        let zone = try cron.cronZone()
        let text = try readCrontab()
        let directory = JobFileDirectory(path: out)
        let existing = try directory.jobNames()
        let imported = CrontabImport(text: text, settings: .init(
            source: file == "-" ? "<stdin>" : file, outDir: out, system: system, cronZone: zone.identifier,
            jobrun: cron.jobrun, existingJobs: existing))

        var unwritten: [String: String] = [:]
        if !imported.jobs.isEmpty { try directory.create() }
        for job in imported.jobs {
            do {
                try directory.writeNew(name: job.name, contents: job.yaml)
            } catch {
                unwritten[job.name] = "\(error)"
            }
        }
        if !imported.jobs.isEmpty { directory.syncEntries() }
        print(imported.crontab(unwritten: unwritten), terminator: "")
        var messages = imported.notConverted.map(\.description)
        messages += imported.jobs.compactMap { job in unwritten[job.name].map { "\(out)/\(job.name).yaml: not written: \($0)" } }
        let written = imported.jobs.count - unwritten.count
        messages.append("jobctl import-crontab: wrote \(written) job file(s) to \(out); \(imported.notConverted.count) line(s) not converted")
        FileHandle.standardError.write(Data(messages.map { $0 + "\n" }.joined().utf8))
        if !unwritten.isEmpty { throw ExitCode(1) }
    }

    private func readCrontab() throws -> String {
        let data: Data?
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = FileManager.default.contents(atPath: file)
        }
        guard let data else { throw importFailure("cannot read \(file)") }
        guard let text = String(data: data, encoding: .utf8) else { throw importFailure("\(file) is not UTF-8 text") }
        return text
    }
}

/// `--out`: job files are created, never replaced. Each is written to a temporary file and
/// then hard-linked to its name, which fails rather than replace a file that appeared meanwhile.
struct JobFileDirectory {
    let path: String

    /// Names of the job files already there (`.yml` too: `jobctl check` reports those).
    func jobNames() throws -> Set<String> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { throw importFailure("--out \(path) is not a directory") }
        do {
            let entries = try FileManager.default.contentsOfDirectory(atPath: path)
            return Set(entries.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.map { ($0 as NSString).deletingPathExtension })
        } catch {
            throw importFailure("cannot list --out \(path): \(error.localizedDescription)")
        }
    }

    func create() throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw importFailure("cannot create --out \(path): \(error.localizedDescription)")
        }
    }

    func writeNew(name: String, contents: String) throws {
        let target = "\(path)/\(name).yaml"
        let temporary = "\(path)/.\(name).yaml.\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemFailure("cannot create \(temporary)") }
        defer { unlink(temporary) }
        let written = Array(contents.utf8).withUnsafeBytes { FileDescriptor.writeAll(fd, $0) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written, synced else { throw SystemFailure("cannot write \(temporary)") }
        guard link(temporary, target) == 0 else {
            throw errno == EEXIST ? SystemFailure("\(target) appeared meanwhile and is never overwritten", errno: 0)
                : SystemFailure("cannot create \(target)")
        }
    }

    /// Makes the new names themselves durable, not just the files' contents.
    func syncEntries() {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}

/// A libc call that failed, with `strerror`.
struct SystemFailure: Error, CustomStringConvertible {
    let description: String
    init(_ what: String, errno code: Int32 = errno) {
        description = code == 0 ? what : "\(what): \(String(cString: strerror(code)))"
    }
}

/// An error printed as `jobctl: …` with exit 1.
func importFailure(_ message: String) -> Error {
    FileHandle.standardError.write(Data("jobctl: \(message)\n".utf8))
    return ExitCode.failure
}
