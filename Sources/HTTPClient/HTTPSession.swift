import CCurl

/// Requests of any method to any URL through one libcurl handle, which keeps connections to
/// the hosts it has talked to open between requests: GELF over HTTP, HTTP run reports, alert
/// delivery (which needs the response headers for `Retry-After`) and `jobctl` (which reads
/// large bodies). One instance per thread: a curl easy handle is not thread-safe.
public final class HTTPSession {
    public struct Response: Sendable, Equatable {
        public let status: Int
        /// Header names lower-cased; a repeated header keeps its last value.
        public let headers: [String: String]
        public let body: [UInt8]

        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    private let handle: UnsafeMutableRawPointer
    private let bodyLimit: Int
    private var responseBody: [UInt8] = []
    private var responseHeaders: [String: String] = [:]

    /// `bodyLimit` caps how much of each response is kept; the rest is read and dropped.
    /// Throws when libcurl cannot be loaded or initialised.
    public init(connectTimeout: Double = 2, timeout: Double = 10, bodyLimit: Int = 64 * 1024 * 1024) throws {
        var reason = [CChar](repeating: 0, count: 256)
        guard jw_curl_load(&reason, reason.count) else {
            throw HTTPClientError(String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        guard let handle = jw_curl_easy_init() else { throw HTTPClientError("curl_easy_init failed") }
        self.handle = handle
        self.bodyLimit = bodyLimit
        // Signals would interrupt other threads of the daemon; timeouts then rely on poll.
        jw_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        jw_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout * 1000))
        jw_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        jw_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        let context = Unmanaged.passUnretained(self).toOpaque()
        jw_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, context)
        jw_curl_setopt_write_function(handle) { data, size, count, context in
            let session = Unmanaged<HTTPSession>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            let room = max(0, session.bodyLimit - session.responseBody.count)
            if let data, room > 0 {
                data.withMemoryRebound(to: UInt8.self, capacity: length) {
                    session.responseBody.append(contentsOf: UnsafeBufferPointer(start: $0, count: min(room, length)))
                }
            }
            return length
        }
        // The header callback has the write callback's C signature; the shim only wraps the
        // latter, and a function pointer passes through curl's varargs like any pointer.
        let onHeader: jw_curl_write_callback = { data, size, count, context in
            let session = Unmanaged<HTTPSession>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            if let data {
                let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
                    String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                }
                session.noteHeader(line)
            }
            return length
        }
        jw_curl_setopt_ptr(handle, CURLOPT_HEADERFUNCTION, unsafeBitCast(onHeader, to: UnsafeRawPointer.self))
        jw_curl_setopt_ptr(handle, CURLOPT_HEADERDATA, context)
    }

    deinit { jw_curl_easy_cleanup(handle) }

    /// One request. `body` nil sends none (GET); with a body, `Content-Length` is exact and
    /// NULs survive. A failure to get any answer is thrown with curl's reason.
    public func send(_ method: String, url: String, headers: [String] = [], body: [UInt8]? = nil) throws -> Response {
        responseBody.removeAll(keepingCapacity: true)
        responseHeaders.removeAll(keepingCapacity: true)
        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers { list = jw_curl_slist_append(list, header) }
        defer { if let list { jw_curl_slist_free_all(list) } }
        jw_curl_setopt_str(handle, CURLOPT_URL, url)
        jw_curl_setopt_ptr(handle, CURLOPT_HTTPHEADER, UnsafeRawPointer(list))
        if let body {
            jw_curl_setopt_long(handle, CURLOPT_POST, 1)
            // Size first: COPYPOSTFIELDS then copies exactly that many bytes.
            jw_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
            body.withUnsafeBytes { _ = jw_curl_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
        } else {
            jw_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
        }
        // POST and GET are curl's own; anything else rides on them under another name.
        let custom = method == "POST" || method == "GET" ? nil : method
        if let custom { jw_curl_setopt_str(handle, CURLOPT_CUSTOMREQUEST, custom) } else {
            jw_curl_setopt_ptr(handle, CURLOPT_CUSTOMREQUEST, nil)
        }
        let code = jw_curl_easy_perform(handle)
        guard code == CURLE_OK else { throw HTTPClientError(String(cString: jw_curl_strerror(code))) }
        var status = 0
        jw_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return Response(status: status, headers: responseHeaders, body: responseBody)
    }

    private func noteHeader(_ line: String) {
        // A new status line starts a new header block (after `100 Continue`, redirects).
        if line.hasPrefix("HTTP/") {
            responseHeaders.removeAll(keepingCapacity: true)
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t\r\n")
        responseHeaders[name] = value
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let scalars = Array(unicodeScalars)
        var start = 0
        var end = scalars.count
        while start < end, set.unicodeScalars.contains(scalars[start]) { start += 1 }
        while end > start, set.unicodeScalars.contains(scalars[end - 1]) { end -= 1 }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[start..<end])
        return String(out)
    }
}

/// libcurl could not be loaded or set up, or a transfer failed.
public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
