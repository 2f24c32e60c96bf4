/// An optional value kept out of line. `JobMonitor` holds 100,000 jobs in jobmond's memory,
/// and its largest field (`lastRun`) is a few hundred bytes inline; boxed, it costs a pointer,
/// plus the value only where there is one (the open incident is kept out of line the same
/// way, by `JobMonitor.State`'s `indirect` cases). Assigning makes a new box,
/// so copies never share a change (value semantics, like the field it replaces).
///
/// Codable as the bare optional: the key is left out when nil, so stored state is unchanged.
@propertyWrapper
public struct Boxed<Value: Sendable & Equatable>: Sendable, Equatable {
    private final class Box: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    private var box: Box?

    public init(wrappedValue: Value?) {
        box = wrappedValue.map(Box.init)
    }

    public var wrappedValue: Value? {
        get { box?.value }
        set { box = newValue.map(Box.init) }
    }

    public static func == (a: Boxed, b: Boxed) -> Bool { a.wrappedValue == b.wrappedValue }
}

extension Boxed: Codable where Value: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        self.init(wrappedValue: c.decodeNil() ? nil : try c.decode(Value.self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value = wrappedValue { try c.encode(value) } else { try c.encodeNil() }
    }
}

// Synthesized Codable asks for a wrapper's key with `decode`/`encode`; these make a missing
// key decode as nil and a nil value leave the key out, as a plain optional field does.
extension KeyedDecodingContainer {
    public func decode<Value: Codable>(_ type: Boxed<Value>.Type, forKey key: Key) throws -> Boxed<Value> {
        try decodeIfPresent(type, forKey: key) ?? Boxed(wrappedValue: nil)
    }
}

extension KeyedEncodingContainer {
    public mutating func encode<Value: Codable>(_ value: Boxed<Value>, forKey key: Key) throws {
        if value.wrappedValue != nil { try encodeIfPresent(value, forKey: key) }
    }
}
