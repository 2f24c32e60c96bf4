/// Why an expression or time zone was rejected. Every message names the field and the
/// offending text, because operators read these in `jobctl check` output, not in a debugger.
public enum ScheduleError: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyExpression
    case wrongFieldCount(Int)
    case unknownMacro(String)
    case emptyTerm(field: CronField, term: String)
    case invalidValue(field: CronField, value: String, term: String)
    case outOfRange(field: CronField, value: Int, term: String)
    case descendingRange(field: CronField, range: String)
    case invalidStep(field: CronField, step: String, term: String)
    case zeroStep(field: CronField, term: String)
    case invalidDuration(String)
    case durationOutOfRange(String)
    case unknownTimeZone(String)
    case neverFires(String)

    public var description: String {
        switch self {
        case .emptyExpression:
            return "empty expression"
        case .wrongFieldCount(let count):
            return "expected 5 fields, got \(count)"
        case .unknownMacro(let macro):
            return "unknown macro \"\(macro)\" (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)"
        case .emptyTerm(let field, let term):
            return "\(field) field: empty item in \"\(term)\""
        case .invalidValue(let field, let value, let term):
            return "\(field) field: invalid value \"\(value)\" in \"\(term)\""
        case .outOfRange(let field, let value, let term):
            return "\(field) field: value \(value) out of range \(field.bounds.lowerBound)-\(field.bounds.upperBound) in \"\(term)\""
        case .descendingRange(let field, let range):
            return "\(field) field: range \(range) is descending"
        case .invalidStep(let field, let step, let term):
            return "\(field) field: invalid step \"\(step)\" in \"\(term)\""
        case .zeroStep(let field, let term):
            return "\(field) field: step 0 in \"\(term)\""
        case .invalidDuration(let text):
            return "every: invalid duration \"\(text)\" (use e.g. 90s, 10m, 2h, 1d, 1h30m or seconds)"
        case .durationOutOfRange(let text):
            return "every: duration \"\(text)\" out of range 1s-31d"
        case .unknownTimeZone(let id):
            return "unknown time zone \"\(id)\""
        case .neverFires(let expression):
            return "expression \"\(expression)\" can never fire"
        }
    }
}

/// The five cron fields, in expression order.
public enum CronField: Int, Sendable, CaseIterable, CustomStringConvertible {
    case minute, hour, dayOfMonth, month, dayOfWeek

    public var description: String {
        switch self {
        case .minute: return "minute"
        case .hour: return "hour"
        case .dayOfMonth: return "day-of-month"
        case .month: return "month"
        case .dayOfWeek: return "day-of-week"
        }
    }

    /// Accepted numeric values; day-of-week admits 7 as a second Sunday.
    public var bounds: ClosedRange<Int> {
        switch self {
        case .minute: return 0...59
        case .hour: return 0...23
        case .dayOfMonth: return 1...31
        case .month: return 1...12
        case .dayOfWeek: return 0...7
        }
    }

    var names: [String] {
        switch self {
        case .month: return ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        case .dayOfWeek: return ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        default: return []
        }
    }

    /// The number the first name stands for (jan = 1, sun = 0).
    var firstNameValue: Int { self == .month ? 1 : 0 }
}
