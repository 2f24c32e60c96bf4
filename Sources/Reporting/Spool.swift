import Synchronization
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// Undelivered events on this host, one file each in `spool_dir`, delivered in order later.
///
/// File names are `<epoch ms, 13 digits>-<pid, 10 digits>-<per-process counter, 6 digits>.event`,
/// so lexical order is creation order: across processes by the clock (to the millisecond;
/// events of two processes in the same millisecond are concurrent anyway), within a process
/// by the counter. Files are written under a dot-name, fsynced and renamed into place, so a
/// reader never sees half an event; they are 0600 in a 0700 directory (output tails may hold
/// secrets). Delivery holds an exclusive flock on `.lock` so two processes never send the
/// same file twice.
public final class Spool {
    public let directory: String
    /// Above this many files the spool still takes every event (a report is never dropped to
    /// save space) but says on stderr that something has been down for a long time.
    public static let warnAbove = 10_000
    private let warn: (String) -> Void

    public struct FlushResult: Equatable, Sendable {
        public var delivered = 0
        public var remaining = 0
        /// Another process was delivering, so this one did not (non-waiting flushes only).
        public var busy = false
        /// Why delivery stopped with files left, if it did.
        public var failure: String?
    }

    public init(directory: String, warn: @escaping (String) -> Void) {
        self.directory = directory
        self.warn = warn
    }

    /// Spooled event files, oldest first. A missing directory is an empty spool.
    public func pending() -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if !name.hasPrefix("."), name.hasSuffix(".event") { names.append(name) }
        }
        return names.sorted()
    }

    public var isEmpty: Bool { pending().isEmpty }

    /// Stores one event durably; returns its path.
    @discardableResult
    public func write(_ event: RunEvent) throws -> String {
        try makeDirectory(directory)
        let count = pending().count
        if count >= Self.warnAbove {
            warn("the spool \(directory) holds \(count) undelivered events: the monitor and Redis have been unreachable for a long time (run `jobctl flush` once they are back)")
        }
        let name = Self.nextName()
        try writeDurably(event.json(includeType: true), name: name, in: directory)
        return directory + "/" + name
    }

    /// Delivers every spooled event in order, deleting each file only once `deliver` says it
    /// arrived, and stops at the first failure so that nothing overtakes an older event.
    /// Files that cannot be read as events, or that the monitor refuses for good, are moved
    /// to `bad/` with a warning. With `wait: false` a spool another process is already
    /// delivering is left to it.
    public func deliverAll(wait: Bool, using deliver: (RunEvent) -> Delivery) -> FlushResult {
        var result = FlushResult()
        guard !pending().isEmpty else { return result }
        let lock = open(directory + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else {
            result.failure = "cannot open \(directory)/.lock: \(String(cString: strerror(errno)))"
            result.remaining = pending().count
            return result
        }
        defer { close(lock) }   // closing releases the flock
        while flock(lock, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            if errno == EINTR { continue }
            result.busy = true
            result.remaining = pending().count
            return result
        }
        // Re-listing after each pass picks up events spooled while we were delivering; the
        // cap keeps a writer faster than the monitor from holding us here for ever.
        passes: for _ in 0..<5 {
            let names = pending()
            if names.isEmpty { break }
            for name in names {
                let path = directory + "/" + name
                guard let bytes = FileSystem.contents(atPath: path) else { continue }
                guard let event = RunEvent(json: bytes) else {
                    setAside(name, because: "it is not a readable event")
                    continue
                }
                switch deliver(event) {
                case .delivered:
                    unlink(path)
                    result.delivered += 1
                case .rejected(let why):
                    setAside(name, because: "the monitor refused it (\(why))")
                case .failed(let why):
                    result.failure = why
                    break passes
                }
            }
        }
        result.remaining = pending().count
        return result
    }

    /// Keeps an event the monitor refused for good where an operator can look at it.
    public func keepRejected(_ event: RunEvent) throws {
        let bad = directory + "/bad"
        try makeDirectory(directory)
        try makeDirectory(bad)
        try writeDurably(event.json(includeType: true), name: Self.nextName(), in: bad)
    }

    private func setAside(_ name: String, because reason: String) {
        let bad = directory + "/bad"
        do {
            try makeDirectory(bad)
            guard rename(directory + "/" + name, bad + "/" + name) == 0 else {
                throw SpoolError("cannot move it to \(bad): \(String(cString: strerror(errno)))")
            }
            warn("spool file \(directory)/\(name) moved to \(bad)/ because \(reason)")
        } catch {
            // Deleting it would lose the evidence; leaving it would block the spool for ever.
            warn("spool file \(directory)/\(name) skipped because \(reason); \(error)")
        }
    }

    private func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o700) == 0 || errno == EEXIST { return }
        do {
            try FileSystem.createDirectories(atPath: path, mode: 0o700)
        } catch {
            throw SpoolError("cannot create spool directory \(path): \(error)")
        }
    }

    private func writeDurably(_ bytes: [UInt8], name: String, in dir: String) throws {
        let temp = dir + "/.tmp-" + name
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SpoolError("cannot create \(temp): \(String(cString: strerror(errno)))") }
        var ok = fchmod(fd, 0o600) == 0   // a umask can only remove bits; make the mode exact
        ok = ok && bytes.withUnsafeBytes { FileDescriptor.writeAll(fd, $0) }
        ok = ok && fsync(fd) == 0
        var problem = String(cString: strerror(errno))
        close(fd)
        if ok && rename(temp, dir + "/" + name) != 0 {
            ok = false
            problem = String(cString: strerror(errno))
        }
        guard ok else {
            unlink(temp)
            throw SpoolError("cannot write \(dir)/\(name): \(problem)")
        }
        // The rename is durable only once the directory itself is synced.
        let dirFD = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }

    private static let sequence = Mutex((counter: 0, lastMs: Int64(0)))

    /// Never goes backwards within a process, even if the wall clock is stepped back.
    static func nextName() -> String {
        let (counter, ms) = sequence.withLock { s in
            s.lastMs = max(s.lastMs, Timestamp.nowMs())
            s.counter += 1
            return (s.counter, s.lastMs)
        }
        return Timestamp.pad(Int(ms), 13) + "-" + Timestamp.pad(Int(getpid()), 10) + "-"
            + Timestamp.pad(counter % 1_000_000, 6) + ".event"
    }
}

public struct SpoolError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
