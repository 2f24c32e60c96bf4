import HTTPClient
/// GELF over HTTP(S): one message per POST to Graylog's GELF HTTP input, which answers 202.
///
/// A network failure or a 5xx answer drops the rest of the batch (counted) and delays the
/// next attempt by the backoff; a 4xx answer means Graylog rejected that message, and
/// resending it cannot help.
final class HTTPTransport: Transport {
    private let url: String
    private let deflater: Deflater?
    private let contentEncoding: String?
    private let headers: [String]
    private var session: HTTPSession?
    private var backoff = Backoff()
    private var compressed: [UInt8] = []

    init(url: String, compression: GELFCompression) {
        self.url = url
        self.deflater = Deflater(compression)
        switch compression {
        case .gzip: contentEncoding = "gzip"
        case .zlib: contentEncoding = "deflate"
        case .none: contentEncoding = nil
        }
        headers = ["Content-Type: application/json", "Expect:"] + (contentEncoding.map { ["Content-Encoding: \($0)"] } ?? [])
    }

    func close() { session = nil }

    func deliver(_ payloads: ArraySlice<[UInt8]>, giveUp: () -> Bool) -> Int {
        var undelivered = 0
        for (index, payload) in payloads.enumerated() {
            var body = payload
            if let deflater {
                deflater.compress(payload, into: &compressed)
                body = compressed
            }
            switch post(body, giveUp: giveUp) {
            case .delivered: break
            case .rejected: undelivered += 1
            case .gaveUp: return undelivered + payloads.count - index
            }
        }
        return undelivered
    }

    private enum Result { case delivered, rejected, gaveUp }

    private func post(_ body: [UInt8], giveUp: () -> Bool) -> Result {
        guard backoff.isDue(), !giveUp() else { return .gaveUp }
        if session == nil {
            // Without libcurl there is no HTTP for the rest of this process.
            guard let fresh = try? HTTPSession(connectTimeout: 2, timeout: 5, bodyLimit: 64 * 1024) else { return .gaveUp }
            session = fresh
        }
        switch Swift.Result(catching: { try session!.send("POST", url: url, headers: headers, body: body) }) {
        case .success(let response) where (200..<300).contains(response.status):
            backoff.succeeded()
            return .delivered
        case .success(let response) where (400..<500).contains(response.status):
            backoff.succeeded()
            return .rejected
        case .success, .failure:
            backoff.failed()
            return .gaveUp
        }
    }
}
