import JobwatchCore
import SystemSupport

/// The wire forms of a `RunEvent`. JSON is written by hand: `JSONEncoder`'s reflection would
/// cost every `jobrun` start-up time for a handful of flat fields.
extension RunEvent {
    /// `XADD <prefix>events MAXLEN ~ 1000000 * type T job J run_id R host H ts TS <field value>...`
    /// Every value is a string: numbers in decimal, lists of numbers comma-separated, null as
    /// the empty string.
    public func xaddArguments(keyPrefix: String) -> [String] {
        var args = ["XADD", keyPrefix + "events", "MAXLEN", "~", "1000000", "*",
                    "type", kind.rawValue, "job", job, "run_id", runID, "host", host, "ts", ts]
        args.reserveCapacity(args.count + 2 * fields.count)
        for f in fields {
            args.append(f.name)
            switch f.value {
            case .text(let s): args.append(s)
            case .number(let n): args.append(String(n))
            case .numbers(let list): args.append(list.map(String.init).joined(separator: ","))
            case .null: args.append("")
            }
        }
        return args
    }

    /// The monitor API path (SPEC §3.2): `/api/v1/jobs/{job}/runs/{run_id}/start|finish`, or
    /// `/api/v1/jobs/{job}/skip`. Job names and run ids need no escaping: both are checked to
    /// be from URL-safe alphabets (see `init(json:)`).
    public var httpPath: String {
        switch kind {
        case .start, .finish: return "/api/v1/jobs/\(job)/runs/\(runID)/\(kind.rawValue)"
        case .skip: return "/api/v1/jobs/\(job)/skip"
        }
    }

    /// The HTTP body: `job`, `run_id`, `host`, `ts` and the body fields, numbers as JSON
    /// numbers. With `includeType` (the spool's form) it also says which kind it is.
    public func json(includeType: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        func field(_ name: String) { out.append(contentsOf: ",\"\(name)\":".utf8) }
        out.append(UInt8(ascii: "{"))
        if includeType { out.append(contentsOf: "\"type\":\"\(kind.rawValue)\",".utf8) }
        out.append(contentsOf: "\"job\":".utf8)
        JSONString.append(job, to: &out)
        for (name, value) in [("run_id", runID), ("host", host), ("ts", ts)] {
            field(name)
            JSONString.append(value, to: &out)
        }
        for f in fields {
            field(f.name)
            switch f.value {
            case .text(let s): JSONString.append(s, to: &out)
            case .number(let n): out.append(contentsOf: String(n).utf8)
            case .numbers(let list): out.append(contentsOf: "[\(list.map(String.init).joined(separator: ","))]".utf8)
            case .null: out.append(contentsOf: "null".utf8)
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Reads the spool's form back. Nil when the bytes are not a well-formed event, including
    /// a job name or run id that could not safely become part of a URL path.
    public init?(json bytes: [UInt8]) {
        guard let object = FlatJSON.object(bytes),
              case .string(let type)? = object["type"], let kind = Kind(rawValue: type),
              case .string(let job)? = object["job"], JobName.isValid(job),
              case .string(let runID)? = object["run_id"], Self.isValidRunID(runID),
              case .string(let host)? = object["host"], case .string(let ts)? = object["ts"]
        else { return nil }
        var values: [Value] = []
        for name in kind.fieldNames {
            switch object[name] {
            case .string(let s)?: values.append(.text(s))
            case .number(let n)?: values.append(.number(n))
            case .numbers(let list)?: values.append(.numbers(list))
            case nil, .null?: values.append(.null)
            case .bool?: return nil
            }
        }
        self.init(kind: kind, job: job, runID: runID, host: host, ts: ts, values: values)
    }

    static func isValidRunID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && id.utf8.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
        }
    }
}
