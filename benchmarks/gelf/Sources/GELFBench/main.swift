import CCurl
import GELF
import Glibc

// GELF over UDP: lines/s through jobrun's sender (GELFSender: queue, line splitting, encoding,
// `sendmmsg` batches) against a floor taken in the same run: a bare loop handing the same
// messages, already encoded, to `sendmmsg` 64 at a time. Both send to one loopback socket that
// nobody reads (a full receive buffer: the kernel drops the datagram after the same work in both
// cases), so the difference is the sender's own cost. Usage: GELFBench [lines] [rounds]

let lines = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1])! : 1_000_000
let rounds = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2])! : 5
let lineText = [UInt8](repeating: UInt8(ascii: "x"), count: 89)
let host = "bench-host"
let fields = [GELFField("_job", "bench"), GELFField("_run_id", "0192f0a1b2c3d4e5f6a7b8c9"), GELFField("_pid", 4242),
              GELFField("_fence", 17)]

func fixed(_ x: Double) -> String {
    let hundredths = Int((x * 100).rounded())
    return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
}

func monotonic() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

// The sink: bound, never read.
let sinkAddress: sockaddr_in = {
    let sink = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(sink, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(sink, $0, &length) } }
    return address
}()
let port = Int(UInt16(bigEndian: sinkAddress.sin_port))

/// The floor: the same messages as the sender builds for each line, encoded beforehand.
func floorRate() -> Double {
    let now = Double(time(nil))
    var messages: [[UInt8]] = []
    messages.reserveCapacity(lines)
    for n in 1...lines {
        messages.append(GELFEncoder.encode(GELFMessage(
            host: host, shortMessage: lineText, timestamp: now, level: 6,
            fields: fields + [GELFField("_stream", "stdout"), GELFField("_event", "output"), GELFField("_line", n)])))
    }
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(fd) }
    let start = monotonic()
    var target = sinkAddress
    withUnsafePointer(to: &target) { to in
        to.withMemoryRebound(to: sockaddr.self, capacity: 1) { to in
            var vectors = [iovec](repeating: iovec(), count: 64)
            var i = 0
            while i < messages.count {
                let n = min(64, messages.count - i)
                // The pointers stay valid: `messages` is not mutated while sending.
                for k in 0..<n {
                    messages[i + k].withUnsafeBytes { vectors[k] = iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
                }
                _ = jw_send_datagrams(fd, to, socklen_t(MemoryLayout<sockaddr_in>.size), vectors, UInt32(n))
                i += n
            }
        }
    }
    return Double(lines) / (monotonic() - start)
}

/// jobrun's path: the raw output, 64 KiB reads as the pump hands them over, into a queue big
/// enough to drop nothing; timed until the sender has sent the last line.
func senderRate() throws -> Double {
    var output: [UInt8] = []
    output.reserveCapacity(lines * (lineText.count + 1))
    for _ in 0..<lines { output += lineText; output.append(UInt8(ascii: "\n")) }
    let sender = try GELFSender(url: "udp://127.0.0.1:\(port)", compression: .none, chunkSize: 8192,
                                queueCapacity: output.count + (1 << 20))
    sender.setOutputContext(host: host, fields: fields)
    let start = monotonic()
    output.withUnsafeBytes { all in
        var offset = 0
        while offset < all.count {
            let end = min(offset + 65_536, all.count)
            sender.sendOutput(UnsafeRawBufferPointer(rebasing: all[offset..<end]), stream: .stdout)
            offset = end
        }
    }
    sender.finish(finalMessage: { dropped in
        precondition(dropped == 0, "\(dropped) lines dropped: the queue was too small")
        return GELFMessage(host: host, shortMessage: "done", timestamp: 0, level: 6, fields: fields)
    }, timeout: 600)
    return Double(lines) / (monotonic() - start)
}

print("| round | bare sendmmsg (lines/s) | GELFSender (lines/s) | ratio |")
print("|---|---|---|---|")
var ratios: [Double] = []
for round in 1...rounds {
    let floor = floorRate()
    let ours = try senderRate()
    ratios.append(ours / floor)
    print("| \(round) | \(Int(floor)) | \(Int(ours)) | \(fixed(ours / floor))× |")
}
print("\nmedian ratio: \(fixed(ratios.sorted()[ratios.count / 2]))×  (\(lines) lines of \(lineText.count) bytes each round)")
