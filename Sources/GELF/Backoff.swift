import Glibc
import SystemSupport

/// Delay between attempts to reach Graylog: doubles from 0.1 s to 10 s, so a dead receiver
/// costs a handful of connection attempts, and a restarted one is found again quickly.
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

    /// Sleeps until the next attempt is due; returns false if `giveUp` said so first.
    func waitForNextAttempt(giveUp: () -> Bool) -> Bool {
        while monotonicSeconds() < nextAttempt {
            if giveUp() { return false }
            usleep(UInt32(min(0.05, max(0.001, nextAttempt - monotonicSeconds())) * 1e6))
        }
        return !giveUp()
    }
}
