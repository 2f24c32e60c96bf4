/// A ratio of durations, written `3x` or `0.2x` (SPEC §6). Kept in thousandths, so the
/// monitor compares durations in whole milliseconds and a stored value reads back exactly.
public struct Multiplier: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var thousandths: Int64

    public init(thousandths: Int64) { self.thousandths = thousandths }

    /// `3x`, `0.2x`, `1.25x`: a positive number with at most three decimals, then `x`.
    public init?(parsing text: String) {
        guard text.hasSuffix("x") || text.hasSuffix("X") else { return nil }
        let number = text.dropLast().split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = number.first, !whole.isEmpty, whole.count <= 6, whole.allSatisfy(\.isASCIIDigit) else { return nil }
        let fraction = number.count == 2 ? number[1] : ""
        guard fraction.count <= 3, fraction.allSatisfy(\.isASCIIDigit), number.count == 1 || !fraction.isEmpty else { return nil }
        let padded = fraction + String(repeating: "0", count: 3 - fraction.count)
        guard let w = Int64(whole), let f = Int64(padded) else { return nil }
        thousandths = w * 1000 + f
    }

    public var description: String {
        var fraction = String(thousandths % 1000)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(thousandths / 1000)" + (fraction.isEmpty ? "" : "." + fraction) + "x"
    }

    /// `milliseconds` times this ratio, saturating rather than overflowing.
    public func of(_ milliseconds: Int64) -> Int64 {
        let (product, overflow) = milliseconds.multipliedReportingOverflow(by: thousandths)
        return overflow ? .max : product / 1000
    }

    public static func < (a: Multiplier, b: Multiplier) -> Bool { a.thousandths < b.thousandths }
    public static let one = Multiplier(thousandths: 1000)
}

/// `anomaly:` — judge a run's duration against the median of the job's recent successes.
public struct AnomalyRule: Sendable, Equatable {
    /// Still running after this × the median: `slow`.
    public var slower: Multiplier?
    /// A success shorter than this × the median: `fast`.
    public var faster: Multiplier?
    /// How many recent successful durations the median is taken over.
    public var baseline: Int

    public init(slower: Multiplier?, faster: Multiplier?, baseline: Int = AnomalyRule.defaultBaseline) {
        self.slower = slower
        self.faster = faster
        self.baseline = baseline
    }

    public static let defaultBaseline = 20
    /// No judgement before this many successes: a median of fewer says little.
    public static let minimumBaseline = 5
    /// Each kept duration is stored with the job's state, for every job that has the rule.
    public static let maximumBaseline = 100
    public static let keys = ["slower", "faster", "baseline"]
}

extension JobDefinition {
    /// The §6 keys judged by the monitor alone: `anomaly`, `resolve_after`, `maintenance`.
    mutating func readJudgement(_ m: YAMLFile.Mapping) {
        maintenance = MaintenanceWindow.list(m, key: "maintenance", context: "maintenance", keys: MaintenanceWindow.jobKeys,
                                             timeZone: timezone)
        if let n = m.node("anomaly"), !n.isNull, let rule = m.file.mapping(n, what: "anomaly") {
            anomaly = Self.anomalyRule(rule, at: n)
        }
        resolveAfter = m.int("resolve_after", range: 1...100) ?? resolveAfter
    }

    private static func anomalyRule(_ m: YAMLFile.Mapping, at node: YAMLNode) -> AnomalyRule? {
        m.rejectUnknownKeys(allowed: AnomalyRule.keys, context: "anomaly")
        let slower = multiplier(m, "slower", allowed: { $0 > .one }, "must be more than 1x")
        let faster = multiplier(m, "faster", allowed: { $0 < .one && $0.thousandths > 0 }, "must be more than 0x and less than 1x")
        var baseline = AnomalyRule.defaultBaseline
        if let n = m.node("baseline"), !n.isNull {
            let range = AnomalyRule.minimumBaseline...AnomalyRule.maximumBaseline
            if let s = n.string, let v = Int(s), range.contains(v) {
                baseline = v
            } else {
                m.file.problem("anomaly.baseline: expected a whole number of runs from \(range.lowerBound) to "
                               + "\(range.upperBound), got \"\(n.string ?? "?")\"", at: n)
            }
        }
        if m.node("slower") == nil && m.node("faster") == nil {
            m.file.problem("anomaly: needs slower, faster or both (e.g. { slower: 3x, faster: 0.2x })", at: node)
            return nil
        }
        guard slower != nil || faster != nil else { return nil }
        return AnomalyRule(slower: slower, faster: faster, baseline: baseline)
    }

    private static func multiplier(
        _ m: YAMLFile.Mapping, _ key: String, allowed: (Multiplier) -> Bool, _ rule: String
    ) -> Multiplier? {
        guard let n = m.node(key), !n.isNull else { return nil }
        guard let text = n.string, let value = Multiplier(parsing: text) else {
            m.file.problem("anomaly.\(key): expected a multiplier such as 3x or 0.2x, got \"\(n.string ?? "?")\"", at: n)
            return nil
        }
        guard allowed(value) else {
            m.file.problem("anomaly.\(key): \(value) \(rule)", at: n)
            return nil
        }
        return value
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
