import Foundation
import JobwatchTestSupport
import XCTest

/// `user:` in a job file: root's jobrun runs the command as that user, with that user's own
/// groups only. Needs root (CI runs as root); skipped otherwise.
final class RunAsUserTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(geteuid() == 0, "switching users needs root")
    }

    func testTheCommandRunsAsTheUserWithItsOwnGroupsAndEnvironment() throws {
        let h = try JobrunHarness()
        try h.writeJob("as-nobody", "user: nobody\n")
        let r = try h.jobrun(["as-nobody", "--", "/bin/sh", "-c", "id -u; id -g; id -G; echo \"$USER $LOGNAME $HOME\""])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let nobody = try XCTUnwrap(getpwnam("nobody")?.pointee)
        XCTAssertEqual(r.stdoutText, "\(nobody.pw_uid)\n\(nobody.pw_gid)\n\(nobody.pw_gid)\nnobody nobody \(String(cString: nobody.pw_dir))\n",
                       "root's groups (0 among them) are gone")
        // The lease and the spool are still root's business: the run held and released the lock.
        XCTAssertEqual(try h.redis.cli("EXISTS", "test:lock:as-nobody"), "0")

        // What only root may read stays out of the job's reach.
        let secret = h.path("root-only")
        try "s3cret\n".write(toFile: secret, atomically: true, encoding: .utf8)
        chmod(secret, 0o600)
        let denied = try h.jobrun(["as-nobody", "--", "/bin/cat", secret])
        XCTAssertEqual(denied.status, 1)
        XCTAssertTrue(denied.stderrText.contains("Permission denied"), denied.stderrText)
    }

    func testAnUnknownUserIsAConfigErrorBeforeAnythingRuns() throws {
        let h = try JobrunHarness()
        try h.writeJob("ghost-user", "user: no-such-user-here\n")
        let marker = h.path("ran")
        let r = try h.jobrun(["ghost-user", "--", "/usr/bin/touch", marker])
        XCTAssertEqual(r.status, 201)
        XCTAssertTrue(r.stderrText.contains("user: no user \"no-such-user-here\" on this host"), r.stderrText)
        XCTAssertFalse(h.exists("ran"))
        try h.writeJob("bad-name", "user: \"root:root\"\n")
        let bad = try h.jobrun(["bad-name", "--", "/bin/true"])
        XCTAssertEqual(bad.status, 201)
        XCTAssertTrue(bad.stderrText.contains("bad-name.yaml:1:7: user: \"root:root\" is not a user name"), bad.stderrText)
    }
}
