// Measures Schedule.next(after:) throughput; compare with cronsim_bench.py on the same
// expressions. Run a release build: swift run -c release CronBench
import CronSchedule
import Foundation

let zone = "Europe/Dublin"
let expressions = ["*/5 * * * *", "30 2 * * *", "0 9 * * 1-5", "15 */2 1,15 * mon", "0 0 29 2 *"]
let start: Int64 = 1_774_000_000  // 2026-03-20, a week before Dublin's spring-forward

func seconds(_ body: () -> Void) -> Double {
    let begin = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9
}

// Fixed pseudo-random instants in 2026-2027, so both builds ask the same questions.
var state: UInt64 = 0x9E37_79B9_7F4A_7C15
let instants: [Int64] = (0..<1_000_000).map { _ in
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return start + Int64(state >> 33) % (2 * 365 * 86_400)
}

print("expression            next(after:) per second (\(zone), random instants in 2026-2027)")
for expression in expressions {
    let schedule = try! Schedule(expression, timeZone: zone)
    var checksum: Int64 = 0
    let elapsed = seconds {
        for t in instants { checksum &+= schedule.next(after: t)! }
    }
    let label = expression.padding(toLength: 22, withPad: " ", startingAt: 0)
    print("\(label)\(Int(Double(instants.count) / elapsed))   (checksum \(checksum))")
}

// A monitor recomputing every job's next deadline: 100,000 jobs over a mix of schedules
// and zones, each asked once from the same "now".
let zones = ["Europe/Dublin", "Europe/Riga", "America/New_York", "America/Sao_Paulo",
             "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham", "UTC"]
let jobs = (0..<100_000).map { index in
    try! Schedule(expressions[index % expressions.count], timeZone: zones[index % zones.count])
}
var checksum: Int64 = 0
let elapsed = seconds {
    for job in jobs { checksum &+= job.next(after: start)! }
}
print("100,000 jobs' next deadlines: \(String(format: "%.1f", elapsed * 1000)) ms (checksum \(checksum))")
