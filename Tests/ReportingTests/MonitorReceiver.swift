import Foundation
import JobwatchTestSupport

/// A stand-in for `jobmond`'s HTTP API: a small Python server on 127.0.0.1 that records every
/// request as a JSON line and answers with the status written in its `status` file (200 when
/// absent), so a test can make the monitor fail and recover.
final class MonitorReceiver {
    struct Request: Decodable {
        let method: String
        let path: String
        let authorization: String?
        let body: String
    }

    let directory: String
    let port: Int
    private let process = Process()

    init() throws {
        directory = try TemporaryDirectory.make(prefix: "monitor")
        let script = directory + "/receiver.py"
        try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: which("python3") ?? "/usr/bin/python3")
        process.arguments = [script, directory]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let portFile = directory + "/port"
        guard waitUntil(timeout: 10, { FileManager.default.fileExists(atPath: portFile) }),
              let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) else {
            process.terminate()
            throw MonitorReceiverError.didNotStart
        }
        self.port = port
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Every later request gets this status.
    func answer(_ status: Int) throws {
        try String(status).write(toFile: directory + "/status", atomically: true, encoding: .utf8)
    }

    /// Requests answered so far, including refused ones, in arrival order.
    var requests: [Request] {
        let text = (try? String(contentsOfFile: directory + "/requests.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    /// The decoded JSON bodies of the requests that were answered with `status`.
    func bodies(status: Int = 200) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: directory + "/requests.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line -> [String: Any]? in
            guard let r = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  r["status"] as? Int == status, let body = r["body"] as? String,
                  var object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return nil }
            object["_path"] = r["path"]
            object["_authorization"] = r["authorization"]
            return object
        }
    }

    private static let script = #"""
    import json, os, sys, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    directory = sys.argv[1]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                with open(os.path.join(directory, "status")) as f:
                    status = int(f.read().strip())
            except OSError:
                status = 200
            record = {"method": "POST", "path": self.path, "status": status,
                      "authorization": self.headers.get("Authorization"),
                      "body": body.decode("utf-8", "replace")}
            with lock:
                with open(os.path.join(directory, "requests.jsonl"), "a") as f:
                    f.write(json.dumps(record) + "\n")
            reply = b'{"ok":true}' if status < 300 else b'{"error":"test says no"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(os.path.join(directory, "port.tmp"), "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
    server.serve_forever()
    """#
}

enum MonitorReceiverError: Error { case didNotStart }
