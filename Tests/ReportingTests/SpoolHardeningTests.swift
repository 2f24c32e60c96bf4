import Foundation
import JobwatchTestSupport
import Reporting
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `jobrun` runs as root; `spool_dir` may have been touched by a local user first. Nothing
/// planted there may make root write or read a file it did not create.
final class SpoolHardeningTests: XCTestCase {
    private func event(_ i: Int) -> RunEvent {
        RunEvent.skip(job: "job\(i)", runID: "run\(i)", host: "h", reason: .lockHeld, holder: "x", scheduledFor: nil)
    }

    private func victim(_ text: String) throws -> String {
        let path = try TemporaryDirectory.make(prefix: "victim") + "/precious"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testAPlantedLockSymlinkIsNotFollowed() throws {
        let dir = try TemporaryDirectory.make(prefix: "spool")
        chmod(dir, 0o700)
        let spool = Spool(directory: dir) { _ in }
        try spool.write(event(1))
        let target = try TemporaryDirectory.make(prefix: "victim") + "/created-by-root"
        try FileManager.default.createSymbolicLink(atPath: dir + "/.lock", withDestinationPath: target)
        let result = spool.deliverAll(wait: true) { _ in .delivered }
        XCTAssertEqual(result.delivered, 0)
        XCTAssertNotNil(result.failure, "the lock cannot be opened through a symlink")
        XCTAssertFalse(FileManager.default.fileExists(atPath: target), "root created nothing at the symlink's target")
        XCTAssertEqual(spool.pending().count, 1, "and lost nothing")
    }

    func testAPlantedEventSymlinkIsSetAsideUnread() throws {
        let dir = try TemporaryDirectory.make(prefix: "spool")
        chmod(dir, 0o700)
        let secret = try victim(#"{"type":"skip","job":"stolen","run_id":"r","host":"h","reason":"lock_held"}"#)
        try FileManager.default.createSymbolicLink(atPath: dir + "/0000000000001-0000000001-000001.event", withDestinationPath: secret)
        var warnings: [String] = []
        let spool = Spool(directory: dir) { warnings.append($0) }
        try spool.write(event(2))
        var delivered: [String] = []
        let result = spool.deliverAll(wait: true) { delivered.append($0.job); return .delivered }
        XCTAssertEqual(delivered, ["job2"], "the symlinked file's contents never reached the monitor")
        XCTAssertEqual(result.remaining, 0)
        XCTAssertTrue(warnings.contains { $0.contains("symlink") }, "\(warnings)")
        let aside = dir + "/bad/0000000000001-0000000001-000001.event"
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: aside), secret, "the link itself was moved")
        XCTAssertEqual(try String(contentsOfFile: secret, encoding: .utf8).hasPrefix("{\"type\""), true, "the target is untouched")
    }

    func testASpoolDirectoryThatIsASymlinkIsRefused() throws {
        let real = try TemporaryDirectory.make(prefix: "elsewhere")
        let link = try TemporaryDirectory.make(prefix: "spool-parent") + "/spool"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        let spool = Spool(directory: link) { _ in }
        XCTAssertThrowsError(try spool.write(event(3))) { error in
            XCTAssertTrue("\(error)".contains("symlink"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: real), [], "nothing written through the link")
    }

    func testADirectoryOthersMayWriteOrOwnIsRefused() throws {
        let open = try TemporaryDirectory.make(prefix: "spool")
        chmod(open, 0o1777)
        XCTAssertThrowsError(try Spool(directory: open) { _ in }.write(event(4))) { error in
            XCTAssertTrue("\(error)".contains("writable by other users"), "\(error)")
        }
        guard geteuid() == 0 else { throw XCTSkip("chown to another user needs root") }
        let foreign = try TemporaryDirectory.make(prefix: "spool")
        chmod(foreign, 0o700)
        XCTAssertEqual(chown(foreign, 65534, 65534), 0)
        XCTAssertThrowsError(try Spool(directory: foreign) { _ in }.write(event(5))) { error in
            XCTAssertTrue("\(error)".contains("belongs to uid 65534"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: foreign), [])
    }

    func testAReadableDirectoryOfOursIsNarrowed() throws {
        let dir = try TemporaryDirectory.make(prefix: "spool")
        chmod(dir, 0o755)
        try Spool(directory: dir) { _ in }.write(event(6))
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: dir)[.posixPermissions] as? Int, 0o700)
    }
}
