import ArgumentParser
import CronSchedule
import Foundation

struct Next: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the next occurrences of a schedule (pure local computation; reads no config).",
        discussion: "Example: jobctl next \"30 2 * * *\" --tz Europe/Dublin --count 3")

    @Argument(help: "A cron expression, a @macro, or \"every DURATION\".") var expression: String
    @Option(help: "IANA time zone the schedule is evaluated in.") var tz = "UTC"
    @Option(help: "Start after this RFC 3339 instant (default: now).") var from: String?
    @Option(help: "How many occurrences to print.") var count = 10

    func run() throws {
        guard count > 0 else { throw ValidationError("--count must be at least 1") }
        let schedule: Schedule
        do {
            schedule = try Schedule(expression, timeZone: tz)
        } catch {
            throw ValidationError("\(error)")
        }
        var t: Int64
        if let from {
            guard let parsed = parseRFC3339(from) else {
                throw ValidationError("--from: not an RFC 3339 time: \"\(from)\" (e.g. 2026-03-29T01:00:00Z)")
            }
            t = parsed
        } else {
            t = Int64(Date().timeIntervalSince1970)
        }
        var out = ""
        for _ in 0..<count {
            guard let n = schedule.next(after: t) else { break }
            out += rfc3339(n, timeZone: tz) + "\n"
            t = n
        }
        print(out, terminator: "")
    }
}
