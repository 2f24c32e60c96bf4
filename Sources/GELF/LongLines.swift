extension GELFMessage {
    /// Longest `short_message`, in bytes, that one message carries (Jobwatch contract, §2.1).
    public static let maxShortMessageBytes = 32 * 1024

    /// The message itself when its line fits, otherwise one message per 32 KiB piece.
    ///
    /// Every piece repeats the other fields and carries `_part` (1-based) and `_parts` (total),
    /// so an operator can find all pieces of a line with `_line:<n> AND _stream:<s>` and put
    /// them back in `_part` order. Cuts fall between UTF-8 sequences, so no piece gains a
    /// replacement character that the original line did not have.
    public func splitIntoParts(maxBytes: Int = GELFMessage.maxShortMessageBytes) -> [GELFMessage] {
        let line = shortMessage
        guard line.count > maxBytes else { return [self] }
        let cuts = GELFMessage.partRanges(of: line, maxBytes: maxBytes)
        return cuts.enumerated().map { index, range in
            var part = self
            part.shortMessage = Array(line[range])
            part.fields.append(GELFField("_part", index + 1))
            part.fields.append(GELFField("_parts", cuts.count))
            return part
        }
    }

    /// Consecutive ranges of at most `maxBytes` covering `bytes`, cut between UTF-8 sequences.
    static func partRanges<Bytes: RandomAccessCollection>(of bytes: Bytes, maxBytes: Int) -> [Range<Int>]
        where Bytes.Element == UInt8, Bytes.Index == Int
    {
        var cuts: [Range<Int>] = []
        var start = bytes.startIndex
        while start < bytes.endIndex {
            var end = min(start + maxBytes, bytes.endIndex)
            if end < bytes.endIndex {
                end = sequenceBoundary(in: bytes, before: end, after: start)
            }
            cuts.append(start..<end)
            start = end
        }
        return cuts
    }

    /// Moves `end` back over at most three continuation bytes; invalid input that has more
    /// keeps the hard cut, since its bytes will be replaced anyway.
    static func sequenceBoundary<Bytes: RandomAccessCollection>(in bytes: Bytes, before end: Int, after start: Int) -> Int
        where Bytes.Element == UInt8, Bytes.Index == Int
    {
        var cut = end
        while cut > start + 1, end - cut < 3, bytes[cut] & 0xC0 == 0x80 {
            cut -= 1
        }
        return bytes[cut] & 0xC0 == 0x80 ? end : cut
    }
}
