import MonitorCore

/// A job's last seven days as marks on a strip: each occurrence when there are few, else
/// three-hour bins showing the worst thing that happened in them. Bins keep a minute-level
/// job's strip as small as a daily job's, so 1,000 jobs still render in milliseconds.
struct TimelineStrip {
    static let days: Int64 = 7
    static let width = 280
    static let height = 16
    static let maxMarks = 56

    struct Mark: Equatable {
        var start: Int64
        var end: Int64
        var outcome: OccurrenceOutcome
    }

    let marks: [Mark]
    let start: Int64
    let end: Int64

    init(_ row: StatusRow, now: Int64) {
        end = now
        start = now - Self.days * 86_400_000
        let history = JobHistory(spec: row.spec, runs: row.runs, changes: row.changes)
        let spans = history.stateSpans(from: start, to: end)
        let instants = Self.firstInstants(row.spec, from: start, to: end, limit: Self.maxMarks + 1)
        if row.spec.schedule == nil {
            // Nothing is expected, so nothing is missed: only the runs there were.
            marks = Self.bins(row, spans: spans, from: start, to: end, now: now, expectsRuns: false)
        } else if instants.count <= Self.maxMarks {
            let occurrences = OccurrenceMatching.classify(instants, spec: row.spec, runs: row.runs, spans: spans, now: now)
            marks = occurrences.filter { $0.outcome != .paused }.map { Mark(start: $0.at, end: $0.at, outcome: $0.outcome) }
        } else {
            marks = Self.bins(row, spans: spans, from: start, to: end, now: now, expectsRuns: true)
        }
    }

    private static func firstInstants(_ spec: JobSpec, from: Int64, to: Int64, limit: Int) -> [Int64] {
        guard let schedule = spec.schedule else { return [] }
        var result: [Int64] = []
        var cursor = schedule.next(after: TimeWords.seconds(from) - 1)
        while let t = cursor, t * 1000 < to, result.count < limit {
            if t * 1000 >= from { result.append(t * 1000) }
            cursor = schedule.next(after: t)
        }
        return result
    }

    /// What the runs started in one bin amount to.
    private struct BinRuns {
        var any = false
        var failed = false
        var late = false
        var succeeded = false
    }

    /// Worst first: a failure hides a success in the same bin, a miss hides a late start.
    private static func bins(_ row: StatusRow, spans: [StateSpan], from: Int64, to: Int64, now: Int64, expectsRuns: Bool) -> [Mark] {
        let size = (to - from) / Int64(maxMarks)
        // Flags rather than the runs themselves: a minute-level job has ten thousand a week.
        var byBin = [BinRuns](repeating: BinRuns(), count: maxMarks)
        // Fields are read one by one: binding a whole record would copy it and retain its strings.
        for i in row.runs.indices {
            let startedAt = row.runs[i].startedAt
            guard startedAt >= from && startedAt < to else { continue }
            let index = min(maxMarks - 1, Int((startedAt - from) / size))
            byBin[index].any = true
            switch row.runs[i].outcome {
            case nil, .replaced?: break
            case .success?: byBin[index].succeeded = true
            case .failure?, .timeout?, .lockLost?, .killed?: byBin[index].failed = true
            }
            if (row.runs[i].scheduledFor.map { startedAt - row.spec.expectedStart(of: $0) } ?? 0) > OccurrenceMatching.onTimeSlack {
                byBin[index].late = true
            }
        }
        var marks: [Mark] = []
        for (index, bin) in byBin.enumerated() {
            let lo = from + Int64(index) * size
            let hi = lo + size
            let outcome: OccurrenceOutcome?
            if bin.failed {
                outcome = .failed
            } else if expectsRuns, spans.overlaps(lo, hi, where: { $0 == .missed })
                        || (!bin.any && hi + row.spec.startWindow <= now && !spans.overlaps(lo, hi, where: { $0 == .paused || $0 == .new })) {
                outcome = .missed
            } else if bin.late {
                outcome = .late
            } else if bin.succeeded {
                outcome = .ran
            } else if bin.any {
                outcome = .running
            } else {
                outcome = nil
            }
            guard let outcome else { continue }
            // Neighbours with the same outcome become one rectangle: a healthy week is one.
            if let last = marks.last, last.outcome == outcome, last.end == lo {
                marks[marks.count - 1].end = hi
            } else {
                marks.append(Mark(start: lo, end: hi, outcome: outcome))
            }
        }
        return marks
    }

    func x(_ t: Int64) -> Int { Int((t - start) * Int64(Self.width) / (end - start)) }

    /// The strip's frame and day lines, the same for every row.
    private static let header =
        "<svg class=\"tl\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"last 7 days\">"
        + "<path class=\"grid\" d=\"" + (1..<Int(days)).map { "M\($0 * width / Int(days)) 0v\(height)" }.joined() + "\"/>"

    /// Inline SVG, appended to `html`; problem marks carry a tooltip with their time in the
    /// job's zone.
    func appendSVG(timeZone: String, to html: inout String) {
        html += Self.header
        for mark in marks {
            let x0 = min(x(mark.start), Self.width - 3)
            let w = max(3, x(mark.end) - x0 - 1)
            let problem = mark.outcome == .failed || mark.outcome == .missed || mark.outcome == .late
            html += "<rect class=\"\(mark.outcome.rawValue)\" x=\"\(x0)\" y=\"2\" width=\"\(w)\" height=\"\(Self.height - 4)\" rx=\"1\">"
            if problem {
                html += "<title>\(mark.outcome.rawValue) \(TimeWords.dateAndTime(mark.start, timeZone: timeZone))</title>"
            }
            html += "</rect>"
        }
        html += "</svg>"
    }
}
