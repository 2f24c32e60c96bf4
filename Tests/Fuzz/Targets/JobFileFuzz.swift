import CronSchedule
@testable import JobwatchCore

/// Input: the bytes of a `jobs.d/fuzz.yaml` file.
///
/// Properties: loading never traps or hangs; it either refuses the file with located problems
/// (each naming the file, at a line and column inside it) or gives a definition that keeps
/// every rule validation promises. `PUT /api/v1/jobs/fuzz` reads the same bytes through
/// `String(decoding:)` and must agree with the file loader whenever that changes nothing.
public func fuzzJobFile(_ data: UnsafeRawBufferPointer) {
    let bytes = Array(data)
    let path = "jobs.d/fuzz.yaml"
    let fromFile = load(bytes, path: path)
    let text = String(decoding: bytes, as: UTF8.self)
    let fromAPI = load(Array(text.utf8), path: path)
    if Array(text.utf8) == bytes {
        check((fromFile == nil) == (fromAPI == nil), "the API and jobs.d disagree on \(bytes)")
    }
    for definition in [fromFile, fromAPI].compactMap({ $0 }) {
        checkValid(definition, bytes)
    }
}

private func load(_ bytes: [UInt8], path: String) -> JobDefinition? {
    let lines = lineBreaks(bytes) + 1
    do {
        return try JobDefinition.parse(bytes: bytes, path: path, defaultTimezone: "Europe/Riga")
    } catch let refused as ConfigErrors {
        check(!refused.errors.isEmpty, "refused without a problem: \(bytes)")
        for problem in refused.errors {
            check(problem.path == path && !problem.message.isEmpty, "problem \(problem) names no file or reason: \(bytes)")
            // libyaml may point one line past a final newline (the end of the stream).
            check((1...lines + 1).contains(problem.line) && problem.column >= 1,
                  "problem \(problem) points outside the file's \(lines) lines: \(bytes)")
        }
        return nil
    } catch {
        check(false, "refused with \(type(of: error)), not ConfigErrors: \(error): \(bytes)")
        return nil
    }
}

/// YAML 1.1's line breaks, as libyaml counts them: LF, CR (CR LF counts once), NEL, LS, PS.
private func lineBreaks(_ bytes: [UInt8]) -> Int {
    var count = 0
    for (i, byte) in bytes.enumerated() {
        switch byte {
        case 0x0A: count += i > 0 && bytes[i - 1] == 0x0D ? 0 : 1
        case 0x0D: count += 1
        case 0x85: count += i > 0 && bytes[i - 1] == 0xC2 ? 1 : 0
        case 0xA8, 0xA9: count += i > 1 && bytes[i - 2] == 0xE2 && bytes[i - 1] == 0x80 ? 1 : 0
        default: break
        }
    }
    return count
}

private func checkValid(_ job: JobDefinition, _ bytes: [UInt8]) {
    check(job.name == "fuzz" && JobName.isValid(job.name), "job name \(job.name): \(bytes)")
    check(isKnownTimeZone(job.timezone), "accepted unknown zone \(job.timezone): \(bytes)")
    if let schedule = job.schedule {
        check(schedule.timeZoneID == job.timezone, "schedule in \(schedule.timeZoneID), job in \(job.timezone): \(bytes)")
    }
    if case .shell(let line)? = job.command {
        check(!line.trimmingWhitespace().isEmpty, "accepted a blank command: \(bytes)")
    }
    if case .argv(let argv)? = job.command { check(!argv.isEmpty, "accepted an empty argv: \(bytes)") }
    check((1...1000).contains(job.alertAfterFailures), "alert_after_failures \(job.alertAfterFailures): \(bytes)")
    check(job.lockTTL >= Timespan(seconds: 3), "lock_ttl \(job.lockTTL): \(bytes)")
    check(job.maxRuntime.map { $0 >= Timespan(seconds: 1) } ?? true, "max_runtime \(String(describing: job.maxRuntime)): \(bytes)")
    check(!job.killOnTimeout || job.maxRuntime != nil, "kill_on_timeout without max_runtime: \(bytes)")
    check(job.realertEvery.map { $0.milliseconds > 0 } ?? true, "realert_every 0 kept: \(bytes)")
    for timespan in [job.grace, job.killAfter, job.lockWait] + [job.minRuntime].compactMap({ $0 }) {
        check(timespan >= .zero, "negative duration \(timespan): \(bytes)")
    }
    for key in job.env.keys {
        check(!key.isEmpty && !key.contains("="), "env name \"\(key)\": \(bytes)")
    }
}
