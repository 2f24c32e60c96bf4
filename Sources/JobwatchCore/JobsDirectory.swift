import SystemSupport

/// Every `*.yaml` file of a `jobs.d` directory. One broken file never hides the others: the
/// good ones load, the broken ones are reported, each problem located.
public struct JobsDirectory: Sendable {
    public let path: String
    public let jobs: [JobDefinition]
    public let problems: [ConfigError]
    /// The directory itself could be listed: a job missing from `jobs` was really removed.
    public var listed = true

    public static func load(_ path: String, defaultTimezone: String) -> JobsDirectory {
        var jobs: [JobDefinition] = []
        var problems: [ConfigError] = []
        let names: [String]
        do {
            names = try FileSystem.directoryEntries(atPath: path).sorted()
        } catch {
            var unlisted = JobsDirectory(path: path, jobs: [], problems: [
                ConfigError(path: path, line: 0, column: 0, message: "cannot read jobs directory: \(error)"),
            ])
            unlisted.listed = false
            return unlisted
        }
        for name in names where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let file = path.hasSuffix("/") ? path + name : path + "/" + name
            if name.hasSuffix(".yml") {
                problems.append(ConfigError(path: file, line: 1, column: 1, message: "job files must end in .yaml (rename to \(Path.deletingExtension(name)).yaml)"))
                continue
            }
            do {
                jobs.append(try JobDefinition.load(path: file, defaultTimezone: defaultTimezone))
            } catch let e as ConfigErrors {
                problems += e.errors
            } catch {
                problems.append(ConfigError(path: file, line: 1, column: 1, message: "\(error)"))
            }
        }
        return JobsDirectory(path: path, jobs: jobs, problems: problems)
    }
}
