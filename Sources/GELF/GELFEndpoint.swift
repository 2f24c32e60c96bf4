/// Where messages go, parsed from the `gelf` setting: `udp://host:port`, `tcp://host:port`
/// or `http(s)://host[:port]/path`. A missing UDP/TCP port means 12201, Graylog's default.
public enum GELFEndpoint: Equatable, Sendable {
    case udp(host: String, port: Int)
    case tcp(host: String, port: Int)
    case http(url: String)

    public static let defaultPort = 12201

    public init(parsing url: String) throws {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw GELFConfigurationError("GELF URL \"\(url)\" has no scheme; expected udp://host:port, tcp://host:port or http(s)://host/path")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let rest = String(url[schemeEnd.upperBound...])
        switch scheme {
        case "udp", "tcp":
            let (host, port) = try GELFEndpoint.hostAndPort(rest, in: url)
            self = scheme == "udp" ? .udp(host: host, port: port) : .tcp(host: host, port: port)
        case "http", "https":
            let authority = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            guard !authority.isEmpty else {
                throw GELFConfigurationError("GELF URL \"\(url)\" has no host")
            }
            self = .http(url: url)
        default:
            throw GELFConfigurationError("GELF URL \"\(url)\" has unsupported scheme \"\(scheme)\"; expected udp, tcp, http or https")
        }
    }

    private static func hostAndPort(_ authority: String, in url: String) throws -> (String, Int) {
        var text = Substring(authority)
        if text.hasSuffix("/") { text = text.dropLast() }
        guard !text.isEmpty, !text.contains("/") else {
            throw GELFConfigurationError("GELF URL \"\(url)\" must be scheme://host:port with no path")
        }
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw GELFConfigurationError("GELF URL \"\(url)\" has an unterminated IPv6 address")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw GELFConfigurationError("GELF URL \"\(url)\" has junk after the IPv6 address")
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = text
        }
        guard !host.isEmpty else { throw GELFConfigurationError("GELF URL \"\(url)\" has no host") }
        guard let portText else { return (String(host), defaultPort) }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw GELFConfigurationError("GELF URL \"\(url)\" has an invalid port \"\(portText)\"")
        }
        return (String(host), port)
    }
}

public struct GELFConfigurationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
