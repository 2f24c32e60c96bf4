/// SPEC §6 `jitter`: each occurrence of a job starts a fixed offset after its scheduled time,
/// an offset every host and the monitor derive alike from the job's name and the occurrence.
///
/// The offset is a hash, not a random draw, so nothing has to be shared for them to agree,
/// and it is spelled out so that any tool can recompute it (docs/CONFIGURATION.md, `jitter`):
///
///     key    = UTF-8 of "<job>:<occurrence as decimal epoch seconds>"   e.g. "backup:1767225600"
///     h      = FNV-1a 64 of key   (offset basis 0xcbf29ce484222325, prime 0x100000001b3)
///     h      = fmix64(h)          (MurmurHash3's finaliser: FNV's low bits alone spread poorly)
///     offset = h mod span         whole seconds, in [0, span)
///
/// Swift's `Hasher` is seeded per process and so could never be used here.
public struct Jitter: Sendable, Hashable {
    public let job: String
    /// The span in whole seconds, at least 1.
    public let seconds: Int64

    public init(job: String, seconds: Int64) {
        precondition(seconds > 0, "a jitter span is at least one second")
        self.job = job
        self.seconds = seconds
    }

    /// The delay, in whole seconds in `[0, seconds)`, of the occurrence scheduled at
    /// `occurrence` (epoch seconds).
    public func offset(of occurrence: Int64) -> Int64 {
        Int64(Self.hash("\(job):\(occurrence)") % UInt64(seconds))
    }

    /// When the occurrence scheduled at `occurrence` (epoch seconds) is due to start.
    public func start(of occurrence: Int64) -> Int64 {
        occurrence + offset(of: occurrence)
    }

    static func hash(_ key: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h = h &* 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }
}

extension Schedule {
    /// When the occurrence scheduled at `occurrence` (epoch seconds) is due to start: the
    /// scheduled time itself without jitter.
    public func start(of occurrence: Int64, jitter: Jitter?) -> Int64 {
        jitter?.start(of: occurrence) ?? occurrence
    }

    /// The first occurrence (epoch seconds) whose start is strictly after `t`. Starts keep the
    /// order of their occurrences because a jitter is shorter than the schedule's shortest gap
    /// (`JobDefinition` refuses any other), so at most one occurrence scheduled before `t`
    /// can still be due after it.
    public func firstOccurrence(startingAfter t: Int64, jitter: Jitter?) -> Int64? {
        var cursor = next(after: t - (jitter?.seconds ?? 0))
        while let occurrence = cursor, start(of: occurrence, jitter: jitter) <= t {
            cursor = next(after: occurrence)
        }
        return cursor
    }
}
