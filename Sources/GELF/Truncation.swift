extension GELFMessage {
    /// The encoded message, shortened until `fits` accepts it.
    ///
    /// A UDP message may span at most 128 chunks; rather than dropping a message that needs
    /// more, its `short_message` is cut (at a UTF-8 boundary) and `_truncated: 1` is added, so
    /// the operator sees both the start of the line and that something is missing.
    func encodedTruncated(toFit fits: ([UInt8]) -> Bool, encodedSize: Int, budget: Int) -> [UInt8] {
        var shortened = self
        shortened.fields.append(GELFField("_truncated", 1))
        var size = encodedSize
        var keep = shortMessage.count
        while true {
            // Escaping can make a byte up to six bytes long, so shrink in proportion and retry.
            let ratio = Double(budget) / Double(max(size, 1)) * 0.9
            keep = min(keep - 1, Int(Double(keep) * ratio))
            guard keep > 0 else {
                shortened.shortMessage = Array("[message too large for UDP]".utf8)
                return GELFEncoder.encode(shortened)
            }
            let cut = keep < shortMessage.count
                ? GELFMessage.sequenceBoundary(in: shortMessage, before: keep, after: 0) : keep
            shortened.shortMessage = Array(shortMessage[..<cut])
            let encoded = GELFEncoder.encode(shortened)
            if fits(encoded) { return encoded }
            size = encoded.count
        }
    }
}

/// UDP only: the largest message 128 chunks can carry, and what to do with a larger one.
struct DatagramBudget {
    let budget: Int
    let compression: GELFCompression

    /// `encoded` when it fits, otherwise `message()` truncated until it does.
    func fit(_ encoded: [UInt8], _ message: () -> GELFMessage) -> [UInt8] {
        guard encoded.count > budget, !fits(encoded) else { return encoded }
        return message().encodedTruncated(toFit: fits, encodedSize: encoded.count, budget: budget)
    }

    /// Only for messages already over the budget uncompressed, which at the default chunk
    /// size never happens: compressing here as well keeps the common path cheap.
    private func fits(_ encoded: [UInt8]) -> Bool {
        if encoded.count <= budget { return true }
        guard let deflater = Deflater(compression) else { return false }
        var compressed: [UInt8] = []
        deflater.compress(encoded, into: &compressed)
        return compressed.count <= budget
    }
}
