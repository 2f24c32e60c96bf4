/// Reads structured values off the front of a fuzzer's bytes. Running out is not an error:
/// every read then answers zero or empty, so any byte string is a valid input and libFuzzer's
/// mutations (which shorten and splice freely) never fall off a cliff.
struct FuzzInput {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isEmpty: Bool { position >= bytes.count }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func bool() -> Bool { byte() & 1 == 1 }

    /// Eight bytes, little-endian; fewer when the input ends.
    mutating func int64() -> Int64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 8) { value |= UInt64(byte()) << UInt64(shift) }
        return Int64(bitPattern: value)
    }

    /// A value in `range`, from eight bytes.
    mutating func int64(in range: ClosedRange<Int64>) -> Int64 {
        let span = UInt64(bitPattern: range.upperBound &- range.lowerBound) &+ 1
        let raw = UInt64(bitPattern: int64())
        return range.lowerBound &+ Int64(bitPattern: span == 0 ? raw : raw % span)
    }

    /// Up to `limit` bytes, the count taken from the next byte (or two, for longer limits).
    mutating func bytes(upTo limit: Int) -> [UInt8] {
        let wanted = limit > 255 ? Int(byte()) << 8 | Int(byte()) : Int(byte())
        return take(min(wanted % (limit + 1), bytes.count - min(position, bytes.count)))
    }

    /// Bytes up to (not including) the next `separator`, which is consumed.
    mutating func bytes(until separator: UInt8) -> [UInt8] {
        let start = min(position, bytes.count)
        var end = start
        while end < bytes.count && bytes[end] != separator { end += 1 }
        position = end + 1
        return Array(bytes[start..<end])
    }

    /// Everything left.
    mutating func rest() -> [UInt8] { take(max(0, bytes.count - position)) }

    private mutating func take(_ count: Int) -> [UInt8] {
        let start = min(position, bytes.count)
        let end = min(start + count, bytes.count)
        position = end
        return Array(bytes[start..<end])
    }
}

/// A broken property: stops the process, so libFuzzer keeps the input that broke it, and
/// names the input's own values so the report is readable without a debugger.
func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
           file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
