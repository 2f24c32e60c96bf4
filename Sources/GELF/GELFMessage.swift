/// One GELF 1.1 message: the four fields every message carries, plus additional fields.
///
/// `shortMessage` holds the raw bytes of an output line: a job may print anything, and
/// converting every line to `String` would cost a validation pass the encoder already does.
/// Invalid UTF-8 becomes U+FFFD when the message is encoded; nothing is dropped.
public struct GELFMessage: Sendable {
    public var host: String
    public var shortMessage: [UInt8]
    /// Seconds since the Unix epoch; encoded with millisecond precision, as Graylog stores it.
    public var timestamp: Double
    /// Syslog severity: 6 (informational) for stdout and successful events, 3 (error) for
    /// stderr and failures.
    public var level: Int
    public var fields: [GELFField]

    public init(host: String, shortMessage: [UInt8], timestamp: Double, level: Int,
                fields: [GELFField] = []) {
        self.host = host
        self.shortMessage = shortMessage
        self.timestamp = timestamp
        self.level = level
        self.fields = fields
    }

    public init(host: String, shortMessage: String, timestamp: Double, level: Int,
                fields: [GELFField] = []) {
        self.init(host: host, shortMessage: Array(shortMessage.utf8), timestamp: timestamp,
                  level: level, fields: fields)
    }
}

public enum GELFValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
}

/// An additional field. GELF requires names matching `^_[\w.\-]*$` and forbids `_id`
/// (Graylog's own message id); rather than rejecting a name at run time, the initialiser
/// repairs it, so a typo in a job definition can never lose the message:
/// a missing leading `_` is added, other characters become `_`, and `_id` becomes `__id`.
public struct GELFField: Sendable, Equatable {
    public let name: String
    public let value: GELFValue

    public init(_ name: String, _ value: GELFValue) {
        self.name = GELFField.repairedName(name)
        self.value = value
    }

    public init(_ name: String, _ value: String) { self.init(name, .string(value)) }
    public init(_ name: String, _ value: Int) { self.init(name, .int(value)) }

    static func repairedName(_ name: String) -> String {
        if isValidName(name) { return name }
        var bytes: [UInt8] = name.utf8.first == UInt8(ascii: "_") ? [] : [UInt8(ascii: "_")]
        for byte in name.utf8 {
            bytes.append(isNameByte(byte) ? byte : UInt8(ascii: "_"))
        }
        if bytes == Array("_id".utf8) { bytes.insert(UInt8(ascii: "_"), at: 0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func isValidName(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard utf8.first == UInt8(ascii: "_"), name != "_id" else { return false }
        return utf8.allSatisfy(isNameByte)
    }

    /// `\w` as Graylog (Java) reads it: ASCII letters, digits and underscore.
    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."),
             UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
