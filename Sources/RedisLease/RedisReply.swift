/// A decoded Redis reply. Bulk strings are kept as text: every value Jobwatch stores is.
public indirect enum RedisReply: Sendable, Equatable {
    case string(String)
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    case null
    case error(String)

    public var string: String? {
        switch self {
        case .string(let s), .status(let s): return s
        case .integer(let i): return String(i)
        default: return nil
        }
    }

    public var integer: Int64? {
        switch self {
        case .integer(let i): return i
        case .string(let s): return Int64(s)
        default: return nil
        }
    }

    public var array: [RedisReply]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var isError: Bool {
        if case .error = self { return true }
        return false
    }

    /// A write refused because the server is a replica (it was a master before a failover).
    var isReadOnly: Bool {
        if case .error(let e) = self { return e.hasPrefix("READONLY") }
        return false
    }
}

public struct RedisError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case unreachable, server, protocolViolation }
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
