#if canImport(Glibc)
import Glibc
#endif

// The few file, environment and text conveniences the host-side tools need, over libc.
// `jobrun` starts on every cron tick on every host; linking Foundation for these would cost
// it more start-up time than all of its own work (docs/BENCHMARKS.md), so the libraries it
// uses build on this instead.

/// This host's name as `jobrun` reports it: gethostname(2) directly, because Foundation's
/// hostName may resolve the name through DNS, which a wrapper that runs on every cron tick must
/// not wait for.
public func systemHostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

public enum FileSystem {
    /// The whole file, or nil if it cannot be opened or read.
    public static func contents(atPath path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return contents(of: fd)
    }

    /// Everything left to read on `fd`, or nil on a read error.
    public static func contents(of fd: Int32) -> [UInt8]? {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { return result }
            result.append(contentsOf: chunk[..<n])
        }
    }

    /// The file as UTF-8 text (invalid sequences replaced), or nil if it cannot be read.
    public static func text(atPath path: String) -> String? {
        contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    public static func exists(atPath path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// The names in a directory, without `.` and `..`, unsorted.
    public static func directoryEntries(atPath path: String) throws(SystemError) -> [String] {
        guard let dir = opendir(path) else { throw SystemError("cannot list \(path)") }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0   // readdir returns NULL at the end and on an error; only errno tells them apart
            guard let entry = readdir(dir) else {
                if errno != 0 { throw SystemError("cannot list \(path)") }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// `mkdir -p` with `mode` for every directory it creates.
    public static func createDirectories(atPath path: String, mode: mode_t) throws(SystemError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, mode) != 0 && errno != EEXIST { throw SystemError("cannot create directory \(prefix)") }
        }
    }
}

/// A failed system call, with the path it concerned and `strerror(errno)` captured at once.
public struct SystemError: Error, CustomStringConvertible {
    public let description: String

    public init(_ what: String) {
        description = what + ": " + String(cString: strerror(errno))
    }
}

public enum ProcessEnvironment {
    /// The process environment, read once from `environ`.
    public static func current() -> [String: String] {
        var result: [String: String] = [:]
        var entry = Glibc.environ
        while let pointer = entry.pointee {
            let pair = String(cString: pointer)
            // By byte: as a Character, "=" followed by a combining mark would not be "=".
            if let eq = pair.utf8.firstIndex(of: UInt8(ascii: "=")) {
                result[String(pair[..<eq])] = String(pair[pair.utf8.index(after: eq)...])
            }
            entry += 1
        }
        return result
    }
}

public enum StandardError {
    /// Writes the whole text to fd 2, retrying short writes; errors are ignored (there is
    /// nowhere left to report them).
    public static func write(_ text: String) {
        Array(text.utf8).withUnsafeBytes { _ = FileDescriptor.writeAll(2, $0) }
    }
}

public enum Path {
    /// `/etc/jobs.d/backup.yaml` → `backup.yaml`.
    public static func lastComponent(_ path: String) -> String {
        let bytes = path.utf8
        var end = bytes.endIndex
        while end > bytes.startIndex, bytes[bytes.index(before: end)] == UInt8(ascii: "/") { end = bytes.index(before: end) }
        let start = bytes[..<end].lastIndex(of: UInt8(ascii: "/")).map(bytes.index(after:)) ?? bytes.startIndex
        return String(path[start..<end])
    }

    /// `/etc/jobs.d/backup.yaml` → `/etc/jobs.d`; `backup.yaml` → `.`; `/x` → `/`.
    public static func directory(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    /// `backup.yaml` → `backup`; a leading dot is part of the name, not an extension.
    public static func deletingExtension(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace (Unicode's definition, newlines included).
    public func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }

}

extension String {
    /// A whole number, left-padded with zeros to `width` digits.
    public init(zeroPadded value: Int, width: Int) {
        let digits = value.magnitude.description
        let zeros = [Character](repeating: "0", count: Swift.max(0, width - digits.count))
        self.init((value < 0 ? "-" : "") + String(zeros) + digits)
    }
}
