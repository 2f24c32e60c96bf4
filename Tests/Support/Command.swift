import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the project's real binaries (and other tools) as child processes, capturing their
/// output as raw bytes.
public enum Command {
    public struct Result {
        public let status: Int32
        public let stdout: [UInt8]
        public let stderr: [UInt8]
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// Where `swift build` put the executables: next to the test bundle.
    public static var binDirectory: String {
        if let dir = ProcessInfo.processInfo.environment["JOBWATCH_BIN_DIR"] { return dir }
        let bundle = Bundle.main.bundleURL
        for candidate in [bundle, bundle.deletingLastPathComponent()] {
            if FileManager.default.isExecutableFile(atPath: candidate.appendingPathComponent("jobrun").path) { return candidate.path }
        }
        return bundle.deletingLastPathComponent().path
    }

    public static func binary(_ name: String) -> String { "\(binDirectory)/\(name)" }

    public static func run(_ argv: [String], environment: [String: String]? = nil, stdin: [UInt8]? = nil,
                           timeout: Double = 60) throws -> Result {
        let p = try start(argv, environment: environment, stdin: stdin)
        return p.wait(timeout: timeout)
    }

    public static func start(_ argv: [String], environment: [String: String]? = nil, stdin: [UInt8]? = nil) throws -> Running {
        try Running(argv, environment: environment, stdin: stdin)
    }

    /// A started process whose output is collected on background threads.
    /// `out` and `err` are written by the reader threads before they leave `group`, and read
    /// only after waiting for it.
    public final class Running: @unchecked Sendable {
        public let process = Process()
        private let outPipe = Pipe()
        private let errPipe = Pipe()
        private var out: [UInt8] = []
        private var err: [UInt8] = []
        private let group = DispatchGroup()

        init(_ argv: [String], environment: [String: String]?, stdin: [UInt8]?) throws {
            // A child that exits before reading all its stdin must not kill the test runner.
            Glibc.signal(SIGPIPE, SIG_IGN)
            let exe = argv[0].contains("/") ? argv[0] : (which(argv[0]) ?? argv[0])
            process.executableURL = URL(fileURLWithPath: exe)
            process.arguments = Array(argv.dropFirst())
            if let environment { process.environment = environment }
            process.standardOutput = outPipe
            process.standardError = errPipe
            let inPipe = Pipe()
            process.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe
            try process.run()
            if let stdin {
                DispatchQueue.global().async {
                    inPipe.fileHandleForWriting.write(Data(stdin))
                    try? inPipe.fileHandleForWriting.close()
                }
            }
            drain(outPipe.fileHandleForReading) { self.out = $0 }
            drain(errPipe.fileHandleForReading) { self.err = $0 }
        }

        private func drain(_ handle: FileHandle, into store: @escaping @Sendable ([UInt8]) -> Void) {
            group.enter()
            Thread.detachNewThread { [group] in
                var bytes: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65536)
                let fd = handle.fileDescriptor
                while true {
                    let n = read(fd, &buffer, buffer.count)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    bytes.append(contentsOf: buffer[0..<n])
                }
                store(bytes)
                group.leave()
            }
        }

        public var pid: pid_t { process.processIdentifier }

        public func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

        /// Waits for exit (killing the process after `timeout` seconds) and for its output.
        public func wait(timeout: Double = 60) -> Result {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(2_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            _ = group.wait(timeout: .now() + 10)
            let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
            return Result(status: status, stdout: out, stderr: err)
        }
    }
}
