import CLibFuzzer
import FuzzTargets
#if canImport(Glibc)
import Glibc
#endif

/// One libFuzzer binary for every target, chosen by `JOBWATCH_FUZZ_TARGET` (scripts/fuzz sets
/// it): one sanitized link instead of five. SwiftPM links an executable's `main` to its
/// module's entry point, so this starts libFuzzer's driver itself instead of using its `main`.
@main
enum JobwatchFuzzer {
    nonisolated(unsafe) static var target = FuzzTarget.cron

    static func main() {
        let name = getenv("JOBWATCH_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let chosen = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            fputs("JobwatchFuzzer: set JOBWATCH_FUZZ_TARGET to one of \(names)\n", stderr)
            exit(2)
        }
        target = chosen
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    JobwatchFuzzer.target.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
