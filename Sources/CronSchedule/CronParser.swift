/// What an expression describes once parsed: a cron pattern or a fixed period.
enum ScheduleRule: Sendable {
    case cron(CronFields, isFixedTime: Bool)
    case every(seconds: Int64)
}

/// Parses the Vixie cron dialect of SPEC §5, with cronsim's reading of the corners
/// (`N/step` runs to the field's maximum, which is 7 for day-of-week).
enum CronParser {
    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *",
        "@annually": "0 0 1 1 *",
        "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *",
        "@midnight": "0 0 * * *",
        "@hourly": "0 * * * *",
    ]

    static func parse(_ expression: String) throws -> ScheduleRule {
        let words = expression.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = words.first else { throw ScheduleError.emptyExpression }
        if first.lowercased() == "every" {
            return .every(seconds: try EveryDuration.seconds(words.dropFirst().joined()))
        }
        if first.hasPrefix("@") {
            guard words.count == 1, let expansion = macros[first.lowercased()] else {
                throw ScheduleError.unknownMacro(expression)
            }
            return try parseFields(expansion.split(separator: " ").map(String.init), expression: expression)
        }
        return try parseFields(words, expression: expression)
    }

    private static func parseFields(_ words: [String], expression: String) throws -> ScheduleRule {
        guard words.count == 5 else { throw ScheduleError.wrongFieldCount(words.count) }
        let masks = try zip(CronField.allCases, words).map { try mask($1, field: $0) }
        let fields = CronFields(
            minutes: masks[0], hours: masks[1], daysOfMonth: masks[2], months: masks[3], daysOfWeek: masks[4],
            domStar: words[2].hasPrefix("*"), dowStar: words[4].hasPrefix("*"))
        guard fields.canFire else { throw ScheduleError.neverFires(expression) }
        let isFixedTime = !words[0].hasPrefix("*") && !words[1].hasPrefix("*")
        return .cron(fields, isFixedTime: isFixedTime)
    }

    /// A field's values as a bitmask (bit n set = value n allowed).
    static func mask(_ text: String, field: CronField) throws -> UInt64 {
        var mask: UInt64 = 0
        for term in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !term.isEmpty else { throw ScheduleError.emptyTerm(field: field, term: text) }
            mask |= try termMask(String(term), field: field)
        }
        return mask
    }

    private static func termMask(_ term: String, field: CronField) throws -> UInt64 {
        let parts = term.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let base = String(parts[0])
        var step = 1
        if parts.count == 2 {
            let stepText = String(parts[1])
            guard !stepText.isEmpty, stepText.allSatisfy(\.isASCIIDigit) else {
                throw ScheduleError.invalidStep(field: field, step: stepText, term: term)
            }
            step = boundedNumber(stepText)
            guard step > 0 else { throw ScheduleError.zeroStep(field: field, term: term) }
        }
        let range: ClosedRange<Int>
        if base == "*" {
            range = field.bounds
        } else if let dash = base.firstIndex(of: "-") {
            let low = try value(String(base[..<dash]), field: field, term: term)
            let high = try value(String(base[base.index(after: dash)...]), field: field, term: term)
            guard low <= high else { throw ScheduleError.descendingRange(field: field, range: base) }
            range = low...high
        } else {
            let single = try value(base, field: field, term: term)
            range = single...(parts.count == 2 ? field.bounds.upperBound : single)
        }
        var mask: UInt64 = 0
        for value in stride(from: range.lowerBound, through: range.upperBound, by: step) {
            mask |= 1 << UInt64(value)
        }
        return mask
    }

    private static func value(_ text: String, field: CronField, term: String) throws -> Int {
        if let index = field.names.firstIndex(of: text.lowercased()) {
            return index + field.firstNameValue
        }
        guard !text.isEmpty, text.allSatisfy(\.isASCIIDigit) else {
            throw ScheduleError.invalidValue(field: field, value: text, term: term)
        }
        let number = boundedNumber(text)
        guard field.bounds.contains(number) else {
            throw ScheduleError.outOfRange(field: field, value: number, term: term)
        }
        return number
    }

    /// Reads a digit string without overflowing; anything past 99,999 only needs to be
    /// "too big" for a field or a step, so it saturates.
    private static func boundedNumber(_ digits: String) -> Int {
        let significant = digits.drop(while: { $0 == "0" })
        return significant.count > 5 ? 99_999 : Int(significant) ?? 0
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
