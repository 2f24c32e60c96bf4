#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex with one condition variable on the monotonic clock, so that waits with a
/// deadline survive wall-clock jumps. Plain pthreads keep Foundation out of jobrun's start-up.
public final class ConditionLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Call with the lock held.
    public func broadcast() { pthread_cond_broadcast(condition) }

    /// Call with the lock held; waits until `ready()` or the monotonic `deadline` (nil: none).
    /// Returns whether `ready()` held.
    public func wait(until deadline: Double?, for ready: () -> Bool) -> Bool {
        while !ready() {
            guard let deadline else {
                pthread_cond_wait(condition, mutex)
                continue
            }
            if deadline <= monotonicSeconds() { return false }
            let seconds = deadline.rounded(.down)
            var until = timespec(tv_sec: Int(seconds), tv_nsec: Int((deadline - seconds) * 1e9))
            pthread_cond_timedwait(condition, mutex, &until)
        }
        return true
    }
}

/// Runs `body` on a new pthread; the returned handle must be joined or detached.
public func startThread(_ body: @escaping () -> Void) -> pthread_t {
    final class Box { let body: () -> Void; init(_ body: @escaping () -> Void) { self.body = body } }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.body()
        return nil
    }, box)
    precondition(status == 0, "pthread_create failed: \(status)")
    return thread
}

/// Milliseconds on the monotonic clock: for deadlines and durations, never for timestamps.
public func monotonicMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// Seconds on the monotonic clock: for deadlines and durations, never for timestamps.
public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
