import CProcess
#if canImport(Glibc)
import Glibc
#endif

/// The job's command, running in its own process group with its stdout and stderr on pipes
/// that `jobrun` reads (and passes through), and its stdin inherited.
final class ChildProcess {
    let pid: pid_t
    let stdoutPipe: Int32
    let stderrPipe: Int32

    struct SpawnError: Error, CustomStringConvertible {
        let description: String
    }

    /// `user`: run as that user (`jw_spawn_as`); nil: as jobrun's own.
    init(argv: [String], environment: [String: String], user: RunUser? = nil) throws {
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        guard jw_pipe(&out) == 0 else { throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))") }
        guard jw_pipe(&err) == 0 else {
            close(out[0]); close(out[1])
            throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc: Int32
        if let user {
            rc = user.groups.withUnsafeBufferPointer {
                jw_spawn_as(argv[0], cArgv, cEnv, out[1], err[1], user.uid, user.gid, $0.baseAddress, Int32($0.count), &pid)
            }
        } else {
            rc = jw_spawn(argv[0], cArgv, cEnv, out[1], err[1], &pid)
        }
        close(out[1])
        close(err[1])
        guard rc == 0 else {
            close(out[0]); close(err[0])
            throw SpawnError(description: "cannot run \(argv[0]): \(String(cString: strerror(rc)))")
        }
        self.pid = pid
        self.stdoutPipe = out[0]
        self.stderrPipe = err[0]
    }

    /// Signals the whole process group: a `sh -c` parent would postpone SIGTERM until its own
    /// child exits, so the signal must reach every process of the job at once.
    func signalGroup(_ signal: Int32) {
        if kill(-pid, signal) != 0 && errno == ESRCH {
            kill(pid, signal)
        }
    }

    enum Termination: Equatable {
        case exited(Int32)
        case signaled(Int32)

        var shellStatus: Int32 {
            switch self {
            case .exited(let code): return code
            case .signaled(let sig): return 128 + sig
            }
        }
    }

    /// Reaps the child if it has ended; never blocks.
    func poll() -> Termination? {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        guard r == pid else { return nil }
        if jw_exited(status) != 0 { return .exited(jw_exit_status(status)) }
        if jw_signaled(status) != 0 { return .signaled(jw_term_signal(status)) }
        return nil
    }
}
