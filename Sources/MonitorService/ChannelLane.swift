import Foundation
import HTTPClient
import JobwatchCore
import SystemSupport
import Synchronization

/// Sends one channel's alerts in stream order, retrying each message until the channel takes
/// it or refuses it for good. A slow or failing channel holds up only its own lane.
///
/// Storm control (`StormControl`: Slack and webhook channels, `group_burst`, `group_wait`,
/// `group_interval`, `group_by`; `repeat_interval` on every channel): an alert on a quiet
/// channel goes out at once, alone; beyond the burst, alerts wait and go out as digests
/// (`AlertDigest`), so a storm's backlog is a few digests, never a queue of thousands of
/// messages. PagerDuty channels send one message per alert (PagerDuty groups by dedup key
/// itself).
struct ChannelLane: Sendable {
    let channel: String
    let dispatcher: AlertDispatcher
    let inbox = LaneInbox()

    enum Verdict: Equatable {
        case delivered
        case retry(afterMs: Int64, String)
        case permanent(status: Int?, String)
    }

    /// Until the term ends (cancelled), or the inbox is closed and empty.
    func drain() async {
        let sender = Sender(label: "jobmond.alerts.\(channel)")
        var storm = StormControl(settings: .ungrouped)
        while await inbox.wait() {
            storm.settings = dispatcher.currentSettings.storm[channel] ?? .ungrouped
            guard await send(storm.arrived(inbox.takeAll(), now: monotonicMs()), &storm, with: sender) else { return }
            while let due = storm.releaseAt {
                guard await pause(ms: due - monotonicMs()) else { return }
                guard await send(storm.release(inbox.takeAll(), now: monotonicMs()), &storm, with: sender) else { return }
            }
        }
    }

    /// False once this replica must stop sending.
    private func send(_ plan: StormControl.Plan, _ storm: inout StormControl, with sender: Sender) async -> Bool {
        await dispatcher.acknowledge(plan.dropped, result: nil)
        let settings = dispatcher.currentSettings
        let messages = plan.alone.flatMap { AlertDigest.messages([$0], grouping: nil, statusPageURL: nil) }
            + AlertDigest.messages(plan.grouped, grouping: settings.grouping[channel], statusPageURL: settings.statusPageURL)
        for message in messages {
            guard await deliver(message, with: sender) else { return false }
            storm.sent(at: monotonicMs())
        }
        return true
    }

    /// False once this replica must stop sending (lease lost, shutdown); the entries stay
    /// pending in Redis for the next leader.
    private func deliver(_ message: AlertDigest.Message, with sender: Sender) async -> Bool {
        let logger = dispatcher.logger
        guard let body = message.body else {
            await dispatcher.acknowledge(message.entries, result: nil)
            return true
        }
        var attempts = DeliveryAttempts(initialMs: dispatcher.currentSettings.retryInitialMs, maxMs: dispatcher.currentSettings.retryMaxMs)
        while true {
            guard !Task.isCancelled else { return false }
            let settings = dispatcher.currentSettings
            let verdict: Verdict
            if let target = settings.channels[channel] {
                verdict = Self.verdict(await sender.post(url: target.url, body: Array(body.utf8)), now: Timestamp.nowMs())
            } else {
                verdict = .permanent(status: nil, settings.unusable[channel] ?? "no channel \"\(channel)\" in monitor.channels")
            }
            let about = "\(message.about) to \(channel)"
            switch verdict {
            case .delivered:
                logger.info("alert delivered: \(about)")
                await dispatcher.acknowledge(message.entries, result: "sent")
                await dispatcher.record(problem: nil, jobs: message.jobs, channel: channel)
                return true
            case .permanent(let status, let why):
                logger.error("alert refused, not retried: \(about): \(why)")
                let problem = DeliveryProblem(channel: channel, event: message.event, status: status, error: why, at: Timestamp.nowMs())
                await dispatcher.record(problem: problem, jobs: message.jobs, channel: channel)
                await dispatcher.acknowledge(message.entries, result: "refused")
                return true
            case .retry(let hinted, let why):
                let wait = attempts.failed(hintedMs: hinted)
                logger.warning("alert not delivered (attempt \(attempts.failures)), retrying in \(wait) ms: \(about): \(why)")
                guard await pause(ms: wait) else { return false }
            }
        }
    }

    /// False when the term ended meanwhile (the sleep is cancelled with it).
    private func pause(ms: Int64) async -> Bool {
        guard ms > 0 else { return !Task.isCancelled }
        do { try await Task.sleep(nanoseconds: UInt64(ms) * 1_000_000) } catch { return false }
        return true
    }

    /// 2xx delivered; 429 waits for `Retry-After` (default 30 s); 408, 5xx and no answer back
    /// off; any other status (400 bad payload, 403/404 revoked webhook...) cannot succeed
    /// by repetition. `.retry(afterMs: 0, ...)` means "use the backoff".
    static func verdict(_ result: Result<HTTPSession.Response, Error>, now: Int64) -> Verdict {
        switch result {
        case .failure(let error):
            return .retry(afterMs: 0, "\(error)")
        case .success(let response):
            let excerpt = String(response.text.prefix(300))
            switch response.status {
            case 200..<300: return .delivered
            case 429:
                let hinted = response.headers["retry-after"].flatMap { retryAfterMs($0, now: now) } ?? 30_000
                return .retry(afterMs: max(1, hinted), "HTTP 429 (rate limited) \(excerpt)")
            case 408, 500..<600: return .retry(afterMs: 0, "HTTP \(response.status) \(excerpt)")
            default: return .permanent(status: response.status, "HTTP \(response.status) \(excerpt)")
            }
        }
    }

    /// `Retry-After: 120` or an HTTP date; capped at an hour so a bogus value cannot stall a
    /// channel for days.
    static func retryAfterMs(_ value: String, now: Int64) -> Int64? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int64(text), seconds >= 0 { return min(seconds * 1000, 3_600_000) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return min(max(0, Int64(date.timeIntervalSince1970 * 1000) - now), 3_600_000)
    }
}

/// One message's retries, as a pure rule: the wait before the next attempt doubles from
/// `retry_initial` up to `retry_max`, unless the channel said how long (`Retry-After`).
struct DeliveryAttempts {
    let initialMs: Int64
    let maxMs: Int64
    private(set) var failures = 0

    /// A failed attempt; returns how long to wait before the next. `hintedMs` 0: no hint.
    mutating func failed(hintedMs: Int64) -> Int64 {
        let backoff = min(maxMs, initialMs << min(failures, 30))
        failures += 1
        return hintedMs > 0 ? hintedMs : backoff
    }
}

/// What the dispatcher has read for one lane and the lane has not taken yet.
final class LaneInbox: Sendable {
    private struct State {
        var entries: [OutboxEntry] = []
        var closed = false
        var waiter: CheckedContinuation<Bool, Never>?
    }

    private let state = Mutex(State())

    func append(_ entry: OutboxEntry) {
        let waiting = state.withLock { state in
            state.entries.append(entry)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiting?.resume(returning: true)
    }

    func close() {
        let waiting = state.withLock { state in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiting?.resume(returning: false)
    }

    /// Waits until an entry is there (true) or the inbox is closed and empty (false).
    func wait() async -> Bool {
        await withCheckedContinuation { continuation in
            let answer: Bool? = state.withLock { state in
                if !state.entries.isEmpty { return true }
                if state.closed { return false }
                state.waiter = continuation
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }
    }

    func takeAll() -> [OutboxEntry] {
        state.withLock { state in
            defer { state.entries.removeAll(keepingCapacity: true) }
            return state.entries
        }
    }
}

/// libcurl blocks: each lane posts from its own serial queue, off the async thread pool, over
/// one kept-alive connection. `@unchecked`: `session` is only touched on `queue`.
final class Sender: @unchecked Sendable {
    private let queue: DispatchQueue
    private var session: HTTPSession?

    init(label: String) { queue = DispatchQueue(label: label) }

    func post(url: String, body: [UInt8]) async -> Result<HTTPSession.Response, Error> {
        await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result {
                    if self.session == nil { self.session = try HTTPSession(connectTimeout: 5, timeout: 15, bodyLimit: 64 * 1024) }
                    return try self.session!.send("POST", url: url, headers: ["Content-Type: application/json"], body: body)
                })
            }
        }
    }
}
