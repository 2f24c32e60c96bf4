import Glibc

/// A resolved peer. Resolution happens on the sending thread, never in `GELFSender.init`,
/// because a slow resolver must not delay the job's start.
struct SocketAddress {
    var storage = sockaddr_storage()
    var length: socklen_t = 0
    var family: Int32 { Int32(storage.ss_family) }

    static func resolve(host: String, port: Int, socketType: Int32) -> Result<SocketAddress, GELFTransportError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = socketType
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &results)
        guard status == 0, let first = results else {
            let reason = String(cString: gai_strerror(status))
            return .failure(GELFTransportError("cannot resolve \(host): \(reason)"))
        }
        defer { freeaddrinfo(results) }
        var address = SocketAddress()
        address.length = first.pointee.ai_addrlen
        withUnsafeMutableBytes(of: &address.storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr,
                                                           count: Int(first.pointee.ai_addrlen)))
        }
        return .success(address)
    }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }
}

struct GELFTransportError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    static func lastSystemError(_ what: String) -> GELFTransportError {
        GELFTransportError("\(what): \(String(cString: strerror(errno)))")
    }
}
