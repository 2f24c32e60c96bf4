import JobwatchCore
import JobwatchTestSupport
@testable import MonitorService
import RedisLease
import XCTest

/// The outbox keeps every alert until it is delivered, and delivered ones only for
/// history_days: trimming must never take an alert the dispatcher still owes a channel.
final class OutboxTrimTests: XCTestCase {
    private var redis: RedisServer!
    private var connection: RedisConnection!
    private let outbox = "jw:mon:outbox"

    override func setUpWithError() throws {
        redis = try RedisServer()
        connection = RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: redis.port))
    }

    override func tearDown() {
        redis?.stop()
    }

    private func add(_ id: String) throws {
        _ = try connection.command(["XADD", outbox, id, "channel", "pd", "body", "{}"])
    }

    private func ids() throws -> [String] {
        try connection.command(["XRANGE", outbox, "-", "+"]).array?.compactMap { $0.array?.first?.string } ?? []
    }

    private func read(count: Int) throws {
        _ = try connection.command(["XREADGROUP", "GROUP", AlertDispatcher.group, "me", "COUNT", String(count),
                                    "STREAMS", outbox, ">"])
    }

    func testKeepsWhatIsPendingOrUnreadAndTrimsDeliveredOldEntries() throws {
        for id in ["1000-0", "2000-0", "3000-0", "4000-0", "9000-0"] { try add(id) }
        _ = try connection.command(["XGROUP", "CREATE", outbox, AlertDispatcher.group, "0"])
        try read(count: 3)   // 1000, 2000, 3000 read; 4000 and 9000 not yet
        _ = try connection.command(["XACK", outbox, AlertDispatcher.group, "1000-0", "3000-0"])

        // 2000-0 is still pending (its channel keeps failing): nothing from it on may go.
        XCTAssertEqual(try AlertDispatcher.trimDelivered(connection, outbox: outbox, olderThanMs: 5000), 1)
        XCTAssertEqual(try ids(), ["2000-0", "3000-0", "4000-0", "9000-0"])

        // Delivered at last: the cutoff now stops at what the group has not read (4000-0).
        _ = try connection.command(["XACK", outbox, AlertDispatcher.group, "2000-0"])
        XCTAssertEqual(try AlertDispatcher.trimDelivered(connection, outbox: outbox, olderThanMs: 5000), 1)
        XCTAssertEqual(try ids(), ["3000-0", "4000-0", "9000-0"], "the last read entry stays as the group's marker")

        try read(count: 10)
        _ = try connection.command(["XACK", outbox, AlertDispatcher.group, "4000-0", "9000-0"])
        XCTAssertEqual(try AlertDispatcher.trimDelivered(connection, outbox: outbox, olderThanMs: 5000), 2)
        XCTAssertEqual(try ids(), ["9000-0"], "newer than history_days: kept")
    }

    func testNoGroupOrNoStreamTrimsNothing() throws {
        XCTAssertEqual(try AlertDispatcher.trimDelivered(connection, outbox: outbox, olderThanMs: 5000), 0)
        try add("1000-0")
        XCTAssertEqual(try AlertDispatcher.trimDelivered(connection, outbox: outbox, olderThanMs: 5000), 0,
                       "without the dispatch group nothing is known to be delivered")
        XCTAssertEqual(try ids(), ["1000-0"])
    }

    /// Consumers of replicas long gone are forgotten, unless they still hold entries.
    func testIdleConsumersWithNothingPendingAreForgotten() throws {
        for id in ["1000-0", "2000-0", "3000-0"] { try add(id) }
        _ = try connection.command(["XGROUP", "CREATE", outbox, AlertDispatcher.group, "0"])
        for consumer in ["gone", "holding", "me"] {
            _ = try connection.command(["XREADGROUP", "GROUP", AlertDispatcher.group, consumer, "COUNT", "1", "STREAMS", outbox, ">"])
        }
        _ = try connection.command(["XACK", outbox, AlertDispatcher.group, "1000-0"])   // gone's entry
        usleep(20_000)
        XCTAssertEqual(try MonitorStore.forgetIdleConsumers(connection, stream: outbox, group: AlertDispatcher.group,
                                                            keeping: "me", idleMs: 5), 1)
        let names = try connection.command(["XINFO", "CONSUMERS", outbox, AlertDispatcher.group]).array?.compactMap {
            $0.array?[1].string
        }
        XCTAssertEqual(names?.sorted(), ["holding", "me"])
    }
}
