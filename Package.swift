// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Jobwatch",
    products: [
        .executable(name: "jobrun", targets: ["jobrun"]),
        .executable(name: "jobctl", targets: ["jobctl"]),
        .executable(name: "jobmond", targets: ["jobmond"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        // C shims
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .target(name: "CProcess"),
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("z")]),

        // Libraries
        .target(name: "SystemSupport"),
        .target(name: "CronSchedule", dependencies: ["SystemSupport"]),
        .target(name: "JobwatchCore", dependencies: ["CronSchedule", "CYAML", "SystemSupport"]),
        .target(name: "RedisLease", dependencies: ["CHiredis", "JobwatchCore", "SystemSupport"]),
        .target(name: "HTTPClient", dependencies: ["CCurl"]),
        .target(name: "GELF", dependencies: ["CCurl", "HTTPClient", "SystemSupport"]),
        .target(name: "Reporting", dependencies: ["JobwatchCore", "RedisLease", "HTTPClient", "SystemSupport"]),
        .target(name: "MonitorCore", dependencies: ["CronSchedule", "JobwatchCore", "SystemSupport"]),
        .target(name: "FleetReport", dependencies: ["MonitorCore", "CronSchedule"]),
        .target(name: "MonitorService", dependencies: [
            "MonitorCore", "JobwatchCore", "RedisLease", "HTTPClient", "Reporting", "FleetReport", "CProcess",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ],
        // docs/openapi.yaml (through a symlink), compiled into the binary: served at
        // GET /openapi.yaml by a jobmond that ships as one file.
        resources: [.embedInCode("openapi.yaml")]),
        .target(name: "JobWrapper", dependencies: ["JobwatchCore", "RedisLease", "CProcess", "GELF", "Reporting", "SystemSupport"]),

        // Executables
        // Release jobrun is fully static: no dynamic loader work on every cron tick
        // (docs/BENCHMARKS.md); libcurl is still dlopen()ed, only when an HTTP transport is used
        // (Sources/CCurl/ccurl.c). Debug builds stay dynamic so tests can LD_PRELOAD libfaketime;
        // scripts/smoke-release exercises the static binary.
        .executableTarget(name: "jobrun", dependencies: ["JobWrapper", "SystemSupport"],
                          linkerSettings: [.unsafeFlags(["-static-executable"], .when(configuration: .release))]),
        .executableTarget(name: "jobctl", dependencies: [
            "JobwatchCore", "RedisLease", "CronSchedule", "Reporting", "FleetReport", "HTTPClient", "SystemSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .executableTarget(name: "jobmond", dependencies: [
            "MonitorService",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Benchmarks (run by scripts in benchmarks/)
        .executableTarget(name: "CronBench", dependencies: ["CronSchedule"], path: "benchmarks/cron/Sources/CronBench"),
        .executableTarget(name: "FleetBench", dependencies: ["FleetReport", "MonitorCore", "CronSchedule"],
                          path: "benchmarks/fleet/Sources/FleetBench"),
        .executableTarget(name: "GELFBench", dependencies: ["GELF", "CCurl"], path: "benchmarks/gelf/Sources/GELFBench"),

        // Tests
        .target(name: "JobwatchTestSupport", path: "Tests/Support"),
        .systemLibrary(name: "CZlib", path: "Tests/Fuzz/CZlib"),   // inflate, for the fuzz properties' GELF receiver
        .testTarget(name: "CronScheduleTests", dependencies: ["CronSchedule"], exclude: ["cronsim_oracle.py"]),
        .testTarget(name: "JobwatchCoreTests", dependencies: ["JobwatchCore"]),
        .testTarget(name: "RedisLeaseTests", dependencies: ["RedisLease", "JobwatchCore", "JobwatchTestSupport"]),
        .testTarget(name: "GELFTests", dependencies: ["GELF"], exclude: ["gelf_decode.py", "gelf_http_receiver.py"]),
        .testTarget(name: "JobWrapperTests", dependencies: ["JobwatchTestSupport", "CProcess"], exclude: ["gelf_capture.py"]),
        .testTarget(name: "MonitorCoreTests", dependencies: ["MonitorCore"]),
        .testTarget(name: "FleetReportTests", dependencies: ["FleetReport"]),
        .testTarget(name: "MonitorServiceTests", dependencies: ["MonitorService", "FleetReport", "JobwatchTestSupport"], exclude: ["alert_receiver.py", "schemathesis.toml"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "JobwatchTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

// Tests/Fuzz/Targets: the parsers' fuzz properties (docs/SECURITY.md, "Fuzzing"). They read
// internals (`@testable import`, which only debug builds allow), so normally they are compiled
// into the test target that replays Tests/FuzzCorpus, and `swift build -c release` never sees
// them. scripts/fuzz sets JOBWATCH_FUZZ=1 to build them as a library for the libFuzzer binary,
// which links only with -sanitize=fuzzer (libFuzzer's driver), into .build-fuzz.
let fuzzDependencies: [Target.Dependency] = [
    "CronSchedule", "JobwatchCore", "GELF", "CZlib", "RedisLease", "CHiredis", "Reporting", "MonitorService",
]
if Context.environment["JOBWATCH_FUZZ"] == "1" {
    package.targets += [
        .target(name: "FuzzTargets", dependencies: fuzzDependencies, path: "Tests/Fuzz/Targets"),
        .systemLibrary(name: "CLibFuzzer", path: "Tests/Fuzz/CLibFuzzer"),
        .executableTarget(name: "JobwatchFuzzer", dependencies: ["CLibFuzzer", "FuzzTargets"], path: "Tests/Fuzz/Fuzzer"),
    ]
} else {
    package.targets.append(.testTarget(name: "FuzzCorpusTests", dependencies: fuzzDependencies, path: "Tests/Fuzz",
                                       exclude: ["Fuzzer", "dicts"], sources: ["Targets", "CorpusTests"]))
}
