import JobwatchCore
import RedisLease
import XCTest

final class RedisTopologyTests: XCTestCase {
    private func endpoint(_ url: String, file: StaticString = #filePath, line: UInt = #line) throws -> RedisEndpoint {
        guard case .single(let e) = try RedisTopology.parse([url]) else {
            XCTFail("expected a single master for \(url)", file: file, line: line)
            return RedisEndpoint(host: "")
        }
        return e
    }

    private func parseError(_ urls: [String], file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let t = try RedisTopology.parse(urls)
            XCTFail("expected \(urls) to be rejected, got \(t)", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testSingleMaster() throws {
        XCTAssertEqual(try RedisTopology.parse(["redis://127.0.0.1:6379/0"]),
                       .single(RedisEndpoint(host: "127.0.0.1", port: 6379, db: 0)))
        XCTAssertEqual(try endpoint("redis://cache.internal"), RedisEndpoint(host: "cache.internal", port: 6379, db: 0))
        XCTAssertEqual(try endpoint("redis://cache:6380"), RedisEndpoint(host: "cache", port: 6380, db: 0))
        XCTAssertEqual(try endpoint("redis://cache:6380/"), RedisEndpoint(host: "cache", port: 6380, db: 0))
    }

    func testDatabaseNumber() throws {
        XCTAssertEqual(try endpoint("redis://h:1/3").db, 3)
        XCTAssertEqual(try endpoint("redis://h/15").db, 15)
        XCTAssertEqual(try endpoint("redis://h:1/3").description, "h:1/3")
    }

    func testSeveralURLsMakeAQuorum() throws {
        let t = try RedisTopology.parse(["redis://a:6379/0", "redis://b:6380/1", "redis://c/0"])
        XCTAssertEqual(t, .quorum([
            RedisEndpoint(host: "a", port: 6379, db: 0),
            RedisEndpoint(host: "b", port: 6380, db: 1),
            RedisEndpoint(host: "c", port: 6379, db: 0),
        ]))
        // Empty entries (a trailing comma in JOBWATCH_REDIS) are ignored.
        XCTAssertEqual(try RedisTopology.parse(["redis://a/0", ""]), .single(RedisEndpoint(host: "a")))
    }

    func testSentinel() throws {
        XCTAssertEqual(try RedisTopology.parse(["redis-sentinel://h1:26379,h2:26380/mymaster/2"]),
                       .sentinel(SentinelMaster(sentinels: [RedisEndpoint(host: "h1", port: 26379), RedisEndpoint(host: "h2", port: 26380)],
                                 name: "mymaster", db: 2, user: nil, password: nil)))
        XCTAssertEqual(try RedisTopology.parse(["redis-sentinel://s1/jobs"]),
                       .sentinel(SentinelMaster(sentinels: [RedisEndpoint(host: "s1", port: 26379)], name: "jobs", db: 0, user: nil, password: nil)),
                       "sentinels default to port 26379, db to 0")
        XCTAssertEqual(try RedisTopology.parse(["redis-sentinel://app:pw@s1:1,[::1]:2/m/1"]),
                       .sentinel(SentinelMaster(sentinels: [RedisEndpoint(host: "s1", port: 1), RedisEndpoint(host: "::1", port: 2)],
                                 name: "m", db: 1, user: "app", password: "pw")))
    }

    func testTheEnvironmentListKeepsASentinelURLWhole() {
        XCTAssertEqual(RedisTopology.splitList("redis-sentinel://a:1,b:2, c:3/m/0"), ["redis-sentinel://a:1,b:2,c:3/m/0"])
        XCTAssertEqual(RedisTopology.splitList("redis://a/0, redis://b/0,redis://c/0"), ["redis://a/0", "redis://b/0", "redis://c/0"])
        XCTAssertEqual(RedisTopology.splitList("redis://a/0,b:2"), ["redis://a/0", "b:2"], "a stray piece stays visible to the parser")
    }

    func testSentinelAndRedlockDoNotMix() throws {
        XCTAssertThrowsError(try RedisTopology.parse(["redis://a:1/0", "redis-sentinel://s1/m"])) { error in
            XCTAssertTrue("\(error)".contains("cannot be combined"), "\(error)")
        }
        XCTAssertThrowsError(try RedisTopology.parse(["redis-sentinel://s1/m", "redis-sentinel://s2/m"]))
    }

    func testCredentials() throws {
        let both = try endpoint("redis://jobwatch:s3cret@h:6379/0")
        XCTAssertEqual(both.user, "jobwatch")
        XCTAssertEqual(both.password, "s3cret")

        let passwordOnly = try endpoint("redis://:s3cret@h:6379/0")
        XCTAssertNil(passwordOnly.user, "an empty user name means the default user")
        XCTAssertEqual(passwordOnly.password, "s3cret")

        let userOnly = try endpoint("redis://jobwatch@h")
        XCTAssertEqual(userOnly.user, "jobwatch")
        XCTAssertNil(userOnly.password, "the password comes from redis_password")

        let tricky = try endpoint("redis://u:p@ss:w@rd@h:1/2")
        XCTAssertEqual(tricky.user, "u")
        XCTAssertEqual(tricky.password, "p@ss:w@rd", "only the last @ separates credentials from the host")
        XCTAssertEqual(tricky.host, "h")
        XCTAssertEqual(tricky.db, 2)
        XCTAssertFalse(tricky.description.contains("p@ss"), "endpoint descriptions never show the password")
    }

    func testIPv6() throws {
        XCTAssertEqual(try endpoint("redis://[::1]:6380/4"), RedisEndpoint(host: "::1", port: 6380, db: 4))
        XCTAssertEqual(try endpoint("redis://[fe80::1]"), RedisEndpoint(host: "fe80::1", port: 6379, db: 0))
        XCTAssertEqual(try endpoint("redis://u:p@[::1]:7000/1"), RedisEndpoint(host: "::1", port: 7000, db: 1, user: "u", password: "p"))
    }

    func testBadURLsAreRejectedWithAReason() {
        XCTAssertEqual(parseError([]), "no Redis URL given")
        XCTAssertEqual(parseError([""]), "no Redis URL given")
        XCTAssertEqual(parseError(["http://h:6379"]), "invalid Redis URL \"http://h:6379\": expected redis://host:port/db")
        XCTAssertEqual(parseError(["127.0.0.1:6379"]), "invalid Redis URL \"127.0.0.1:6379\": expected redis://host:port/db")
        XCTAssertEqual(parseError(["redis://"]), "missing host in \"redis://\"")
        XCTAssertEqual(parseError(["redis://h:abc/0"]), "invalid port in \"redis://h:abc/0\"")
        XCTAssertEqual(parseError(["redis://h:0"]), "invalid port in \"redis://h:0\"")
        XCTAssertEqual(parseError(["redis://h:65536"]), "invalid port in \"redis://h:65536\"")
        XCTAssertEqual(parseError(["redis://h:"]), "invalid port in \"redis://h:\"")
        XCTAssertEqual(parseError(["redis://h/x"]), "invalid database number in \"redis://h/x\"")
        XCTAssertEqual(parseError(["redis://h/-1"]), "invalid database number in \"redis://h/-1\"")
        XCTAssertEqual(parseError(["redis://h/0/1"]), "invalid database number in \"redis://h/0/1\"")
        XCTAssertEqual(parseError(["redis://::1:6379"]), "invalid host in \"redis://::1:6379\"")
        XCTAssertEqual(parseError(["redis://:6379"]), "invalid host in \"redis://:6379\"")
        XCTAssertEqual(parseError(["redis://[::1"]), "invalid IPv6 host in \"redis://[::1\"")
        XCTAssertEqual(parseError(["redis://[::1]x"]), "invalid port in \"redis://[::1]x\"")
        XCTAssertEqual(parseError(["redis-sentinel://s1:26379"]),
                       "invalid Sentinel URL: expected redis-sentinel://h1:26379,h2:26379/master[/db]")
        XCTAssertEqual(parseError(["redis-sentinel://s1/m/x"]), "invalid database number in Sentinel URL")
        XCTAssertEqual(parseError(["redis-sentinel:///m"]), "Sentinel URL names no sentinel")
        // Sentinel discovery and a Redlock quorum do not mix.
        XCTAssertTrue(parseError(["redis-sentinel://s1/m", "redis://a/0"]).hasPrefix("a redis-sentinel:// URL cannot be combined"))
        XCTAssertTrue(parseError(["redis://a/0", "redis://b:x/0"]).hasPrefix("invalid port"), "one bad URL fails the list")
    }

    func testWithPasswordFillsOnlyMissingPasswords() throws {
        let t = try RedisTopology.parse(["redis://a/0", "redis://:own@b/0", "redis://app@c/0"]).withPassword("global")
        XCTAssertEqual(t, .quorum([
            RedisEndpoint(host: "a", password: "global"),
            RedisEndpoint(host: "b", password: "own"),
            RedisEndpoint(host: "c", user: "app", password: "global"),
        ]))
        let s = try RedisTopology.parse(["redis-sentinel://s1/m"]).withPassword("pw")
        XCTAssertEqual(s, .sentinel(SentinelMaster(sentinels: [RedisEndpoint(host: "s1", port: 26379)], name: "m", db: 0, user: nil, password: "pw")))
        XCTAssertEqual(try RedisTopology.parse(["redis://a/0"]).withPassword(nil), .single(RedisEndpoint(host: "a")))
    }
}
