import JobwatchCore
import JobwatchTestSupport
import MonitorCore
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

    /// A backlog holds a run's start and finish in one batch: its record is written once, in
    /// its finished form, and listed once in the job's history.
    func testARunStartedAndFinishedInOneBatchIsWrittenOnce() throws {
        _ = try connection.command(["SET", "t:mon:leader", "me", "PX", "10000"])
        let store = MonitorStore(prefix: "t:")
        var writes = BatchWrites(store: store, historyMs: 86_400_000, now: 10_000)
        let started = RunRecord(runID: "r1", host: "web1", startedAt: 9_000)
        var finished = started
        finished.finishedAt = 9_500
        finished.outcome = .success
        writes.run("job", started, finished: false)
        writes.run("job", finished, finished: true, listed: true)
        writes.run("other", RunRecord(runID: "r2", host: "web2", startedAt: 9_100), finished: false)
        _ = try connection.command(["CONFIG", "RESETSTAT"])
        XCTAssertTrue(try BatchWrites.writeAsLeader(connection, writes.transaction(monitors: MonitorTable()),
                                                    leaderKey: "t:mon:leader", owner: "me"))
        let stats = try connection.command(["INFO", "commandstats"]).string ?? ""
        XCTAssertTrue(stats.contains("cmdstat_set:calls=2,"), stats)
        XCTAssertTrue(stats.contains("cmdstat_zadd:calls=2,"), stats)
        let record = try XCTUnwrap(connection.command(["GET", store.run("job", "r1")]).string.flatMap(MonitorStore.decodeRun))
        XCTAssertEqual(record, finished)
        XCTAssertEqual(try connection.command(["ZRANGE", store.runs("job"), "0", "-1", "WITHSCORES"]).array?.compactMap(\.string),
                       ["r1", "9000"])
        XCTAssertEqual(try connection.command(["PTTL", store.run("other", "r2")]).integer.map { $0 > 86_000_000 }, true)
    }

    /// The run index is trimmed at some finishes, not all: over a few hundred finishes it is
    /// trimmed (the chance it is not, at one in sixteen, is below 10⁻⁵).
    func testTheRunIndexIsTrimmedPastHistoryDays() throws {
        _ = try connection.command(["SET", "t:mon:leader", "me", "PX", "10000"])
        let store = MonitorStore(prefix: "t:")
        func batch(_ range: Range<Int>, startedAt: Int64) throws {
            var writes = BatchWrites(store: store, historyMs: 1_000, now: 100_000)
            for i in range {
                var run = RunRecord(runID: "r\(i)", host: "h", startedAt: startedAt + Int64(i))
                run.finishedAt = run.startedAt + 1
                writes.run("job", run, finished: true)
            }
            XCTAssertTrue(try BatchWrites.writeAsLeader(connection, writes.transaction(monitors: MonitorTable()),
                                                        leaderKey: "t:mon:leader", owner: "me"))
        }
        try batch(0..<300, startedAt: 1_000)   // long past history_days
        XCTAssertEqual(try connection.command(["ZCARD", store.runs("job")]).integer, 300)
        try batch(300..<600, startedAt: 99_000)
        XCTAssertEqual(try connection.command(["ZCOUNT", store.runs("job"), "-inf", "(99000"]).integer, 0,
                       "the entries older than history_days are gone")
        XCTAssertEqual(try connection.command(["ZCARD", store.runs("job")]).integer, 300)
    }
}

