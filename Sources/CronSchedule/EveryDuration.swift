/// `every DURATION`: SPEC §1.2 durations (`90s`, `10m`, `2h`, `1d`, `1h30m`, bare seconds),
/// limited to 1s...31d so that a period always divides the timeline into sensible slots.
enum EveryDuration {
    static let longest: Int64 = 31 * 86_400

    static func seconds(_ text: String) throws -> Int64 {
        let lowered = text.lowercased()
        guard !lowered.isEmpty else { throw ScheduleError.invalidDuration(text) }
        var total: Int64 = 0
        var number: Int64?
        for character in lowered {
            if let digit = character.wholeNumberValue, character.isASCIIDigit {
                number = min((number ?? 0) * 10 + Int64(digit), longest * 10)
                continue
            }
            guard let amount = number, let unit = unitSeconds(character) else {
                throw ScheduleError.invalidDuration(text)
            }
            total = min(total + amount * unit, longest * 10)
            number = nil
        }
        if let bare = number {
            // Bare digits are seconds, but only on their own: "1h30" is a typo, not 1h30s.
            guard total == 0 else { throw ScheduleError.invalidDuration(text) }
            total = bare
        }
        guard (1...longest).contains(total) else { throw ScheduleError.durationOutOfRange(text) }
        return total
    }

    private static func unitSeconds(_ unit: Character) -> Int64? {
        switch unit {
        case "s": return 1
        case "m": return 60
        case "h": return 3600
        case "d": return 86_400
        default: return nil
        }
    }
}
