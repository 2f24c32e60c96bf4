import Foundation
import JobwatchTestSupport
@testable import RedisLease
import XCTest
#if canImport(Glibc)
import Glibc
import JobwatchCore
#endif

extension XCTestCase {
    /// A real redis-server for this test, stopped when the test ends.
    func startRedis(_ extraArguments: [String] = []) throws -> RedisServer {
        let server: RedisServer
        do {
            server = try RedisServer(extraArguments: extraArguments)
        } catch let e as RedisServer.Unavailable {
            throw XCTSkip(e.description)
        }
        addTeardownBlock { server.stop() }
        return server
    }

    /// A connected client; short timeouts and one attempt keep failure tests fast.
    func connectedClient(_ urls: [String], timeoutMs: Int = 500, attempts: Int = 1) throws -> LeaseClient {
        let client = LeaseClient(topology: try RedisTopology.parse(urls), timeoutMs: timeoutMs, attempts: attempts)
        try client.connect()
        return client
    }

    func uniqueKeys(_ job: String = #function) -> LeaseKeys {
        let name = job.filter { $0.isLetter || $0.isNumber }
        return LeaseKeys(prefix: "jwtest:", job: "\(name)-\(UUID().uuidString.prefix(6))")
    }

    /// Runs `body`, returning what it threw (nil if nothing) and how long it took.
    func timed(_ body: () throws -> Void) -> (error: Error?, seconds: Double) {
        let start = Date()
        do {
            try body()
            return (nil, Date().timeIntervalSince(start))
        } catch {
            return (error, Date().timeIntervalSince(start))
        }
    }
}

func assertAcquired(_ outcome: AcquireOutcome, file: StaticString = #filePath, line: UInt = #line) -> Int64? {
    guard case .acquired(let fence, _) = outcome else {
        XCTFail("expected .acquired, got \(outcome)", file: file, line: line)
        return nil
    }
    return fence
}

/// A TCP port that accepts connections (the kernel completes the handshake into the backlog)
/// but never answers: a black-holed Redis.
final class SilentListener {
    let port: Int
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw XCTSkip("cannot listen on loopback")
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: addr.sin_port))
    }

    deinit { close(fd) }
}
