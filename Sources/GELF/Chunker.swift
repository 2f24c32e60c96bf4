/// GELF UDP chunking: a message larger than one datagram travels as up to 128 datagrams,
/// each `1e 0f`, an 8-byte message id, sequence number and sequence count, then the data.
struct Chunker {
    static let headerSize = 12
    static let maxChunks = 128

    /// Largest datagram, chunk header included (`gelf_chunk_size`).
    let datagramSize: Int
    /// Random start, then a counter: unique within the process by construction, and two
    /// processes collide only if their random 64-bit starts land within a run of each other.
    private var nextMessageID = UInt64.random(in: .min ... .max)

    init(datagramSize: Int) {
        self.datagramSize = datagramSize
    }

    /// Largest message (after compression) that fits in 128 chunks.
    var largestMessage: Int { (datagramSize - Chunker.headerSize) * Chunker.maxChunks }

    /// Appends the datagrams carrying `payload` to `arena` and records where each one lies.
    /// Returns false, appending nothing, for a payload that needs more than 128 chunks.
    mutating func appendDatagrams(for payload: [UInt8], to arena: inout [UInt8],
                                  ranges: inout [Range<Int>]) -> Bool {
        if payload.count <= datagramSize {
            let start = arena.count
            arena.append(contentsOf: payload)
            ranges.append(start..<arena.count)
            return true
        }
        let dataSize = datagramSize - Chunker.headerSize
        let count = (payload.count + dataSize - 1) / dataSize
        guard count <= Chunker.maxChunks else { return false }
        let id = nextMessageID
        nextMessageID &+= 1
        for sequence in 0..<count {
            let start = arena.count
            arena.append(0x1E)
            arena.append(0x0F)
            withUnsafeBytes(of: id.bigEndian) { arena.append(contentsOf: $0) }
            arena.append(UInt8(sequence))
            arena.append(UInt8(count))
            let data = sequence * dataSize
            arena.append(contentsOf: payload[data..<min(data + dataSize, payload.count)])
            ranges.append(start..<arena.count)
        }
        return true
    }
}
