import Foundation
import JobwatchCore
import JobwatchTestSupport
@testable import RedisLease
import XCTest

/// Authentication, database selection and failure modes of the connection.
final class RedisConnectionTests: XCTestCase {
    /// `RedisServer(extraArguments: ["--requirepass", …])` never becomes ready (its readiness
    /// PING is answered with NOAUTH), so the password is set once the server is up.
    private func startPasswordProtectedRedis(_ password: String) throws -> RedisServer {
        let server = try startRedis()
        XCTAssertEqual(try server.cli("CONFIG", "SET", "requirepass", password), "OK")
        XCTAssertTrue(try server.cli("GET", "x").contains("NOAUTH"), "the server now requires the password")
        return server
    }

    /// A pipeline tied to one connection (a WATCH made on it) is not sent on the next one.
    func testAPipelineForAConnectionThatWasReplacedIsNotSent() throws {
        let server = try startRedis()
        let c = RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port), timeoutMs: 1000)
        XCTAssertEqual(try c.command(["CLIENT", "SETNAME", "watched"]).string, "OK")
        let first = c.generation
        _ = try server.cli("CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal")
        XCTAssertEqual(try c.command(["PING"]).string, "PONG", "reconnected")
        XCTAssertEqual(c.generation, first + 1)
        XCTAssertThrowsError(try c.pipeline([RESPBuffer([["SET", "written", "1"]])], onConnection: first) { _, _ in })
        XCTAssertEqual(try c.command(["EXISTS", "written"]).integer, 0, "nothing sent on the new connection")
    }

    func testRequirepassWithTheRightPassword() throws {
        let server = try startPasswordProtectedRedis("s3cret")
        let keys = uniqueKeys()
        let c = try connectedClient(["redis://:s3cret@127.0.0.1:\(server.port)/0"])
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "authed", ttlMs: 5_000, claim: nil)))
        XCTAssertEqual(try server.cli("-a", "s3cret", "--no-auth-warning", "GET", keys.lock), "authed")
    }

    func testRedisPasswordAppliedToTheTopology() throws {
        let server = try startPasswordProtectedRedis("s3cret")
        let topology = try RedisTopology.parse([server.url]).withPassword("s3cret")
        let c = LeaseClient(topology: topology, timeoutMs: 500, attempts: 1)
        try c.connect()
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: uniqueKeys(), owner: "o", ttlMs: 5_000, claim: nil)))
    }

    func testWrongPasswordIsAClearImmediateError() throws {
        let server = try startPasswordProtectedRedis("s3cret")
        let c = LeaseClient(topology: try RedisTopology.parse(["redis://:hunter2x@127.0.0.1:\(server.port)/0"]),
                            timeoutMs: 500, attempts: 3)
        let (thrown, seconds) = timed { try c.connect() }
        XCTAssertNotNil(thrown)
        // One connection reports it as the server's refusal, not as a network problem.
        let direct = RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port, password: "hunter2x"), attempts: 3)
        XCTAssertThrowsError(try direct.connect()) { XCTAssertEqual(($0 as? RedisError)?.kind, .server) }
        let message = "\(thrown.map { "\($0)" } ?? "")"
        XCTAssertTrue(message.contains("refused authentication"), message)
        XCTAssertTrue(message.contains("WRONGPASS") || message.contains("invalid password"), message)
        XCTAssertFalse(message.contains("hunter2x"), "the password itself is never printed: \(message)")
        XCTAssertLessThan(seconds, 1.0, "a wrong password is not retried with backoff")
    }

    func testMissingPasswordSurfacesNOAUTH() throws {
        let server = try startPasswordProtectedRedis("s3cret")
        let c = try connectedClient([server.url])
        let (thrown, _) = timed { _ = try c.acquire(keys: self.uniqueKeys(), owner: "o", ttlMs: 5_000, claim: nil) }
        XCTAssertTrue("\(thrown.map { "\($0)" } ?? "no error")".contains("NOAUTH"), "\(String(describing: thrown))")
    }

    func testACLUser() throws {
        let server = try startRedis()
        XCTAssertEqual(try server.cli("ACL", "SETUSER", "jobwatch", "on", ">pa55", "~jwtest:*", "+@all"), "OK")
        let keys = uniqueKeys()
        let c = try connectedClient(["redis://jobwatch:pa55@127.0.0.1:\(server.port)/0"])
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "acl-user", ttlMs: 5_000, claim: nil)))
        XCTAssertEqual(try server.cli("GET", keys.lock), "acl-user")
        XCTAssertEqual(try c.renew(keys: keys, owner: "acl-user", ttlMs: 5_000), .renewed)

        let wrong = LeaseClient(topology: try RedisTopology.parse(["redis://jobwatch:nope@127.0.0.1:\(server.port)/0"]),
                                timeoutMs: 500, attempts: 1)
        XCTAssertThrowsError(try wrong.connect()) { error in
            XCTAssertTrue("\(error)".contains("refused authentication"), "\(error)")
        }
    }

    func testDatabaseSelection() throws {
        let server = try startRedis()
        let keys = uniqueKeys()
        let c = try connectedClient(["redis://127.0.0.1:\(server.port)/3"])
        let fence = assertAcquired(try c.acquire(keys: keys, owner: "db3", ttlMs: 5_000, claim: nil))
        XCTAssertEqual(try server.cli("-n", "3", "GET", keys.lock), "db3")
        XCTAssertEqual(try server.cli("-n", "3", "GET", keys.fence), fence.map(String.init))
        XCTAssertEqual(try server.cli("-n", "0", "EXISTS", keys.lock), "0", "nothing lands in db 0")
        XCTAssertEqual(try c.inspect(keys: keys).holder, "db3")
    }

    func testDatabaseSelectionSurvivesAReconnect() throws {
        let server = try startRedis()
        let keys = uniqueKeys()
        let c = try connectedClient(["redis://127.0.0.1:\(server.port)/5"])
        try server.cli("CLIENT", "KILL", "TYPE", "normal")
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "again", ttlMs: 5_000, claim: nil)))
        XCTAssertEqual(try server.cli("-n", "5", "GET", keys.lock), "again", "a fresh connection selects the db again")
    }

    func testInvalidDatabaseIsAServerError() throws {
        let server = try startRedis(["--databases", "4"])
        let c = LeaseClient(topology: try RedisTopology.parse(["redis://127.0.0.1:\(server.port)/9"]), timeoutMs: 500, attempts: 1)
        XCTAssertThrowsError(try c.connect()) { error in
            XCTAssertTrue("\(error)".contains("SELECT 9"), "\(error)")
        }
    }

    func testUnreachableRedisFailsWithinABoundedTime() throws {
        let port = try freePort()   // nothing listens here
        let c = LeaseClient(topology: try RedisTopology.parse(["redis://127.0.0.1:\(port)/0"]), timeoutMs: 1_000, attempts: 3)
        let (thrown, seconds) = timed { try c.connect() }
        XCTAssertLessThan(seconds, 5)
        XCTAssertEqual((thrown as? RedisError)?.kind, .unreachable)
        XCTAssertTrue("\(thrown.map { "\($0)" } ?? "")".contains("127.0.0.1:\(port)"), "the error names the server")
    }

    func testBlackholedRedisTimesOutInsteadOfHanging() throws {
        let silent = try SilentListener()
        // The TCP handshake succeeds, the server never answers: every read must time out.
        let c = LeaseClient(topology: try RedisTopology.parse(["redis://127.0.0.1:\(silent.port)/0"]), timeoutMs: 300, attempts: 2)
        try c.connect()
        let keys = uniqueKeys()
        let (thrown, seconds) = timed { _ = try c.acquire(keys: keys, owner: "o", ttlMs: 5_000, claim: nil) }
        XCTAssertLessThan(seconds, 5)
        XCTAssertGreaterThanOrEqual(seconds, 0.25, "it did wait for the timeout")
        XCTAssertEqual((thrown as? RedisError)?.kind, .unreachable)

        // With a db to select, the connect itself is what times out.
        let selecting = LeaseClient(topology: try RedisTopology.parse(["redis://127.0.0.1:\(silent.port)/2"]), timeoutMs: 300, attempts: 2)
        let (connectError, connectSeconds) = timed { try selecting.connect() }
        XCTAssertEqual((connectError as? RedisError)?.kind, .unreachable)
        XCTAssertLessThan(connectSeconds, 5)
    }

    func testServerRestartIsSurvivedByReconnecting() throws {
        let server = try startRedis()
        let c = try connectedClient([server.url])
        let keys = uniqueKeys()
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "o", ttlMs: 10_000, claim: nil)))
        try server.cli("CLIENT", "KILL", "TYPE", "normal")
        XCTAssertEqual(try c.renew(keys: keys, owner: "o", ttlMs: 10_000), .renewed, "an idled-out connection gets one fresh try")
    }

    func testRedisStoppedMidLeaseMakesRenewThrow() throws {
        let server = try startRedis()
        let c = try connectedClient([server.url])
        let keys = uniqueKeys()
        XCTAssertNotNil(assertAcquired(try c.acquire(keys: keys, owner: "o", ttlMs: 10_000, claim: nil)))
        server.stop()
        XCTAssertThrowsError(try c.renew(keys: keys, owner: "o", ttlMs: 10_000)) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .unreachable, "unreachable is not lost: the caller retries until validUntil")
        }
    }

    func testBinarySafeValues() throws {
        let server = try startRedis()
        let conn = RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port))
        let value = "héllo\r\nwörld \u{0}end ✓"
        XCTAssertEqual(try conn.command(["SET", "jwtest:bin", value]), .status("OK"))
        XCTAssertEqual(try conn.command(["GET", "jwtest:bin"]), .string(value))
        XCTAssertEqual(try conn.command(["GET", "jwtest:none"]), .null)
        XCTAssertEqual(try conn.command(["INCR", "jwtest:n"]), .integer(1))
        XCTAssertTrue(try conn.command(["NOSUCHCOMMAND"]).isError)
        let replies = try conn.pipeline([["SET", "jwtest:a", ""], ["GET", "jwtest:a"], ["MGET", "jwtest:a", "jwtest:none"]])
        XCTAssertEqual(replies, [.status("OK"), .string(""), .array([.string(""), .null])])
    }
}
