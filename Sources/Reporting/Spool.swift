import Synchronization
import SystemSupport
#if canImport(Glibc)
import Glibc
import JobwatchCore
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
///
/// `jobrun` runs as root, and a spool directory is a place other users may have touched. So
/// the directory is opened once, without following a symlink, and used only if it belongs to
/// us and nobody else may write to it; every file in it is then opened relative to that
/// descriptor with O_NOFOLLOW (created with O_EXCL), and a spooled event is read only if it is
/// a regular file of ours. A planted symlink or FIFO is set aside, never followed.
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

    /// Spooled event files, oldest first. A missing (or unusable) directory is an empty spool.
    public func pending() -> [String] {
        guard let dir = try? SpoolDirectory(directory, create: false) else { return [] }
        return dir.eventNames()
    }

    public var isEmpty: Bool { pending().isEmpty }

    /// Stores one event durably; returns its path.
    @discardableResult
    public func write(_ event: RunEvent) throws -> String {
        let dir = try SpoolDirectory(directory, create: true)
        let count = dir.eventNames().count
        if count >= Self.warnAbove {
            warn("the spool \(directory) holds \(count) undelivered events: the monitor and Redis have been unreachable for a long time (run `jobctl flush` once they are back)")
        }
        let name = Self.nextName()
        try dir.writeDurably(event.json(includeType: true), name: name)
        return directory + "/" + name
    }

    /// Delivers every spooled event in order, deleting each file only once `deliver` says it
    /// arrived, and stops at the first failure so that nothing overtakes an older event.
    /// Files that cannot be read as events, or that the monitor refuses for good, are moved
    /// to `bad/` with a warning. With `wait: false` a spool another process is already
    /// delivering is left to it.
    public func deliverAll(wait: Bool, using deliver: (RunEvent) -> Delivery) -> FlushResult {
        var result = FlushResult()
        let dir: SpoolDirectory
        do {
            dir = try SpoolDirectory(directory, create: false)
        } catch let error as SpoolError {
            if error.missing { return result }
            result.failure = error.description
            return result
        } catch {
            result.failure = "\(error)"
            return result
        }
        guard !dir.eventNames().isEmpty else { return result }
        let lock = openat(dir.fd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard lock >= 0 else {
            result.failure = "cannot open \(directory)/.lock: \(String(cString: strerror(errno)))"
            result.remaining = dir.eventNames().count
            return result
        }
        defer { close(lock) }   // closing releases the flock
        while flock(lock, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            if errno == EINTR { continue }
            result.busy = true
            result.remaining = dir.eventNames().count
            return result
        }
        // Re-listing after each pass picks up events spooled while we were delivering; the
        // cap keeps a writer faster than the monitor from holding us here for ever.
        passes: for _ in 0..<5 {
            let names = dir.eventNames()
            if names.isEmpty { break }
            for name in names {
                let bytes: [UInt8]
                switch dir.readEvent(name) {
                case .gone: continue
                case .notOurs(let why):
                    setAside(name, in: dir, because: why)
                    continue
                case .bytes(let b): bytes = b
                }
                guard let event = RunEvent(json: bytes) else {
                    setAside(name, in: dir, because: "it is not a readable event")
                    continue
                }
                switch deliver(event) {
                case .delivered:
                    unlinkat(dir.fd, name, 0)
                    result.delivered += 1
                case .rejected(let why):
                    setAside(name, in: dir, because: "the monitor refused it (\(why))")
                case .failed(let why):
                    result.failure = why
                    break passes
                }
            }
        }
        result.remaining = dir.eventNames().count
        return result
    }

    /// Keeps an event the monitor refused for good where an operator can look at it.
    public func keepRejected(_ event: RunEvent) throws {
        let bad = try SpoolDirectory(directory, create: true).subdirectory("bad")
        try bad.writeDurably(event.json(includeType: true), name: Self.nextName())
    }

    private func setAside(_ name: String, in dir: SpoolDirectory, because reason: String) {
        do {
            let bad = try dir.subdirectory("bad")
            // renameat moves the directory entry itself: a symlink is moved, never followed.
            guard renameat(dir.fd, name, bad.fd, name) == 0 else {
                throw SpoolError("cannot move it to \(bad.path): \(String(cString: strerror(errno)))")
            }
            warn("spool file \(directory)/\(name) moved to \(bad.path)/ because \(reason)")
        } catch {
            // Deleting it would lose the evidence; leaving it would block the spool for ever.
            warn("spool file \(directory)/\(name) skipped because \(reason); \(error)")
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
    /// The directory does not exist (yet): an empty spool, not a problem.
    let missing: Bool
    init(_ description: String, missing: Bool = false) {
        self.description = description
        self.missing = missing
    }
}

/// An open spool directory that passed the ownership checks; every file operation goes
/// through its descriptor, so swapping the path for a symlink afterwards changes nothing.
final class SpoolDirectory {
    let fd: Int32
    let path: String

    /// Opens `path` (creating it, and its parents, 0700 with `create`) and checks it: a real
    /// directory, owned by our effective user, writable by nobody else. A directory of ours
    /// that others may read is narrowed to 0700 (output tails may hold secrets).
    init(_ path: String, create: Bool) throws {
        self.path = path
        if create, mkdir(path, 0o700) != 0, errno != EEXIST {
            do {
                try FileSystem.createDirectories(atPath: path, mode: 0o700)
            } catch {
                throw SpoolError("cannot create spool directory \(path): \(error)")
            }
        }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = errno
            if reason == ENOENT { throw SpoolError("spool directory \(path) does not exist", missing: true) }
            if reason == ELOOP || reason == ENOTDIR {
                throw SpoolError("spool directory \(path) is a symlink or not a directory: refusing to use it (point spool_dir at a real directory)")
            }
            throw SpoolError("cannot open spool directory \(path): \(String(cString: strerror(reason)))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw SpoolError("cannot stat spool directory \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_uid == geteuid() else {
            close(fd)
            throw SpoolError("spool directory \(path) belongs to uid \(info.st_uid), not to us (uid \(geteuid())): refusing to use it; remove it or chown it")
        }
        guard info.st_mode & 0o022 == 0 else {
            close(fd)
            throw SpoolError("spool directory \(path) is writable by other users (mode \(String(info.st_mode & 0o7777, radix: 8))): refusing to use it; chmod 700 it")
        }
        if info.st_mode & 0o077 != 0 { fchmod(fd, 0o700) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// `bad/` and the like: created if missing, checked like the spool itself.
    func subdirectory(_ name: String) throws -> SpoolDirectory {
        if mkdirat(fd, name, 0o700) != 0 && errno != EEXIST {
            throw SpoolError("cannot create \(path)/\(name): \(String(cString: strerror(errno)))")
        }
        return try SpoolDirectory(path + "/" + name, create: false)
    }

    /// Event file names, oldest first; dot-files (temporaries, the lock) are not events.
    func eventNames() -> [String] {
        let copy = dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return []
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if !name.hasPrefix("."), name.hasSuffix(".event") { names.append(name) }
        }
        return names.sorted()
    }

    enum Read {
        case bytes([UInt8])
        case gone
        case notOurs(String)
    }

    /// A spooled event, read only if it is a regular file that we own: never through a symlink,
    /// never blocking on a FIFO.
    func readEvent(_ name: String) -> Read {
        let file = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard file >= 0 else {
            if errno == ENOENT { return .gone }
            return .notOurs(errno == ELOOP ? "it is a symlink" : "it cannot be opened (\(String(cString: strerror(errno))))")
        }
        defer { close(file) }
        var info = stat()
        guard fstat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return .notOurs("it is not a regular file") }
        guard info.st_uid == geteuid() else { return .notOurs("it belongs to uid \(info.st_uid), not to us") }
        guard let bytes = FileSystem.contents(of: file) else { return .notOurs("it cannot be read") }
        return .bytes(bytes)
    }

    func writeDurably(_ bytes: [UInt8], name: String) throws {
        let temp = ".tmp-" + name
        let file = openat(fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw SpoolError("cannot create \(path)/\(temp): \(String(cString: strerror(errno)))") }
        var ok = fchmod(file, 0o600) == 0   // a umask can only remove bits; make the mode exact
        ok = ok && bytes.withUnsafeBytes { FileDescriptor.writeAll(file, $0) }
        ok = ok && fsync(file) == 0
        var problem = String(cString: strerror(errno))
        close(file)
        if ok && renameat(fd, temp, fd, name) != 0 {
            ok = false
            problem = String(cString: strerror(errno))
        }
        guard ok else {
            unlinkat(fd, temp, 0)
            throw SpoolError("cannot write \(path)/\(name): \(problem)")
        }
        // The rename is durable only once the directory itself is synced.
        fsync(fd)
    }
}
