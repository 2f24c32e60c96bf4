/// The runs a job finished most recently, so a report delivered twice (a batch re-claimed
/// after a crash, a spool or HTTP retry) is recognised and applied once. Kept as 64-bit
/// FNV-1a fingerprints of the run ids: 8 bytes each instead of a heap string, which for
/// 100,000 jobs remembering 64 runs each is 50 MB of jobmond's memory instead of about 400.
/// Two different ids of one job share a fingerprint with odds of about 64 in 2⁶⁴ per run.
///
/// Stored as one string of 16 hex digits per run, oldest first; state written by earlier
/// versions (an array of the ids themselves) is read too.
struct RecentRuns: Sendable, Equatable {
    /// A ring once full: `oldest` is where the next run overwrites. Grown to exactly the
    /// limit, never past it (an array grown by appending would keep up to twice the room).
    private var slots: [UInt64] = []
    private var oldest = 0

    init() {}

    /// Oldest first.
    var fingerprints: [UInt64] { Array(slots[oldest...] + slots[..<oldest]) }

    func contains(_ runID: String) -> Bool { slots.contains(Self.fingerprint(runID)) }

    /// Remembers `runID`, forgetting the oldest beyond `limit`.
    mutating func insert(_ runID: String, limit: Int) {
        let fingerprint = Self.fingerprint(runID)
        if slots.count < limit {
            if slots.count == slots.capacity { slots.reserveCapacity(min(limit, max(4, slots.count * 2))) }
            slots.append(fingerprint)
        } else {
            slots[oldest] = fingerprint
            oldest = (oldest + 1) % slots.count
        }
    }

    static func == (a: RecentRuns, b: RecentRuns) -> Bool { a.fingerprints == b.fingerprints }

    private init(ordered: [UInt64]) { slots = ordered }

    static func fingerprint(_ runID: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in runID.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    var hex: String {
        var digits: [UInt8] = []
        digits.reserveCapacity(fingerprints.count * 16)
        let alphabet = Array("0123456789abcdef".utf8)
        for value in fingerprints {
            for shift in stride(from: 60, through: 0, by: -4) { digits.append(alphabet[Int(value >> UInt64(shift) & 0xf)]) }
        }
        return String(decoding: digits, as: UTF8.self)
    }

    init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count % 16 == 0 else { return nil }
        slots.reserveCapacity(digits.count / 16)
        for start in stride(from: 0, to: digits.count, by: 16) {
            var value: UInt64 = 0
            for c in digits[start..<start + 16] {
                guard let d = Self.hexValue(c) else { return nil }
                value = value << 4 | d
            }
            slots.append(value)
        }
    }

    private static func hexValue(_ c: UInt8) -> UInt64? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt64(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt64(c - UInt8(ascii: "a") + 10)
        default: return nil
        }
    }
}

extension RecentRuns: Codable {
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let ids = try? c.decode([String].self) {
            self.init(ordered: ids.map(Self.fingerprint))
            return
        }
        let text = try c.decode(String.self)
        guard let runs = RecentRuns(hex: text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "finishedRunIDs: expected 16 hex digits per run")
        }
        self = runs
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}
