/// Commands written straight in Redis's wire format (RESP arrays of bulk strings), for
/// pipelines of many thousands of commands: no argument array per command, no copy through
/// hiredis's formatter. Send with `RedisConnection.pipeline(_:resendOnReconnect:reading:)`,
/// which takes several buffers in order (a transaction's MULTI, its body and EXEC) without
/// copying them together.
///
///     var buffer = RESPBuffer()
///     buffer.command("SET", 4)          // name and argument count, then each argument
///     buffer.argument(key); buffer.argument(value); buffer.argument("PX"); buffer.argument(ttl)
public struct RESPBuffer: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// Commands written so far.
    public private(set) var count = 0
    /// Arguments the last command still expects: a miscount would desynchronise the
    /// connection, so it stops the program instead.
    private var owed = 0

    /// Every command has all its arguments.
    public var isComplete: Bool { owed == 0 }

    public init() {}

    /// Room for `byteCount` bytes, so a large batch is not copied as it grows.
    public init(reservingCapacity byteCount: Int) {
        bytes.reserveCapacity(byteCount)
    }

    /// Each inner array is one command, name first.
    public init(_ commands: [[String]]) {
        for command in commands {
            guard let name = command.first else { continue }
            self.command(name, command.count - 1)
            for argument in command.dropFirst() { self.argument(argument) }
        }
    }

    /// Starts a command of `arguments` arguments after its name; exactly that many
    /// `argument` calls must follow.
    public mutating func command(_ name: String, _ arguments: Int) {
        precondition(owed == 0, "RESPBuffer: the previous command is missing \(owed) argument(s)")
        count += 1
        bytes.append(UInt8(ascii: "*"))
        decimal(UInt64(arguments + 1))
        newline()
        owed = 1
        argument(name)
        owed = arguments
    }

    public mutating func argument(_ text: String) {
        precondition(owed > 0, "RESPBuffer: more arguments than the command declared")
        owed -= 1
        var text = text
        text.withUTF8 { utf8 in
            bytes.append(UInt8(ascii: "$"))
            decimal(UInt64(utf8.count))
            newline()
            bytes.append(contentsOf: utf8)
            newline()
        }
    }

    /// A number as its decimal text, without making a String of it.
    public mutating func argument(_ number: Int64) {
        precondition(owed > 0, "RESPBuffer: more arguments than the command declared")
        owed -= 1
        let width = (number < 0 ? 1 : 0) + Self.digitCount(number.magnitude)
        bytes.append(UInt8(ascii: "$"))
        decimal(UInt64(width))
        newline()
        if number < 0 { bytes.append(UInt8(ascii: "-")) }
        decimal(number.magnitude)
        newline()
    }

    private mutating func decimal(_ value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes: any UInt64 fits
        withUnsafeMutableBytes(of: &digits) { raw in
            var n = value
            var start = raw.count
            while n > 0 {
                start -= 1
                raw[start] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[start...]))
        }
    }

    private static func digitCount(_ value: UInt64) -> Int {
        var count = 1
        var n = value
        while n >= 10 {
            n /= 10
            count += 1
        }
        return count
    }

    private mutating func newline() {
        bytes.append(13)
        bytes.append(10)
    }
}
