import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real `redis-server` on a free loopback port, started for one test and stopped after it.
public final class RedisServer {
    public let port: Int
    public let directory: String
    private let process: Process

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    public init(extraArguments: [String] = []) throws {
        guard let binary = which("redis-server") else {
            throw Unavailable(description: "redis-server is not installed (apt-get install redis-server)")
        }
        directory = try TemporaryDirectory.make(prefix: "redis")
        var lastError = ""
        for _ in 0..<5 {
            let port = try freePort()
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                           "--dir", directory, "--daemonize", "no", "--loglevel", "warning"] + extraArguments
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            if waitUntil(timeout: 10, { Self.answers(port: port) }) {
                self.port = port
                self.process = p
                return
            }
            lastError = "redis-server did not answer PING on port \(port)"
            p.terminate()
            p.waitUntilExit()
        }
        throw Unavailable(description: lastError)
    }

    public var url: String { "redis://127.0.0.1:\(port)/0" }

    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        // A server started from a thread that blocks SIGTERM (a Swift concurrency pool thread)
        // inherits that mask and never sees the signal: don't wait for it for ever.
        if !waitUntil(timeout: 5, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// `kill -9`: no shutdown, no save, connections reset.
    public func crash() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs a command through redis-cli and returns its raw output, trimmed.
    @discardableResult
    public func cli(_ args: String...) throws -> String {
        let r = try Command.run(["redis-cli", "-p", String(port), "--raw"] + args)
        return r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func ping(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else { return false }
        let ping = "PING\r\n"
        _ = ping.withCString { write(fd, $0, 6) }
        var buf = [UInt8](repeating: 0, count: 16)
        let n = read(fd, &buf, 16)
        return n > 0 && String(decoding: buf[0..<n], as: UTF8.self).hasPrefix("+PONG")
    }

    /// Up and speaking RESP: PONG, or NOAUTH from a server started with --requirepass.
    static func answers(port: Int) -> Bool {
        ping(port: port) || reply(port: port).hasPrefix("-NOAUTH")
    }

    private static func reply(port: Int) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else { return "" }
        _ = "PING\r\n".withCString { write(fd, $0, 6) }
        var buf = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buf, 64)
        return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : ""
    }
}

/// A loopback TCP port that was free a moment ago.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}

public func which(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

/// Polls `condition` every 10 ms until it holds or `timeout` seconds pass.
@discardableResult
public func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Scratch directories, all removed when the test process exits: XCTest keeps every test case
/// object (and so every harness) alive until then, so a `deinit` alone would leave them behind.
public enum TemporaryDirectory {
    private static let made = Mutex<[String]>([])

    public static func make(prefix: String) throws -> String {
        let path = NSTemporaryDirectory() + "jobwatch-\(prefix)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        made.withLock { paths in
            if paths.isEmpty { atexit { TemporaryDirectory.removeAll() } }
            paths.append(path)
        }
        return path
    }

    private static func removeAll() {
        for path in made.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
    }
}
