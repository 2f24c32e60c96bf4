#if canImport(Glibc)
import Glibc
#endif

public enum FileDescriptor {
    /// Writes the whole buffer, retrying short writes and EINTR. Returns false on an error
    /// such as EPIPE (the reader went away).
    @discardableResult
    public static func writeAll(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        writeAll(fd, UnsafeRawBufferPointer(buffer))
    }

    @discardableResult
    public static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
        guard var p = buffer.baseAddress else { return true }
        var left = buffer.count
        while left > 0 {
            let n = write(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            p += n
            left -= n
        }
        return true
    }
}
