@testable import GELF

/// Input: UDP settings (compression, chunk size, part size), then a message — host, raw
/// `short_message` bytes, timestamp, level, additional fields — and an output line's numbers.
///
/// Properties, through a strict receiver (`GELFReceiver`, `StrictJSON`): every encoded message
/// is one valid flat JSON object with no NUL (TCP frames end in one) that says exactly what
/// the message holds, invalid UTF-8 replaced as Swift replaces it; a long line comes back as
/// parts that add up to it; a message over the UDP budget comes back shortened, marked
/// `_truncated`, and fits; its datagrams reassemble and inflate to the same bytes. An output
/// line's template encodes exactly what the general encoder does for the same message.
public func fuzzGELF(_ data: UnsafeRawBufferPointer) {
    var input = FuzzInput(data)
    let compression = GELFCompression.allCases[Int(input.byte()) % GELFCompression.allCases.count]
    let datagramSize = 64 + Int(input.int64(in: 0...4096))
    let partSize = input.bool() ? GELFMessage.maxShortMessageBytes : 1 + Int(input.byte())
    let host = String(decoding: input.bytes(upTo: 255), as: UTF8.self)
    let timestamp = Double(bitPattern: UInt64(bitPattern: input.int64()))
    let level = Int(input.int64())
    let fields = additionalFields(&input)
    let line = Int(input.int64()), part = input.bool() ? Int(input.int64()) : nil, parts = input.bool() ? Int(input.int64()) : nil
    let truncated = input.bool()
    let text = input.rest()
    let message = GELFMessage(host: host, shortMessage: text, timestamp: timestamp, level: level, fields: fields)

    let pieces = message.splitIntoParts(maxBytes: partSize)
    check(pieces.count == 1 || pieces.allSatisfy { $0.shortMessage.count <= partSize }, "a part over \(partSize) bytes")
    check(pieces.flatMap(\.shortMessage) == text, "the parts do not add up to the line")
    var chunker = Chunker(datagramSize: datagramSize)
    let budget = DatagramBudget(budget: chunker.largestMessage, compression: compression)
    let deflater = Deflater(compression)
    var lastID: ArraySlice<UInt8>?
    // A small part size makes thousands of parts: their cuts are checked above, the wire on a few.
    for piece in pieces.count <= 4 ? pieces : pieces.prefix(3) + [pieces[pieces.count - 1]] {
        let encoded = GELFEncoder.encode(piece)
        checkDecodes(encoded, as: piece, truncated: false)
        let fitted = budget.fit(encoded) { piece }
        if fitted != encoded { checkDecodes(fitted, as: piece, truncated: true) }
        var body = fitted
        if let deflater, fitted.count >= UDPTransport.compressionThreshold {
            deflater.compress(fitted, into: &body)
        }
        var arena: [UInt8] = [], ranges: [Range<Int>] = []
        guard chunker.appendDatagrams(for: body, to: &arena, ranges: &ranges) else {
            check(body.count > chunker.largestMessage, "a \(body.count)-byte payload within 128 chunks was refused")
            check(fitted != encoded, "a message over the UDP budget was not truncated")
            continue
        }
        let datagrams = ranges.map { Array(arena[$0]) }
        check(GELFReceiver.payload(of: datagrams, datagramSize: datagramSize) == fitted,
              "\(datagrams.count) datagram(s) of \(datagramSize) bytes do not reassemble to the message")
        if datagrams.count > 1 {
            check(lastID != datagrams[0][2..<10], "two chunked messages share a message id")
            lastID = datagrams[0][2..<10]
        }
    }

    let template = OutputLineTemplate(host: host, level: level, fields: fields)
    let fast = text.withUnsafeBytes {
        template.encode($0, timestamp: timestamp, line: line, part: part, parts: parts, truncated: truncated)
    }
    let general = text.withUnsafeBytes {
        GELFEncoder.encode(template.message($0, timestamp: timestamp, line: line, part: part, parts: parts, truncated: truncated))
    }
    check(fast == general, "the line template and the encoder disagree:\n\(String(decoding: fast, as: UTF8.self))\n\(String(decoding: general, as: UTF8.self))")
}

/// Names the pipeline adds itself are left out, so every decoded key is unique.
private func additionalFields(_ input: inout FuzzInput) -> [GELFField] {
    var fields: [GELFField] = []
    var names: Set<String> = ["_line", "_part", "_parts", "_truncated"]
    for _ in 0..<input.byte() % 8 {
        let name = String(decoding: input.bytes(upTo: 32), as: UTF8.self)
        let value: GELFValue
        switch input.byte() % 3 {
        case 0: value = .string(String(decoding: input.bytes(upTo: 300), as: UTF8.self))
        case 1: value = .int(Int(input.int64()))
        default: value = .double(Double(bitPattern: UInt64(bitPattern: input.int64())))
        }
        let field = GELFField(name, value)
        check(GELFField.isValidName(field.name), "repaired name \(field.name) of \(name) is not a GELF name")
        if names.insert(field.name).inserted { fields.append(field) }
    }
    return fields
}

/// `encoded` is one strict JSON object carrying `message`; a truncated one carries the start
/// of its line (or the too-large notice) and `_truncated: 1`.
private func checkDecodes(_ encoded: [UInt8], as message: GELFMessage, truncated: Bool) {
    let shown = String(decoding: encoded.prefix(2000), as: UTF8.self)
    check(!encoded.contains(0), "a NUL in the encoded message: \(shown)")
    guard let members = StrictJSON.object(encoded) else { return check(false, "not strict JSON: \(shown)") }
    var expected: [(String, StrictJSON.Value)] = [
        ("version", .string("1.1")), ("host", .string(message.host)),
        ("short_message", .string(String(decoding: message.shortMessage, as: UTF8.self))),
        ("timestamp", .number(millisecondText(message.timestamp))), ("level", .number(String(message.level))),
    ]
    for field in message.fields {
        switch field.value {
        case .string(let text): expected.append((field.name, .string(text)))
        case .int(let number): expected.append((field.name, .number(String(number))))
        case .double(let number) where number.isFinite: expected.append((field.name, .number(number.description)))
        case .double(let number): expected.append((field.name, .string(number.description)))
        }
    }
    if truncated {
        expected.append(("_truncated", .number("1")))
        let full = String(decoding: message.shortMessage, as: UTF8.self)
        guard case .string(let kept)? = members.first(where: { $0.key == "short_message" })?.value else {
            return check(false, "no short_message: \(shown)")
        }
        check(kept == "[message too large for UDP]" || full.unicodeScalars.starts(with: kept.unicodeScalars),
              "truncated short_message is not a start of the line: \(shown)")
        expected[2].1 = .string(kept)
    }
    check(members.map(\.key) == expected.map(\.0), "keys \(members.map(\.key)), expected \(expected.map(\.0)): \(shown)")
    for (member, (name, value)) in zip(members, expected) {
        check(member.value == value, "\(name) is \(member.value), expected \(value): \(shown)")
    }
}

/// GELF's timestamp as the encoder promises it: seconds with three decimals, clamped to
/// 1970...9999, zero for a clock that is not a number.
private func millisecondText(_ seconds: Double) -> String {
    let millis = seconds.isFinite ? Int((min(max(seconds, 0), 253_402_300_799) * 1000).rounded()) : 0
    let fraction = String(millis % 1000)
    return "\(millis / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}
