import JobwatchTestSupport
@testable import MonitorService
import RedisLease
import XCTest

/// The leader's batch write: nothing at all from a replica that no longer holds the lease, and
/// a command Redis refuses is an error the applier sees, never skipped in silence.
final class LeaderWriteTests: XCTestCase {
    private var redis: RedisServer!
    private var connection: RedisConnection!

    override func setUpWithError() throws {
        redis = try RedisServer()
        connection = RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: redis.port))
    }

    override func tearDown() {
        redis?.stop()
    }

    private let batch = RESPBuffer([["HSET", "t:mon:state", "job", "{}"], ["SET", "t:mon:run:job:r1", "{}", "PX", "60000"]])

    func testWritesOnlyWhileTheLeaseIsOurs() throws {
        _ = try connection.command(["SET", "t:mon:leader", "me", "PX", "10000"])
        XCTAssertTrue(try BatchWrites.writeAsLeader(connection, (batch, []), leaderKey: "t:mon:leader", owner: "me"))
        XCTAssertEqual(try connection.command(["HGET", "t:mon:state", "job"]).string, "{}")

        _ = try connection.command(["SET", "t:mon:leader", "someone-else", "PX", "10000"])
        _ = try connection.command(["DEL", "t:mon:state", "t:mon:run:job:r1"])
        XCTAssertFalse(try BatchWrites.writeAsLeader(connection, (batch, []), leaderKey: "t:mon:leader", owner: "me"))
        XCTAssertEqual(try connection.command(["EXISTS", "t:mon:state", "t:mon:run:job:r1"]).integer, 0)

        _ = try connection.command(["DEL", "t:mon:leader"])
        XCTAssertFalse(try BatchWrites.writeAsLeader(connection, (batch, []), leaderKey: "t:mon:leader", owner: "me"),
                       "an expired lease is not ours either")
        // The connection is left usable: no WATCH or MULTI hangs over the next command.
        XCTAssertEqual(try connection.command(["PING"]).string, "PONG")
    }

    func testACommandRedisRefusesFailsTheBatchAndLeavesItUnacknowledged() throws {
        _ = try connection.command(["SET", "t:mon:leader", "me", "PX", "10000"])
        _ = try connection.command(["SET", "t:mon:state", "not a hash"])
        _ = try connection.command(["XADD", "t:events", "1-1", "type", "start"])
        _ = try connection.command(["XGROUP", "CREATE", "t:events", "jobmond", "0"])
        _ = try connection.command(["XREADGROUP", "GROUP", "jobmond", "me", "STREAMS", "t:events", ">"])
        let acks = [["XACK", "t:events", "jobmond", "1-1"]]
        XCTAssertThrowsError(try BatchWrites.writeAsLeader(connection, (batch, acks), leaderKey: "t:mon:leader", owner: "me"))
        XCTAssertEqual(try connection.command(["XPENDING", "t:events", "jobmond"]).array?.first?.integer, 1,
                       "re-delivered to the next session, not acknowledged")

        _ = try connection.command(["DEL", "t:mon:state"])
        XCTAssertTrue(try BatchWrites.writeAsLeader(connection, (batch, acks), leaderKey: "t:mon:leader", owner: "me"))
        XCTAssertEqual(try connection.command(["XPENDING", "t:events", "jobmond"]).array?.first?.integer, 0)
    }
}
