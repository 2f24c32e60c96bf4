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
