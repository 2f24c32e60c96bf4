import Foundation
import XCTest

/// Replays `Tests/FuzzCorpus/<target>/` — the seeds, and every input that once broke a
/// property — through the same properties libFuzzer checks (`scripts/fuzz`), unsanitized, so
/// the normal test run guards each fix. A broken property stops the test process and names it.
final class FuzzCorpusTests: XCTestCase {
    private static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("FuzzCorpus")

    private func replay(_ target: FuzzTarget) throws {
        let directory = Self.corpus.appendingPathComponent(target.rawValue)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        XCTAssertFalse(files.isEmpty, "no corpus for \(target.rawValue)")
        for name in files {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(name))
            bytes.withUnsafeBytes { target.run($0) }
        }
    }

    func testCron() throws { try replay(.cron) }
    func testJobFile() throws { try replay(.jobfile) }
    func testGELF() throws { try replay(.gelf) }
    func testStreamEntry() throws { try replay(.stream) }
    func testAPI() throws { try replay(.api) }
}
