/// The runs a job finished most recently, so a report delivered twice (a batch re-claimed
/// after a crash, a spool or HTTP retry) is recognised and applied once. Kept as 64-bit
/// FNV-1a fingerprints of the run ids: 8 bytes each instead of a heap string, which for
/// 100,000 jobs remembering 64 runs each is 50 MB of jobmond's memory instead of about 400.
/// Two different ids of one job share a fingerprint with odds of about 64 in 2⁶⁴ per run.
///
/// Stored, oldest first, as the array of strings earlier versions wrote the ids themselves
/// in: each fingerprint as `#` and 16 hex digits (`#` is never part of a run id). Old state
/// (real ids) is read by fingerprinting them, and a rolled-back jobmond still reads new state:
/// it sees ids no run has, so it forgets which runs finished, and nothing else.
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

    /// `#` and 16 lowercase hex digits, the stored form of one fingerprint.
    static func marked(_ fingerprint: UInt64, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "#"))
        for shift in stride(from: 60, through: 0, by: -4) { bytes.append(hexDigits[Int(fingerprint >> UInt64(shift) & 0xf)]) }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A stored entry: a marked fingerprint, or (written before fingerprints) a run id.
    static func fingerprint(stored entry: String) -> UInt64 {
        let digits = entry.utf8
        guard digits.count == 17, digits.first == UInt8(ascii: "#") else { return fingerprint(entry) }
        var value: UInt64 = 0
        for c in digits.dropFirst() {
            guard let d = hexValue(c) else { return fingerprint(entry) }
            value = value << 4 | d
        }
        return value
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
        let entries = try decoder.singleValueContainer().decode([String].self)
        self.init(ordered: entries.map(Self.fingerprint(stored:)))
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(fingerprints.map { value -> String in
            var bytes: [UInt8] = []
            Self.marked(value, into: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        })
    }
}
