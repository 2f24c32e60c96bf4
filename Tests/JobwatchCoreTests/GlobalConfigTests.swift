import Foundation
import JobwatchCore
import XCTest

final class GlobalConfigTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "jobwatch-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let path = "\(directory)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func read(_ text: String, path: String = "/etc/jobwatch/jobwatch.yaml") throws -> GlobalConfig {
        var config = GlobalConfig()
        try config.read(text: text, path: path)
        return config
    }

    private func problems(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            _ = try read(text, path: "cfg.yaml")
            XCTFail("expected ConfigErrors", file: file, line: line)
        } catch let e as ConfigErrors {
            return e.errors.map(\.description)
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
        return []
    }

    private func envProblems(_ env: [String: String], file: StaticString = #filePath, line: UInt = #line) -> [String] {
        var config = GlobalConfig()
        do {
            try config.apply(environment: env)
            XCTFail("expected ConfigErrors", file: file, line: line)
        } catch let e as ConfigErrors {
            return e.errors.map(\.message)
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
        return []
    }

    func testDefaults() {
        let c = GlobalConfig()
        XCTAssertEqual(c.redis, ["redis://127.0.0.1:6379/0"])
        XCTAssertEqual(c.keyPrefix, "jobwatch:")
        XCTAssertEqual(c.onRedisDown, .skip, "fail-closed by default")
        XCTAssertEqual(c.report, .redis)
        XCTAssertEqual(c.gelfChunkSize, 8192)
        XCTAssertNil(c.gelf)
        XCTAssertEqual(c.timezone, "UTC")
        XCTAssertNil(c.redisWaitReplicas)
        XCTAssertEqual(c.redisWaitTimeout, Timespan(milliseconds: 250))
        XCTAssertEqual(c.replicaAcks(for: try! RedisTopology.parse(["redis-sentinel://s1/m"])), 1, "Sentinel: wait for one replica")
        XCTAssertEqual(c.replicaAcks(for: try! RedisTopology.parse(["redis://a/0"])), 0)
    }

    func testEveryFileKey() throws {
        let c = try read("""
            redis:
              - redis://10.0.0.1:6379/0
              - redis://10.0.0.2:6379/0
              - redis://10.0.0.3:6379/0
            redis_password: file:/etc/jobwatch/redis.pass
            key_prefix: "jw:"
            on_redis_down: run
            report: http
            monitor_url: http://mon:8427
            token: inline-token
            gelf: udp://graylog.internal:12201
            gelf_compression: zlib
            gelf_chunk_size: 1420
            jobs_dir: /srv/jobs.d
            spool_dir: /srv/spool
            timezone: Europe/Dublin
            redis_wait_replicas: 2
            redis_wait_timeout: 1s
            """)
        XCTAssertEqual(c.redis, ["redis://10.0.0.1:6379/0", "redis://10.0.0.2:6379/0", "redis://10.0.0.3:6379/0"])
        XCTAssertEqual(c.redisPassword, Secret("file:/etc/jobwatch/redis.pass"))
        XCTAssertEqual(c.keyPrefix, "jw:")
        XCTAssertEqual(c.onRedisDown, .run)
        XCTAssertEqual(c.report, .http)
        XCTAssertEqual(c.monitorURL, "http://mon:8427")
        XCTAssertEqual(c.token, Secret("inline-token"))
        XCTAssertEqual(c.gelf, "udp://graylog.internal:12201")
        XCTAssertEqual(c.gelfCompression, "zlib")
        XCTAssertEqual(c.gelfChunkSize, 1420)
        XCTAssertEqual(c.jobsDir, "/srv/jobs.d")
        XCTAssertEqual(c.spoolDir, "/srv/spool")
        XCTAssertEqual(c.timezone, "Europe/Dublin")
        XCTAssertEqual(c.sourcePath, "/etc/jobwatch/jobwatch.yaml")
        XCTAssertEqual(c.redisWaitReplicas, 2)
        XCTAssertEqual(c.redisWaitTimeout, Timespan(seconds: 1))
        XCTAssertEqual(c.replicaAcks(for: try RedisTopology.parse(c.redis)), 2, "an explicit setting wins")
    }

    func testSingleRedisURLAndEmptyGelfMeansOff() throws {
        let c = try read("redis: redis://cache:6380/2\ngelf: \"\"\n")
        XCTAssertEqual(c.redis, ["redis://cache:6380/2"])
        XCTAssertNil(c.gelf)
    }

    func testFileProblemsAreLocated() {
        XCTAssertEqual(problems("redis: http://x\n"), [
            "cfg.yaml:1:8: redis: invalid URL \"http://x\" (redis://[user@]host:port/db or redis-sentinel://h1:26379,h2:26379/master/db)",
        ])
        XCTAssertEqual(problems("redis: []\n"), ["cfg.yaml:1:8: redis: needs at least one URL"])
        XCTAssertEqual(problems("on_redis_down: maybe\n"), ["cfg.yaml:1:16: on_redis_down: must be one of skip, run, got \"maybe\""])
        XCTAssertEqual(problems("gelf_chunk_size: 100\n"), ["cfg.yaml:1:18: gelf_chunk_size: 100 is out of range 512-65507"])
        XCTAssertEqual(problems("gelf_compression: brotli\n"), ["cfg.yaml:1:19: gelf_compression: must be one of gzip, zlib, none, got \"brotli\""])
        XCTAssertEqual(problems("timezone: Atlantis\n"), ["cfg.yaml:1:11: timezone: unknown IANA time zone \"Atlantis\""])
        XCTAssertEqual(problems("key_prefix: x\nredis_pasword: y\n"), ["cfg.yaml:2:1: config: unknown key \"redis_pasword\" (did you mean \"redis_password\"?)"])
        XCTAssertEqual(problems("monitor: [a]\n"), ["cfg.yaml:1:10: monitor must be a mapping of keys"])
        XCTAssertEqual(problems("redis: [redis://a/0, \"redis-sentinel://s1,s2/m\"]\n"), [
            "cfg.yaml:1:8: redis: a redis-sentinel:// URL cannot be combined with other URLs: use one Sentinel URL (it lists every sentinel) or several redis:// masters for Redlock, not both",
        ])
        XCTAssertEqual(problems("redis_wait_replicas: -1\n"), ["cfg.yaml:1:22: redis_wait_replicas: -1 is out of range 0-16"])
    }

    func testLoadExplicitPathThenEnvironmentWins() throws {
        let path = try write("jobwatch.yaml", "key_prefix: \"file:\"\non_redis_down: run\nspool_dir: /from/file\n")
        let c = try GlobalConfig.load(explicitPath: path, environment: ["JOBWATCH_SPOOL_DIR": "/from/env"])
        XCTAssertEqual(c.sourcePath, path)
        XCTAssertEqual(c.keyPrefix, "file:")
        XCTAssertEqual(c.onRedisDown, .run)
        XCTAssertEqual(c.spoolDir, "/from/env")
    }

    func testLoadFromJOBWATCH_CONFIG() throws {
        let path = try write("other.yaml", "jobs_dir: /via/env/config\n")
        let c = try GlobalConfig.load(explicitPath: nil, environment: ["JOBWATCH_CONFIG": path])
        XCTAssertEqual(c.jobsDir, "/via/env/config")
        XCTAssertEqual(c.sourcePath, path)
    }

    func testLoadOfAMissingNamedFileIsAnError() {
        let path = "\(directory)/missing.yaml"
        XCTAssertThrowsError(try GlobalConfig.load(explicitPath: path, environment: [:])) { error in
            XCTAssertEqual((error as? ConfigErrors)?.errors.map(\.description), ["\(path):1:1: cannot read config file: \(path): No such file or directory"])
        }
    }

    func testAConfigAnyLocalUserCouldWriteIsRefused() throws {
        let path = try write("open.yaml", "jobs_dir: /x\n")
        chmod(path, 0o666)
        XCTAssertThrowsError(try GlobalConfig.load(explicitPath: path, environment: [:])) { error in
            XCTAssertEqual((error as? ConfigErrors)?.errors.map(\.description),
                           ["\(path):1:1: refusing a world-writable config file (mode 666): any local user could change what runs; chmod o-w \(path)"])
        }
        chmod(path, 0o644)
        chmod(directory, 0o777)
        defer { chmod(directory, 0o755) }
        XCTAssertThrowsError(try GlobalConfig.load(explicitPath: path, environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("in the world-writable directory \(directory)"), "\(error)")
        }
        chmod(directory, 0o1777)
        XCTAssertNoThrow(try GlobalConfig.load(explicitPath: path, environment: [:]), "a sticky directory like /tmp is fine")
    }

    func testEnvironmentOverrides() throws {
        var c = try read("redis: redis://file:6379/0\nkey_prefix: \"file:\"\n")
        try c.apply(environment: [
            "JOBWATCH_REDIS": "redis://a:6379/0, redis://b:6379/0 ,redis://c:6379/0",
            "JOBWATCH_REDIS_PASSWORD": "file:/run/secrets/redis",
            "JOBWATCH_KEY_PREFIX": "env:",
            "JOBWATCH_ON_REDIS_DOWN": "run",
            "JOBWATCH_REPORT": "http",
            "JOBWATCH_MONITOR_URL": "http://env-mon:1",
            "JOBWATCH_TOKEN": "tok",
            "JOBWATCH_GELF": "tcp://g:12201",
            "JOBWATCH_GELF_COMPRESSION": "none",
            "JOBWATCH_GELF_CHUNK_SIZE": "1500",
            "JOBWATCH_JOBS_DIR": "/env/jobs",
            "JOBWATCH_SPOOL_DIR": "/env/spool",
            "JOBWATCH_TIMEZONE": "America/New_York",
        ])
        XCTAssertEqual(c.redis, ["redis://a:6379/0", "redis://b:6379/0", "redis://c:6379/0"], "split on commas, trimmed")
        XCTAssertEqual(c.redisPassword, Secret("file:/run/secrets/redis"))
        XCTAssertEqual(c.keyPrefix, "env:")
        XCTAssertEqual(c.onRedisDown, .run)
        XCTAssertEqual(c.report, .http)
        XCTAssertEqual(c.monitorURL, "http://env-mon:1")
        XCTAssertEqual(c.token, Secret("tok"))
        XCTAssertEqual(c.gelf, "tcp://g:12201")
        XCTAssertEqual(c.gelfCompression, "none")
        XCTAssertEqual(c.gelfChunkSize, 1500)
        XCTAssertEqual(c.jobsDir, "/env/jobs")
        XCTAssertEqual(c.spoolDir, "/env/spool")
        XCTAssertEqual(c.timezone, "America/New_York")
    }

    func testEmptyGelfEnvironmentTurnsGelfOff() throws {
        var c = try read("gelf: udp://g:12201\n")
        try c.apply(environment: ["JOBWATCH_GELF": ""])
        XCTAssertNil(c.gelf)
    }

    func testInvalidEnvironmentValuesAreRejected() {
        XCTAssertEqual(envProblems(["JOBWATCH_ON_REDIS_DOWN": "maybe"]), ["JOBWATCH_ON_REDIS_DOWN: must be skip or run"])
        XCTAssertEqual(envProblems(["JOBWATCH_ON_REDIS_DOWN": "Skip"]), ["JOBWATCH_ON_REDIS_DOWN: must be skip or run"])
        XCTAssertEqual(envProblems(["JOBWATCH_REPORT": "udp"]), ["JOBWATCH_REPORT: must be redis or http"])
        XCTAssertEqual(envProblems(["JOBWATCH_GELF_CHUNK_SIZE": "70000"]), ["JOBWATCH_GELF_CHUNK_SIZE: must be 512-65507"])
        XCTAssertEqual(envProblems(["JOBWATCH_TIMEZONE": "Mars/Base"]), ["JOBWATCH_TIMEZONE: unknown IANA time zone \"Mars/Base\""])
        XCTAssertEqual(envProblems(["JOBWATCH_REDIS": "redis://a:1/0,http://b"]),
                       ["JOBWATCH_REDIS: invalid Redis URL list \"redis://a:1/0,http://b\": invalid Redis URL \"http://b\": expected redis://host:port/db"])
        var sentinel = GlobalConfig()
        XCTAssertNoThrow(try sentinel.apply(environment: ["JOBWATCH_REDIS": "redis-sentinel://s1:26379,s2:26379,s3:26379/mymaster/0"]))
        XCTAssertEqual(sentinel.redis, ["redis-sentinel://s1:26379,s2:26379,s3:26379/mymaster/0"], "a Sentinel URL's own commas are not list separators")
        XCTAssertEqual(envProblems(["JOBWATCH_REDIS_WAIT_REPLICAS": "-1"]), ["JOBWATCH_REDIS_WAIT_REPLICAS: must be 0-16"])
        XCTAssertEqual(envProblems(["JOBWATCH_REDIS_WAIT_TIMEOUT": "soon"]),
                       ["JOBWATCH_REDIS_WAIT_TIMEOUT: must be a duration such as 250ms"])
        // All bad variables are reported at once.
        XCTAssertEqual(envProblems(["JOBWATCH_ON_REDIS_DOWN": "x", "JOBWATCH_REPORT": "y"]).count, 2)
    }

    func testRejectedEnvironmentDoesNotChangeThePolicy() throws {
        var c = try read("on_redis_down: run\n")
        XCTAssertThrowsError(try c.apply(environment: ["JOBWATCH_ON_REDIS_DOWN": "sometimes"]))
        XCTAssertEqual(c.onRedisDown, .run)
    }

    func testSecretInlineAndFromFile() throws {
        XCTAssertEqual(try Secret("plain-value").resolve(), "plain-value")
        let path = try write("redis.pass", "  s3cret-from-file\n\n")
        XCTAssertEqual(try Secret("file:\(path)").resolve(), "s3cret-from-file", "surrounding whitespace and newline trimmed")
        var c = try read("redis_password: file:\(path)\n")
        XCTAssertEqual(try c.redisPassword?.resolve(), "s3cret-from-file")
        try c.apply(environment: ["JOBWATCH_TOKEN": "file:\(path)"])
        XCTAssertEqual(try c.token?.resolve(), "s3cret-from-file")
    }

    func testMissingSecretFileNamesThePath() {
        let path = "\(directory)/nope.token"
        XCTAssertThrowsError(try Secret("file:\(path)").resolve()) { error in
            XCTAssertEqual("\(error)", "cannot read secret file \(path)")
        }
    }
}
