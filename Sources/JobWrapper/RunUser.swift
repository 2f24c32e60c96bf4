#if canImport(Glibc)
import Glibc
#endif

/// The user a job runs as (`user:` in its jobs.d file), looked up on this host when the run
/// starts. The job gets that user's own supplementary groups: root's are dropped, as cron and
/// sudo do.
struct RunUser {
    let name: String
    let uid: uid_t
    let gid: gid_t
    let groups: [gid_t]
    let home: String

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// Nil when the job runs as whoever runs jobrun: no `user:`, or that user already.
    static func resolve(_ name: String?) throws -> RunUser? {
        guard let name else { return nil }
        var entry = passwd()
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        var found: UnsafeMutablePointer<passwd>?
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &found) == 0, found != nil else {
            throw Problem(description: "user: no user \"\(name)\" on this host")
        }
        if entry.pw_uid == geteuid() { return nil }
        guard geteuid() == 0 else {
            throw Problem(description: "user: running as \"\(name)\" needs jobrun to run as root (it runs as uid \(geteuid()))")
        }
        var count: Int32 = 32
        var groups = [gid_t](repeating: 0, count: Int(count))
        while getgrouplist(name, entry.pw_gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
        }
        return RunUser(name: name, uid: entry.pw_uid, gid: entry.pw_gid, groups: Array(groups.prefix(Int(count))),
                       home: String(cString: entry.pw_dir))
    }

    /// What a login as that user would set, over jobrun's own.
    func apply(to environment: inout [String: String]) {
        environment["USER"] = name
        environment["LOGNAME"] = name
        environment["HOME"] = home
    }
}
