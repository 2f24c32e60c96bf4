import JobWrapper
import JobwatchCore
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

let args = Array(CommandLine.arguments.dropFirst())
let environment = ProcessEnvironment.current()
if CronlockMode.isInvoked(as: CommandLine.arguments[0]) {
    do {
        let (invocation, mode) = try CronlockMode.invocation(arguments: args, environment: environment)
        exit(JobRun(invocation: invocation, cronlock: mode, environment: environment).execute())
    } catch {
        StandardError.write("cronlock: error: \(error)\n\(CronlockMode.usage)\n")
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
    StandardError.write("jobrun: error: \(error)\n\(Invocation.usage)\n")
    exit(201)
}

