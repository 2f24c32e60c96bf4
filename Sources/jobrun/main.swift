import Foundation
import JobWrapper
import JobwatchCore

let args = Array(CommandLine.arguments.dropFirst())
let environment = ProcessInfo.processInfo.environment
if CronlockMode.isInvoked(as: CommandLine.arguments[0]) {
    do {
        let (invocation, mode) = try CronlockMode.invocation(arguments: args, environment: environment)
        exit(JobRun(invocation: invocation, cronlock: mode, environment: environment).execute())
    } catch {
        FileHandle.standardError.write(Data("cronlock: error: \(error)\n\(CronlockMode.usage)\n".utf8))
        exit(201)
    }
}
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
