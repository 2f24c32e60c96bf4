import CCurl

/// Repeated HTTP POSTs to one URL through the lazily loaded libcurl, reusing the connection
/// (keep-alive) between requests: GELF over HTTP, HTTP run reports, the monitor's alerts. One instance per thread: a curl easy handle is not thread-safe.
public final class HTTPPost {
    public enum Outcome: Equatable, Sendable {
        /// The server answered; `body` holds at most the first 64 KiB of its response.
        case response(status: Int, body: [UInt8])
        /// No answer: connection refused, timeout, TLS failure...
        case failed(String)
    }

    private let handle: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var responseBody: [UInt8] = []
    private static let bodyLimit = 64 * 1024

    /// Throws when libcurl cannot be loaded or initialised.
    public init(url: String, headers: [String] = [], connectTimeout: Double = 2,
                timeout: Double = 5) throws {
        var reason = [CChar](repeating: 0, count: 256)
        guard jw_curl_load(&reason, reason.count) else {
            throw HTTPClientError(String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        guard let handle = jw_curl_easy_init() else {
            throw HTTPClientError("curl_easy_init failed")
        }
        self.handle = handle
        for header in headers { headerList = jw_curl_slist_append(headerList, header) }
        jw_curl_setopt_str(handle, CURLOPT_URL, url)
        jw_curl_setopt_long(handle, CURLOPT_POST, 1)
        // Signals would interrupt the job wrapper's threads; timeouts then rely on poll.
        jw_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        jw_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout * 1000))
        jw_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        jw_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        jw_curl_setopt_ptr(handle, CURLOPT_HTTPHEADER, UnsafeRawPointer(headerList))
        jw_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(self).toOpaque())
        jw_curl_setopt_write_function(handle) { data, size, count, context in
            let post = Unmanaged<HTTPPost>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            let room = max(0, HTTPPost.bodyLimit - post.responseBody.count)
            if let data, room > 0 {
                data.withMemoryRebound(to: UInt8.self, capacity: length) {
                    post.responseBody.append(contentsOf: UnsafeBufferPointer(start: $0, count: min(room, length)))
                }
            }
            return length
        }
    }

    deinit {
        jw_curl_easy_cleanup(handle)
        if let headerList { jw_curl_slist_free_all(headerList) }
    }

    public func post(_ body: [UInt8]) -> Outcome {
        responseBody.removeAll(keepingCapacity: true)
        // Size first: COPYPOSTFIELDS then copies exactly that many bytes, NULs included.
        jw_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
        body.withUnsafeBytes { _ = jw_curl_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
        let code = jw_curl_easy_perform(handle)
        guard code == CURLE_OK else {
            return .failed(String(cString: jw_curl_strerror(code)))
        }
        var status = 0
        jw_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .response(status: status, body: responseBody)
    }
}

/// libcurl could not be loaded or set up.
public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
