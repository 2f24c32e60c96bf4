import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Sentinel deployment on loopback ports, as production runs it: one master, one replica
/// and three sentinels (quorum 2) that fail over one second after the master stops answering.
public final class SentinelCluster {
    public let master: RedisServer
    public let replica: RedisServer
    public let sentinelPorts: [Int]
    public let name = "mymaster"
    private var sentinels: [Command.Running] = []
    private let directory: String

    public init() throws {
        master = try RedisServer()
        replica = try RedisServer(extraArguments: ["--replicaof", "127.0.0.1", String(master.port)])
        guard let binary = which("redis-server") else { throw RedisServer.Unavailable(description: "redis-server is not installed") }
        directory = try TemporaryDirectory.make(prefix: "sentinels")
        var ports: [Int] = []
        for index in 0..<3 {
            let port = try freePort()
            let config = "\(directory)/sentinel-\(index).conf"
            // Sentinel rewrites its file, so each needs its own writable copy.
            try """
                port \(port)
                bind 127.0.0.1
                daemonize no
                dir \(directory)
                sentinel monitor \(name) 127.0.0.1 \(master.port) 2
                sentinel down-after-milliseconds \(name) 1000
                sentinel failover-timeout \(name) 5000
                sentinel parallel-syncs \(name) 1

                """.write(toFile: config, atomically: true, encoding: .utf8)
            sentinels.append(try Command.start([binary, config, "--sentinel"]))
            ports.append(port)
        }
        sentinelPorts = ports
        // Ready: every sentinel knows the master, has found the replica and the other sentinels,
        // and the replica is in sync (a failover before that would have nothing to promote).
        let ready = waitUntil(timeout: 30) {
            ports.allSatisfy { port in
                let info = (try? Command.run(["redis-cli", "-p", String(port), "SENTINEL", "master", self.name], timeout: 2))?.stdoutText ?? ""
                let lines = info.split(separator: "\n").map(String.init)
                func field(_ key: String) -> String? { lines.firstIndex(of: key).flatMap { $0 + 1 < lines.count ? lines[$0 + 1] : nil } }
                return field("num-slaves") == "1" && field("num-other-sentinels") == "2"
            } && ((try? replica.cli("INFO", "replication")) ?? "").contains("master_link_status:up")
        }
        guard ready else {
            stop()
            throw RedisServer.Unavailable(description: "the sentinels did not come up on \(ports)")
        }
    }

    public var url: String {
        "redis-sentinel://" + sentinelPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") + "/\(name)/0"
    }

    /// The port the sentinels name as master now.
    public func masterPort() -> Int? {
        for port in sentinelPorts {
            let r = try? Command.run(["redis-cli", "-p", String(port), "--raw", "SENTINEL", "get-master-addr-by-name", name], timeout: 2)
            if let last = r?.stdoutText.split(separator: "\n").last, let p = Int(last) { return p }
        }
        return nil
    }

    /// Waits until the sentinels name `port` as the master and it says so itself.
    @discardableResult
    public func waitForMaster(_ port: Int, timeout: Double = 30) -> Bool {
        waitUntil(timeout: timeout) {
            guard self.masterPort() == port else { return false }
            let role = (try? Command.run(["redis-cli", "-p", String(port), "--raw", "ROLE"], timeout: 2))?.stdoutText ?? ""
            return role.hasPrefix("master")
        }
    }

    public func stop() {
        for s in sentinels {
            s.signal(SIGKILL)
            _ = s.wait(timeout: 5)
        }
        sentinels = []
        replica.stop()
        master.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }
}
