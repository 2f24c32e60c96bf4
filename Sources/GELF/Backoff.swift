import Glibc
import SystemSupport

/// Delay between attempts to reach Graylog: doubles from 0.1 s to 10 s, so a dead receiver
/// costs a handful of connection attempts, and a restarted one is found again quickly.
/// Nobody waits for it: while an attempt is not due, output is dropped and counted at once.
struct Backoff {
    private var delay = 0.1
    private(set) var nextAttempt = 0.0

    mutating func failed(now: Double = monotonicSeconds()) {
        nextAttempt = now + delay
        delay = min(delay * 2, 10)
    }

    mutating func succeeded() {
        delay = 0.1
        nextAttempt = 0
    }

    /// Whether another attempt may be made now.
    func isDue(now: Double = monotonicSeconds()) -> Bool { now >= nextAttempt }
}
