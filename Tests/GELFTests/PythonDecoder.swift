import Foundation
import XCTest

/// Runs the independent Python GELF decoder (gelf_decode.py) and the HTTP receiver.
enum PythonDecoder {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    static func python() throws -> URL {
        for candidate in pathCandidates() + ["/usr/bin/python3", "/usr/local/bin/python3"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return URL(fileURLWithPath: candidate)
        }
        throw XCTSkip("python3 is not installed: the cross-checks against an independent GELF decoder need it")
    }

    private static func pathCandidates() -> [String] {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/python3" }
    }

    /// Decodes datagrams (in the given order) and returns one verdict per message.
    static func decodeUDP(_ datagrams: [[UInt8]]) throws -> [[String: Any]] {
        var file = Data()
        for datagram in datagrams {
            var length = UInt32(datagram.count).bigEndian
            file.append(Data(bytes: &length, count: 4))
            file.append(contentsOf: datagram)
        }
        return try decode(mode: "udp", file)
    }

    static func decodeTCP(_ stream: [UInt8]) throws -> [[String: Any]] {
        try decode(mode: "tcp", Data(stream))
    }

    static func graypyRoundTrip() throws -> [[String: Any]] {
        try run(["graypy"])
    }

    private static func decode(mode: String, _ data: Data) throws -> [[String: Any]] {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("gelf-\(getpid())-\(UInt32.random(in: 0 ... .max)).bin")
        try data.write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        return try run([mode, path.path])
    }

    private static func run(_ arguments: [String]) throws -> [[String: Any]] {
        let process = Process()
        process.executableURL = try python()
        process.arguments = [directory.appendingPathComponent("gelf_decode.py").path] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "gelf_decode.py failed")
        return try jsonLines(data)
    }

    static func jsonLines(_ data: Data) throws -> [[String: Any]] {
        try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }
}

/// Asserts every verdict is a valid GELF 1.1 message and returns the messages.
func validMessages(_ verdicts: [[String: Any]], file: StaticString = #filePath, line: UInt = #line) -> [[String: Any]] {
    for verdict in verdicts where verdict["ok"] as? Bool != true {
        XCTFail("invalid GELF: \(verdict["error"] ?? verdict)", file: file, line: line)
    }
    return verdicts.compactMap { $0["message"] as? [String: Any] }
}
