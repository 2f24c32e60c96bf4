import SystemSupport

/// The JSON the monitor stores for every job on every change (`<prefix>mon:state`) and for
/// every run (`mon:run:…`), written directly instead of through `JSONEncoder`: the leader
/// re-encodes each touched job per batch, and `JSONEncoder` was half of its CPU time
/// (docs/BENCHMARKS.md). The shapes are exactly the `Codable` ones — the same keys, nil
/// optionals left out — so `JSONDecoder` reads them back unchanged; the tests hold the two
/// to each other.
extension JobMonitor {
    public var json: String {
        var w = JSONWriter()
        w.beginObject()
        w.key("spec")
        spec.write(to: &w)
        w.field("firstSeen", firstSeen)
        w.field("recordedState", recordedState.rawValue)
        w.field("expectedOccurrence", expectedOccurrence)
        w.key("runningRuns")
        w.beginObject()
        for (id, run) in runningRuns {
            w.key(id)
            run.write(to: &w)
        }
        w.endObject()
        if let lastRun {
            w.key("lastRun")
            lastRun.write(to: &w)
        }
        if let lastSkip {
            w.key("lastSkip")
            w.beginObject()
            w.field("host", lastSkip.host)
            w.field("at", lastSkip.at)
            w.endObject()
        }
        w.field("consecutiveFailures", Int64(consecutiveFailures))
        if let incident {
            w.key("incident")
            incident.write(to: &w)
        }
        if case .recovering(_, let successes) = condition { w.field("recoveringSuccesses", Int64(successes)) }
        if let pause {
            w.key("pause")
            w.beginObject()
            w.field("since", pause.since)
            w.field("until", pause.until)
            w.endObject()
        }
        w.field("nextDeadline", nextDeadline)
        w.field("nextRealert", nextRealert)
        w.field("overdueRunIDs", Array(overdueRunIDs))
        w.field("finishedRunIDs", fingerprints: finishedRunIDs.fingerprints)
        if !recentDurations.isEmpty { w.field("recentDurations", numbers: recentDurations) }
        if !slowRunIDs.isEmpty { w.field("slowRunIDs", Array(slowRunIDs)) }
        if !resolvedTimes.isEmpty { w.field("resolvedTimes", numbers: resolvedTimes) }
        w.field("maintenanceUntil", maintenanceUntil)
        if let flapping {
            w.key("flapping")
            w.beginObject()
            w.field("since", flapping.since)
            w.field("nextAlert", flapping.nextAlert)
            if let held = flapping.held {
                w.key("held")
                w.beginObject()
                w.field("event", held.event.rawValue)
                w.key("incident")
                held.incident.write(to: &w)
                w.endObject()
            }
            w.endObject()
        }
        w.endObject()
        return w.text
    }
}

/// The stored shape, read back. `condition` is stored as the `incident` key it replaced, so
/// state written before `State` existed reads unchanged, and the other way round.
extension JobMonitor: Codable {
    private enum CodingKeys: String, CodingKey {
        case spec, firstSeen, recordedState, expectedOccurrence, runningRuns, lastRun, lastSkip
        case consecutiveFailures, incident, pause, nextDeadline, nextRealert, overdueRunIDs, finishedRunIDs
        case recentDurations, slowRunIDs, recoveringSuccesses, resolvedTimes, flapping, maintenanceUntil
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        spec = try c.decode(JobSpec.self, forKey: .spec)
        firstSeen = try c.decodeIfPresent(Int64.self, forKey: .firstSeen)
        recordedState = try c.decode(JobState.self, forKey: .recordedState)
        expectedOccurrence = try c.decodeIfPresent(Int64.self, forKey: .expectedOccurrence)
        runningRuns = try c.decode([String: RunRecord].self, forKey: .runningRuns)
        lastSkip = try c.decodeIfPresent(Skip.self, forKey: .lastSkip)
        consecutiveFailures = try c.decode(Int.self, forKey: .consecutiveFailures)
        let open = try c.decodeIfPresent(Incident.self, forKey: .incident)
        let successes = try c.decodeIfPresent(Int.self, forKey: .recoveringSuccesses)
        switch (open, successes) {
        case (let open?, let successes?): condition = .recovering(open, successes: successes)
        case (let open?, nil): condition = .alerting(open)
        case (nil, _): condition = .clear
        }
        pause = try c.decodeIfPresent(Pause.self, forKey: .pause)
        nextDeadline = try c.decodeIfPresent(Int64.self, forKey: .nextDeadline)
        nextRealert = try c.decodeIfPresent(Int64.self, forKey: .nextRealert)
        overdueRunIDs = try c.decode(Set<String>.self, forKey: .overdueRunIDs)
        finishedRunIDs = try c.decode(RecentRuns.self, forKey: .finishedRunIDs)
        recentDurations = try c.decodeIfPresent([Int64].self, forKey: .recentDurations) ?? []
        baselineMedian = Self.median(of: recentDurations)   // an initializer runs no observer
        slowRunIDs = try c.decodeIfPresent(Set<String>.self, forKey: .slowRunIDs) ?? []
        resolvedTimes = try c.decodeIfPresent([Int64].self, forKey: .resolvedTimes) ?? []
        maintenanceUntil = try c.decodeIfPresent(Int64.self, forKey: .maintenanceUntil)
        // Wrappers: set once the rest is.
        lastRun = try c.decodeIfPresent(RunRecord.self, forKey: .lastRun)
        flapping = try c.decodeIfPresent(Flapping.self, forKey: .flapping)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(spec, forKey: .spec)
        try c.encodeIfPresent(firstSeen, forKey: .firstSeen)
        try c.encode(recordedState, forKey: .recordedState)
        try c.encodeIfPresent(expectedOccurrence, forKey: .expectedOccurrence)
        try c.encode(runningRuns, forKey: .runningRuns)
        try c.encodeIfPresent(lastRun, forKey: .lastRun)
        try c.encodeIfPresent(lastSkip, forKey: .lastSkip)
        try c.encode(consecutiveFailures, forKey: .consecutiveFailures)
        try c.encodeIfPresent(incident, forKey: .incident)
        if case .recovering(_, let successes) = condition { try c.encode(successes, forKey: .recoveringSuccesses) }
        try c.encodeIfPresent(pause, forKey: .pause)
        try c.encodeIfPresent(nextDeadline, forKey: .nextDeadline)
        try c.encodeIfPresent(nextRealert, forKey: .nextRealert)
        try c.encode(overdueRunIDs, forKey: .overdueRunIDs)
        try c.encode(finishedRunIDs, forKey: .finishedRunIDs)
        if !recentDurations.isEmpty { try c.encode(recentDurations, forKey: .recentDurations) }
        if !slowRunIDs.isEmpty { try c.encode(slowRunIDs, forKey: .slowRunIDs) }
        if !resolvedTimes.isEmpty { try c.encode(resolvedTimes, forKey: .resolvedTimes) }
        try c.encodeIfPresent(flapping, forKey: .flapping)
        try c.encodeIfPresent(maintenanceUntil, forKey: .maintenanceUntil)
    }
}

extension RunRecord {
    public var json: String {
        var w = JSONWriter()
        write(to: &w)
        return w.text
    }

    func write(to w: inout JSONWriter) {
        w.beginObject()
        w.field("run_id", runID)
        w.field("host", host)
        w.field("scheduled_for", scheduledFor)
        w.field("started_at", startedAt)
        w.field("finished_at", finishedAt)
        w.field("duration_ms", durationMs)
        w.field("exit_code", exitCode.map(Int64.init))
        w.field("signal", signal.map(Int64.init))
        w.field("outcome", outcome?.rawValue)
        w.field("fence", fence)
        w.field("output_tail", outputTail)
        w.field("lease_ms", leaseMs)
        w.field("lease_until", leaseUntil)
        w.field("lost_at", lostAt)
        w.field("attempts", attempts.map(Int64.init))
        if let attemptExitCodes { w.field("attempt_exit_codes", numbers: attemptExitCodes.map(Int64.init)) }
        w.field("reason", reason)
        w.endObject()
    }
}

extension JobSpec {
    func write(to w: inout JSONWriter) {
        w.beginObject()
        w.field("name", name)
        w.field("schedule", schedule?.expression)
        w.field("timezone", timezone)
        w.field("grace_ms", grace)
        w.field("max_runtime_ms", maxRuntime)
        w.field("min_runtime_ms", minRuntime)
        w.field("alert_after_failures", Int64(alertAfterFailures))
        w.field("realert_every_ms", realertEvery)
        w.field("channels", channels)
        w.field("jitter_ms", jitter.map { $0.seconds * 1000 })
        if let anomaly {
            w.key("anomaly")
            w.beginObject()
            w.field("slower", anomaly.slower?.description)
            w.field("faster", anomaly.faster?.description)
            w.field("baseline", Int64(anomaly.baseline))
            w.endObject()
        }
        if resolveAfter != 1 { w.field("resolve_after", Int64(resolveAfter)) }
        if !maintenance.isEmpty {
            w.key("maintenance")
            w.beginArray()
            for window in maintenance {
                w.beginObject()
                w.field("schedule", window.schedule.expression)
                w.field("timezone", window.schedule.timeZoneID)
                w.field("duration_ms", window.duration)
                w.endObject()
            }
            w.endArray()
        }
        w.endObject()
    }
}

extension Incident {
    func write(to w: inout JSONWriter) {
        w.beginObject()
        w.field("job", job)
        w.field("kind", kind.rawValue)
        w.field("since", since)
        w.field("occurrence", occurrence)
        if let lastRun {
            w.key("last_run")
            lastRun.write(to: &w)
        }
        w.field("reason", reason)
        w.field("previous_state", previousState.rawValue)
        w.field("repeats", Int64(repeats))
        w.field("resolved_at", resolvedAt)
        w.field("inhibited_by", inhibitedBy)
        w.endObject()
    }
}

/// Appends JSON text to a byte buffer; `field` with a nil value writes nothing, as
/// `encodeIfPresent` does.
struct JSONWriter {
    private var bytes: [UInt8] = []
    private var needsComma = false

    init() { bytes.reserveCapacity(1024) }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    mutating func key(_ name: String) {
        separate()
        quote(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func field(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        quote(value)
        needsComma = true
    }

    mutating func field(_ name: String, _ value: Int64?) {
        guard let value else { return }
        key(name)
        number(value)
        needsComma = true
    }

    mutating func field(_ name: String, _ values: [String]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (i, value) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            quote(value)
        }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    mutating func field(_ name: String, numbers values: [Int64]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (i, value) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            number(value)
        }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// `RecentRuns`' stored form, written without a String per entry.
    mutating func field(_ name: String, fingerprints: [UInt64]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (i, value) in fingerprints.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            RecentRuns.marked(value, into: &bytes)
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func number(_ value: Int64) {
        bytes.append(contentsOf: String(value).utf8)   // up to 15 digits: a small string, no allocation
    }

    private mutating func quote(_ s: String) {
        JSONString.append(s, to: &bytes)
    }
}
