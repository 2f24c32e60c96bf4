import CronSchedule
import JobwatchCore
import MonitorCore
@testable import MonitorService
import Reporting

/// Input: which request, then its path parameters and body (or query text), as jobmond
/// decodes them after Hummingbird has split and percent-decoded the URL. The handlers' Redis
/// and HTTP halves are left out: the decoding is all that reads what a client sent.
///
/// Properties: decoding never traps; a refusal is an `APIError` 400 with a reason; an accepted
/// report is a well-formed event — the path's job and run id, a host, times in the one UTC
/// form every event uses, a bounded output tail — that reads back the same from the events
/// stream (what the leader applies) and from the spool's JSON (what `jobrun` replays).
public func fuzzAPI(_ data: UnsafeRawBufferPointer) {
    var input = FuzzInput(data)
    let request = input.byte() % 5
    switch request {
    case 0, 1, 2:
        let kind = RunEvent.Kind.allCases[Int(request)]
        let job = String(decoding: input.bytes(until: UInt8(ascii: "/")), as: UTF8.self)
        let runID = kind == .skip ? nil : String(decoding: input.bytes(until: UInt8(ascii: "/")), as: UTF8.self)
        let body = input.rest()
        guard JobName.isValid(job), runID.map(isValidRunID) ?? true else { return }
        guard let event = refusedOr({ try ReportIntake.event(kind, job: job, runID: runID, body: body) }) else { return }
        checkReport(event, kind: kind, job: job, runID: runID, body: body)
    case 3:
        let body = input.rest()
        guard let until = refusedOr({ try ReportFields(json: body).time("until") }), let until else { return }
        check(MonitorEvent.millis(until).map(Timestamp.format(ms:)) == until, "pause until \(until) does not read back: \(body)")
    default:
        let text = String(decoding: input.rest(), as: UTF8.self)
        if let limit = refusedOr({ try MonitorAPI.limit(text) }) {
            check((1...10_000).contains(limit), "limit \(limit) from \"\(text)\"")
        }
        if case .exitCode(let code)? = refusedOr({ try MonitorAPI.pingSignal(text) }) {
            check((0...255).contains(code), "ping exit code \(code) from \"\(text)\"")
        }
        let tail = ReportIntake.tail(text)
        check(tail.utf8.count <= RunEvent.outputTailLimit && text.utf8.reversed().starts(with: tail.utf8.reversed()),
              "output tail of \(text.utf8.count) bytes is \(tail.utf8.count) bytes, or not the end")
    }
}

/// The value, or nil when the request was refused the way the API refuses: `APIError` 400.
private func refusedOr<T>(_ decode: () throws -> T) -> T? {
    do {
        return try decode()
    } catch let error as APIError {
        check(error.status == .badRequest && !error.message.isEmpty, "refused with \(error)")
        return nil
    } catch {
        check(false, "refused with \(type(of: error)), not APIError: \(error)")
        return nil
    }
}

private func checkReport(_ event: RunEvent, kind: RunEvent.Kind, job: String, runID: String?, body: [UInt8]) {
    func label() -> String { "\(event) from \(String(decoding: body.prefix(2000), as: UTF8.self))" }
    check(event.kind == kind && event.job == job && (runID == nil || event.runID == runID) && isValidRunID(event.runID),
          "not the path's job and run: \(label())")
    check(!event.host.isEmpty, "no host: \(label())")
    check(event.fields.map(\.name) == kind.fieldNames, "fields out of order: \(label())")
    let timeNames = ["ts", "started_at", "scheduled_for", "finished_at"]
    let times = [("ts", RunEvent.Value.text(event.ts))] + event.fields.filter { timeNames.contains($0.name) }.map { ($0.name, $0.value) }
    for case let (name, .text(time)) in times {
        check(millis(time).map(Timestamp.format(ms:)) == time, "\(name) \"\(time)\" is not in the one UTC form: \(label())")
    }
    if case .text(let tail)? = event.value("output_tail") {
        check(tail.utf8.count <= RunEvent.outputTailLimit, "an output tail of \(tail.utf8.count) bytes: \(label())")
    }
    check(RunEvent(json: event.json(includeType: true)) == event, "the spool's JSON does not read back: \(label())")
    if let members = StrictJSON.object(body) {
        // Whatever the body said is carried as it said it: numbers exactly, text unchanged (the
        // output tail may only lose its start, times only change form).
        let said = Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        for field in event.fields {
            switch (field.value, said[field.name]) {
            case (.number(let n), .number(let text)?):
                check(Int64(text) == n, "\(field.name): the body's \(text) became \(n): \(label())")
            case (.text(let s), .string(let text)?) where field.name == "output_tail":
                check(text.utf8.reversed().starts(with: s.utf8.reversed()), "output_tail is not the end of the body's: \(label())")
            case (.text(let s), .string(let text)?) where !timeNames.contains(field.name):
                check(s == text, "\(field.name): the body's \"\(text)\" became \"\(s)\": \(label())")
            default:
                break
            }
        }
    }

    let xadd = event.xaddArguments(keyPrefix: "jw:")
    let entry = RESPReply.array(xadd.dropFirst(6).map(RESPReply.bulk))
    let now: Int64 = 1_780_000_000_000
    let applied = entry.withView { MonitorEvent(fields: $0, now: now) }
    check(applied == expectedEvent(event), "the leader reads \(String(describing: applied)), expected \(String(describing: expectedEvent(event))): \(label())")
}

/// What the leader must read from the stream entry of an accepted report.
private func expectedEvent(_ event: RunEvent) -> MonitorEvent? {
    func number(_ name: String) -> Int64? {
        if case .number(let n)? = event.value(name) { return n }
        return nil
    }
    func numbers(_ name: String) -> [Int]? {
        if case .numbers(let list)? = event.value(name) { return list.map(Int.init) }
        return nil
    }
    func text(_ name: String) -> String? {
        if case .text(let text)? = event.value(name), !text.isEmpty { return text }
        return nil
    }
    func time(_ name: String) -> Int64? {
        if case .text(let text)? = event.value(name) { return millis(text) }
        return nil
    }
    guard let ts = millis(event.ts) else { return nil }
    switch event.kind {
    case .start:
        return .start(job: event.job, runID: event.runID, host: event.host, startedAt: time("started_at") ?? ts,
                      scheduledFor: time("scheduled_for"), fence: number("fence"), leaseMs: number("lease_ms"))
    case .finish:
        guard case .text(let outcome)? = event.value("outcome"), let outcome = RunOutcome(rawValue: outcome),
              case .text(let tail)? = event.value("output_tail") else { return nil }
        return .finish(job: event.job, runID: event.runID, host: event.host, finishedAt: time("finished_at") ?? ts,
                       exitCode: number("exit_code").map(Int.init), signal: number("signal").map(Int.init),
                       durationMs: number("duration_ms") ?? 0, outcome: outcome, outputTail: tail.isEmpty ? nil : tail,
                       details: RunDetails(attemptExitCodes: numbers("attempt_exit_codes"), reason: text("reason")))
    case .skip:
        return .skip(job: event.job, host: event.host, at: ts)
    }
}

private func millis(_ text: String) -> Int64? { parseRFC3339Milliseconds(text) }
