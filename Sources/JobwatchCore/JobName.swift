/// Job names become Redis keys, file names and URL path segments, so they are kept to a
/// conservative alphabet: `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`.
public enum JobName {
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 128, isAlnum(first) else { return false }
        return bytes.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    public static func validationMessage(_ name: String) -> String {
        "invalid job name \"\(name)\": use 1-128 characters from A-Z a-z 0-9 . _ - starting with a letter or digit"
    }

    private static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    }
}
