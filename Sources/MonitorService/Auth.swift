import Foundation
import Hummingbird
import JobwatchCore
import Synchronization

/// What a bearer token may do (`monitor.tokens[].scopes`).
public enum TokenScope: String, Sendable, CaseIterable {
    case report, read, admin
}

/// The configured tokens, secrets resolved at start-up and again on SIGHUP (`reload`).
///
/// A presented token is compared with every configured secret in constant time, and all of
/// them are always compared, so neither the position of the first differing byte nor which
/// token matched shows in the response time.
public final class Authenticator: Sendable {
    struct Credential: Sendable {
        let name: String
        let secret: [UInt8]
        let scopes: Set<TokenScope>
    }

    private let credentials: Mutex<[Credential]>

    public init(tokens: [MonitorConfig.Token]) throws {
        credentials = Mutex(try Self.resolve(tokens))
    }

    /// A secret file that cannot be read keeps the old tokens in force.
    public func reload(tokens: [MonitorConfig.Token]) throws {
        let fresh = try Self.resolve(tokens)
        credentials.withLock { $0 = fresh }
    }

    private static func resolve(_ tokens: [MonitorConfig.Token]) throws -> [Credential] {
        try tokens.map { token in
            Credential(name: token.name, secret: Array(try token.secret.resolve().utf8),
                       scopes: Set(token.scopes.compactMap(TokenScope.init(rawValue:))))
        }
    }

    /// The name of the token that grants `scope`. 401 without a token or with an unknown one,
    /// 403 for a known token without the scope. `allowQuery` accepts `?token=` (for /ping,
    /// whose callers are often a bare `curl` in a crontab).
    @discardableResult
    public func require(_ scope: TokenScope, _ request: Request, allowQuery: Bool = false) throws -> String {
        guard let presented = Self.presentedToken(request, allowQuery: allowQuery) else {
            throw APIError(.unauthorized, "missing bearer token (Authorization: Bearer <token>)")
        }
        guard let credential = match(Array(presented.utf8)) else {
            throw APIError(.unauthorized, "invalid token")
        }
        guard credential.scopes.contains(scope) else {
            throw APIError(.forbidden, "token \"\(credential.name)\" lacks the \(scope.rawValue) scope")
        }
        return credential.name
    }

    func match(_ presented: [UInt8]) -> Credential? {
        var found: Credential?
        for credential in credentials.withLock({ $0 }) {
            let equal = Self.constantTimeEqual(presented, credential.secret)
            if equal, found == nil { found = credential }
        }
        return found
    }

    static func presentedToken(_ request: Request, allowQuery: Bool) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let token = parts[1].trimmingCharacters(in: .whitespaces)
                return token.isEmpty ? nil : token
            }
            return nil
        }
        guard allowQuery, let token = request.uri.queryParameters.get("token"), !token.isEmpty else { return nil }
        return token
    }

    /// Time depends on the presented token's length only, never on where the bytes differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        difference |= a.count == b.count ? 0 : 1
        for i in 0..<a.count {
            difference |= a[i] ^ (b.isEmpty ? 0 : b[i % b.count])
        }
        return difference == 0 && !b.isEmpty
    }
}
