/// Which jobs need `deadlinePassed(now:)` next: a binary min-heap of (due time, job).
///
/// Rescheduling pushes a new entry instead of searching the heap; the old one is recognised
/// as stale by its generation and dropped when it surfaces, which keeps every operation
/// O(log n) for 100,000 jobs.
public struct DeadlineQueue: Sendable {
    private struct Entry: Sendable {
        var due: Int64
        var generation: UInt64
        var job: String
    }

    private var heap: [Entry] = []
    private var current: [String: (due: Int64, generation: UInt64)] = [:]
    private var generations: UInt64 = 0

    public init() {}

    /// Jobs with a deadline.
    public var count: Int { current.count }

    /// The earliest deadline, for the timer.
    public var nextDue: Int64? { heap.first?.due }

    public func due(of job: String) -> Int64? { current[job]?.due }

    /// Replaces the job's deadline; nil removes it.
    public mutating func schedule(_ job: String, at due: Int64?) {
        guard let due else {
            current[job] = nil
            dropStaleTop()
            return
        }
        if current[job]?.due == due { return }
        generations += 1
        current[job] = (due, generations)
        push(Entry(due: due, generation: generations, job: job))
        dropStaleTop()
        compactIfMostlyStale()
    }

    /// The jobs whose deadline is at or before `now`, earliest first; they leave the queue
    /// until scheduled again.
    public mutating func popDue(now: Int64) -> [String] {
        var jobs: [String] = []
        while let top = heap.first, top.due <= now {
            popTop()
            if isLive(top) {
                current[top.job] = nil
                jobs.append(top.job)
            }
        }
        dropStaleTop()
        return jobs
    }

    private func isLive(_ entry: Entry) -> Bool { current[entry.job]?.generation == entry.generation }

    /// Keeps `nextDue` honest without making it mutating.
    private mutating func dropStaleTop() {
        while let top = heap.first, !isLive(top) { popTop() }
    }

    /// Jobs rescheduled far ahead, again and again, would otherwise leave the heap growing.
    private mutating func compactIfMostlyStale() {
        guard heap.count > 1024, heap.count > 2 * current.count else { return }
        heap = heap.filter(isLive)
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, precedes(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, precedes(heap[right], heap[smallest]) { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }

    /// Ties go to the earlier scheduling, so equal deadlines pop in a stable order.
    private func precedes(_ a: Entry, _ b: Entry) -> Bool {
        a.due != b.due ? a.due < b.due : a.generation < b.generation
    }
}
