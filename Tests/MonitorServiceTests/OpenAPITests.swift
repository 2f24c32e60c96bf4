import Foundation
import JobwatchCore
import JobwatchTestSupport
import XCTest

/// docs/openapi.yaml against a real jobmond: served as built in, and held to the server's
/// behaviour by schemathesis (installed from PyPI; CI installs it, so a missing one fails).
final class OpenAPITests: XCTestCase {
    static let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../docs/openapi.yaml").standardized.path
    static let config = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("schemathesis.toml").path
    static let jobs = ["backup-db": "schedule: \"30 2 * * *\"\nmax_runtime: 1h\n", "nightly": "schedule: every 1h\n"]

    func testServesTheDocumentWithoutAToken() throws {
        let h = try MonitorHarness()
        try h.start()
        let r = try h.request("GET", "/openapi.yaml", token: nil)
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.headers["content-type"], "application/yaml")
        let file = try XCTUnwrap(FileManager.default.contents(atPath: Self.document))
        XCTAssertEqual(r.body, Array(file), "jobmond serves docs/openapi.yaml as it was when jobmond was built")
        XCTAssertTrue(r.text.contains("\n  version: \(JobwatchVersion.current)\n"),
                      "docs/openapi.yaml: info.version should be \(JobwatchVersion.current)")
    }

    /// The operations that need a token, with one that has every scope.
    func testSchemathesisWithTokens() throws {
        let h = try MonitorHarness(jobs: Self.jobs, tokens: ["{ name: all, secret: all-token, scopes: [report, read, admin] }"])
        try h.start()
        try schemathesis(h, arguments: ["--header", "Authorization: Bearer all-token"])
    }

    /// No `monitor.tokens`: every scoped operation answers 401 (there is no open mode); the
    /// status page is public.
    func testSchemathesisWithoutTokens() throws {
        let h = try MonitorHarness(jobs: Self.jobs, publicStatusPage: true, tokens: [])
        try h.start()
        try schemathesis(h, arguments: [])
    }

    /// Positive and negative data, every check, a fixed seed and few examples per operation so
    /// that a run stays within seconds and fails the same way twice. One worker: with more,
    /// Hypothesis's strategy descriptions race in Python 3.11's parser ("AST constructor
    /// recursion depth mismatch").
    private func schemathesis(_ h: MonitorHarness, arguments: [String]) throws {
        let installed = try Command.run(["python3", "-c", "import schemathesis"])
        guard installed.status == 0 else {
            return XCTFail("schemathesis is missing (python3 -m pip install schemathesis==4.32.5, as scripts/install-deps "
                           + "and CI do): \(installed.stderrText)")
        }
        var environment = ProcessInfo.processInfo.environment
        environment["HYPOTHESIS_STORAGE_DIRECTORY"] = h.root + "/hypothesis"
        let run = try Command.run(
            ["python3", "-m", "schemathesis.cli", "--config-file", Self.config, "--no-color", "run",
             "http://127.0.0.1:\(h.port)/openapi.yaml", "--mode", "all", "--max-examples", "25", "--seed", "20260329",
             "--workers", "1", "--generation-database", "none", "--request-timeout", "10"] + arguments,
            environment: environment, timeout: 120)
        XCTAssertEqual(run.status, 0, "schemathesis found problems:\n\(run.stdoutText)\n\(run.stderrText)")
    }
}
