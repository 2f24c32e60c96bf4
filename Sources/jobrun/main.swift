import Foundation
import JobWrapper
import JobwatchCore

let args = Array(CommandLine.arguments.dropFirst())
let environment = ProcessInfo.processInfo.environment
do {
    let (invocation, request) = try Invocation.parse(args)
    switch request {
    case .help: print(Invocation.usage)
    case .version: print("jobrun \(JobwatchVersion.current)")
    case .run: exit(JobRun(invocation: invocation, environment: environment).execute())
    }
} catch {
    FileHandle.standardError.write(Data("jobrun: error: \(error)\n\(Invocation.usage)\n".utf8))
    exit(201)
}
