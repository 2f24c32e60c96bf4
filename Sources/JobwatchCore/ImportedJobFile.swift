import SystemSupport

/// The `jobs.d/<name>.yaml` written for one converted crontab line: where it came from as
/// comments, then the keys, every string double-quoted.
struct ImportedJobFile {
    var comments: [String] = []
    var schedule: String
    var timezone: String
    var command: JobCommand
    var user: String?
    /// Further keys with their values already written as YAML (`"1h"`, `true`).
    var settings: [(key: String, value: String)] = []
    var env: [String: String] = [:]

    var yaml: String {
        var out = comments.map { "# \($0)\n" }.joined()
        out += "schedule: \(quoted(schedule))\n"
        out += "timezone: \(quoted(timezone))\n"
        switch command {
        case .shell(let line): out += "command: \(quoted(line))\n"
        case .argv(let argv): out += "command: [\(argv.map(quoted).joined(separator: ", "))]\n"
        }
        if let user { out += "user: \(quoted(user))\n" }
        for (key, value) in settings { out += "\(key): \(value)\n" }
        if !env.isEmpty {
            out += "env:\n" + env.sorted { $0.key < $1.key }.map { "  \(quoted($0.key)): \(quoted($0.value))\n" }.joined()
        }
        return out
    }

    /// A JSON string is a YAML double-quoted scalar.
    func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        JSONString.append(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
