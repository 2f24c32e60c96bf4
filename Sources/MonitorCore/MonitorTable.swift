/// Every job's monitor by name, stored densely. A `[String: JobMonitor]` of 100,000 jobs
/// reserves room for 262,144 values (a hash table stays under three quarters full), and at
/// several hundred bytes per `JobMonitor` that alone was most of jobmond's memory; here the
/// hash table holds only an index.
///
/// Iterates as `(key: job, value: monitor)` pairs, like the dictionary it replaces, in no
/// particular order.
public struct MonitorTable: Sendable, Sequence {
    private var index: [String: Int] = [:]
    private var names: [String] = []
    private var monitors: [JobMonitor] = []

    public init() {}

    public init(minimumCapacity: Int) {
        index.reserveCapacity(minimumCapacity)
        names.reserveCapacity(minimumCapacity)
        monitors.reserveCapacity(minimumCapacity)
    }

    public var count: Int { monitors.count }
    public var isEmpty: Bool { monitors.isEmpty }
    public var keys: [String] { names }

    /// Setting nil removes the job; the last job takes its slot.
    public subscript(job: String) -> JobMonitor? {
        get { index[job].map { monitors[$0] } }
        set {
            if let slot = index[job] {
                if let newValue {
                    monitors[slot] = newValue
                } else {
                    remove(at: slot)
                }
            } else if let newValue {
                index[job] = monitors.count
                names.append(job)
                monitors.append(newValue)
            }
        }
    }

    /// `body` applied to the job's monitor where it is stored, without copying it out.
    public func read<Result>(_ job: String, _ body: (JobMonitor) -> Result) -> Result? {
        guard let slot = index[job] else { return nil }
        return body(monitors[slot])
    }

    private mutating func remove(at slot: Int) {
        index[names[slot]] = nil
        let last = monitors.count - 1
        if slot != last {
            names.swapAt(slot, last)
            monitors.swapAt(slot, last)
            index[names[slot]] = slot
        }
        names.removeLast()
        monitors.removeLast()
    }

    public func makeIterator() -> AnyIterator<(key: String, value: JobMonitor)> {
        var slot = 0
        return AnyIterator {
            guard slot < monitors.count else { return nil }
            defer { slot += 1 }
            return (names[slot], monitors[slot])
        }
    }

    public var underestimatedCount: Int { monitors.count }
}
