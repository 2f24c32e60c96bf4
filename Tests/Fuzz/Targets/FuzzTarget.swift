/// The parsers under fuzzing, by the name `scripts/fuzz` and `Tests/FuzzCorpus/<name>/` use.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case cron
    case jobfile
    case gelf
    case stream
    case api

    /// Runs one input; a broken property stops the process (see `check`).
    public func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .cron: fuzzCron(bytes)
        case .jobfile: fuzzJobFile(bytes)
        case .gelf: fuzzGELF(bytes)
        case .stream: fuzzStreamEntry(bytes)
        case .api: fuzzAPI(bytes)
        }
    }
}
