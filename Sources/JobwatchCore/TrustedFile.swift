import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// Config files decide what runs, as root, on every host: one that any local user could have
/// written is refused, never read. World-writable means the file itself, or the directory it
/// is in without the sticky bit (anyone could replace the file).
enum TrustedFile {
    static func contents(_ path: String, what: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ConfigErrors([ConfigError(path: path, line: 1, column: 1, message: "cannot read \(what): \(SystemError(path))")])
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & 0o002 != 0 {
            throw ConfigErrors([ConfigError(path: path, line: 1, column: 1, message:
                "refusing a world-writable \(what) (mode \(String(info.st_mode & 0o7777, radix: 8))): any local user could change what runs; chmod o-w \(path)")])
        }
        let directory = Path.directory(of: path)
        var dirInfo = stat()
        if stat(directory, &dirInfo) == 0, dirInfo.st_mode & 0o002 != 0, dirInfo.st_mode & UInt32(S_ISVTX) == 0 {
            throw ConfigErrors([ConfigError(path: path, line: 1, column: 1, message:
                "refusing a \(what) in the world-writable directory \(directory): any local user could replace it; chmod o-w \(directory)")])
        }
        guard let bytes = FileSystem.contents(of: fd) else {
            throw ConfigErrors([ConfigError(path: path, line: 1, column: 1, message: "cannot read \(what): \(SystemError(path))")])
        }
        return bytes
    }
}
