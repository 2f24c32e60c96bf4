import CYAML

/// A YAML node as written, with the position it was written at. Scalars stay strings (YAML 1.1's
/// implicit typing is exactly what config validation must not guess at: `no` is a country code
/// in one key and a boolean in another); `YAMLFile`'s accessors convert them per key.
struct YAMLNode: Sendable {
    let content: YAMLContent
    /// 1-based, columns counted in Unicode scalars (libyaml's count, which editors share).
    let line: Int
    let column: Int

    /// The text of a scalar node; nil for lists and mappings.
    var string: String? {
        if case .scalar(let s, _) = content { return s }
        return nil
    }

    /// A plain `~`, `null` or empty scalar: the key is present but says "use the default".
    var isNull: Bool {
        if case .scalar(let s, plain: true) = content { return ["~", "null", "Null", "NULL", ""].contains(s) }
        return false
    }
}

enum YAMLContent: Sendable {
    case scalar(String, plain: Bool)
    case sequence([YAMLNode])
    case mapping([(key: YAMLNode, value: YAMLNode)])
}

/// Where and why a text is not YAML.
struct YAMLSyntaxError: Error {
    let line: Int
    let column: Int
    let message: String
}

/// Builds the node tree of a single-document YAML text from libyaml's event parser — the same
/// C parser Yams wraps, used directly so that `jobrun` does not load Foundation on every cron
/// tick (see docs/BENCHMARKS.md). Anchors and aliases are resolved; duplicate keys, unknown
/// aliases and a second document are errors.
enum YAMLComposer {
    /// The root node, or nil for a stream with no document (empty, or only comments).
    static func compose(_ text: [UInt8]) throws -> YAMLNode? {
        var bytes = text
        if bytes.isEmpty { return nil }
        return try bytes.withUnsafeMutableBufferPointer { buffer in
            let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
            defer { parser.deallocate() }
            guard yaml_parser_initialize(parser) == 1 else {
                throw YAMLSyntaxError(line: 1, column: 1, message: "YAML error: out of memory")
            }
            defer { yaml_parser_delete(parser) }
            yaml_parser_set_input_string(parser, buffer.baseAddress, buffer.count)
            var composer = Composer(events: EventReader(parser: parser, input: UnsafeBufferPointer(buffer)))
            return try composer.document()
        }
    }

    private struct Event {
        enum Kind {
            case streamStart, streamEnd, documentStart, documentEnd
            case alias(String)
            case scalar(String, plain: Bool, anchor: String?)
            case sequenceStart(anchor: String?), sequenceEnd
            case mappingStart(anchor: String?), mappingEnd
        }
        let kind: Kind
        let line: Int
        let column: Int
    }

    private struct EventReader {
        let parser: UnsafeMutablePointer<yaml_parser_t>
        let input: UnsafeBufferPointer<UInt8>

        func next() throws -> Event {
            var event = yaml_event_t()
            guard yaml_parser_parse(parser, &event) == 1 else { throw syntaxError() }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1, column = Int(event.start_mark.column) + 1
            func text(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? { p.map { String(cString: $0) } }
            let kind: Event.Kind
            switch event.type {
            case YAML_STREAM_START_EVENT: kind = .streamStart
            case YAML_STREAM_END_EVENT: kind = .streamEnd
            case YAML_DOCUMENT_START_EVENT: kind = .documentStart
            case YAML_DOCUMENT_END_EVENT: kind = .documentEnd
            case YAML_ALIAS_EVENT: kind = .alias(text(event.data.alias.anchor) ?? "")
            case YAML_SCALAR_EVENT:
                let s = event.data.scalar
                let value = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
                kind = .scalar(value, plain: s.style == YAML_PLAIN_SCALAR_STYLE, anchor: text(s.anchor))
            case YAML_SEQUENCE_START_EVENT: kind = .sequenceStart(anchor: text(event.data.sequence_start.anchor))
            case YAML_SEQUENCE_END_EVENT: kind = .sequenceEnd
            case YAML_MAPPING_START_EVENT: kind = .mappingStart(anchor: text(event.data.mapping_start.anchor))
            case YAML_MAPPING_END_EVENT: kind = .mappingEnd
            default: throw YAMLSyntaxError(line: line, column: column, message: "YAML error: unexpected parser event")
            }
            return Event(kind: kind, line: line, column: column)
        }

        private func syntaxError() -> YAMLSyntaxError {
            let p = parser.pointee
            let problem = p.problem.map { String(cString: $0) } ?? "unknown problem"
            switch p.error {
            case YAML_READER_ERROR:
                // Reader errors (invalid UTF-8, control characters) carry a byte offset, not a mark.
                let offset = min(Int(p.problem_offset), input.count)
                var line = 1, column = 1
                for byte in input[..<offset] {
                    if byte == UInt8(ascii: "\n") { line += 1; column = 1 } else if byte & 0xC0 != 0x80 { column += 1 }
                }
                return YAMLSyntaxError(line: line, column: column, message: "YAML read error: \(problem)")
            case YAML_SCANNER_ERROR, YAML_PARSER_ERROR:
                let context = p.context.map { String(cString: $0) }
                let detail = [context, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
                return YAMLSyntaxError(line: Int(p.problem_mark.line) + 1, column: Int(p.problem_mark.column) + 1,
                                       message: "YAML syntax error: " + detail)
            default:
                return YAMLSyntaxError(line: 1, column: 1, message: "YAML error: \(problem)")
            }
        }
    }

    private struct Composer {
        let events: EventReader
        var anchors: [String: YAMLNode] = [:]
        private var depth = 0
        /// Far deeper than any config, far shallower than the stack: a body of a million `[`
        /// sent to `PUT /api/v1/jobs` must be refused, not crash the monitor.
        static let maxDepth = 64

        init(events: EventReader) { self.events = events }

        mutating func document() throws -> YAMLNode? {
            _ = try events.next()   // stream start
            let start = try events.next()
            if case .streamEnd = start.kind { return nil }
            let root = try node(try events.next())
            _ = try events.next()   // document end
            let after = try events.next()
            if case .streamEnd = after.kind { return root }
            throw YAMLSyntaxError(line: after.line, column: after.column,
                                  message: "YAML syntax error: expected a single document, found another one")
        }

        private mutating func node(_ event: Event) throws -> YAMLNode {
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maxDepth else {
                throw YAMLSyntaxError(line: event.line, column: event.column,
                                      message: "YAML syntax error: nested more than \(Self.maxDepth) levels deep")
            }
            switch event.kind {
            case .alias(let name):
                guard let target = anchors[name] else {
                    throw YAMLSyntaxError(line: event.line, column: event.column, message: "YAML syntax error: unknown alias *\(name)")
                }
                return YAMLNode(content: target.content, line: event.line, column: event.column)
            case .scalar(let value, let plain, let anchor):
                return remember(YAMLNode(content: .scalar(value, plain: plain), line: event.line, column: event.column), as: anchor)
            case .sequenceStart(let anchor):
                var items: [YAMLNode] = []
                while true {
                    let next = try events.next()
                    if case .sequenceEnd = next.kind { break }
                    items.append(try node(next))
                }
                return remember(YAMLNode(content: .sequence(items), line: event.line, column: event.column), as: anchor)
            case .mappingStart(let anchor):
                var entries: [(key: YAMLNode, value: YAMLNode)] = []
                var seen: [String: Int] = [:]
                while true {
                    let next = try events.next()
                    if case .mappingEnd = next.kind { break }
                    let key = try node(next)
                    if let name = key.string {
                        if let first = seen[name] {
                            throw YAMLSyntaxError(line: key.line, column: key.column,
                                                  message: "duplicate key \"\(name)\" (first written on line \(first))")
                        }
                        seen[name] = key.line
                    }
                    entries.append((key, try node(try events.next())))
                }
                return remember(YAMLNode(content: .mapping(entries), line: event.line, column: event.column), as: anchor)
            default:
                throw YAMLSyntaxError(line: event.line, column: event.column, message: "YAML syntax error: unexpected \(event.kind)")
            }
        }

        private mutating func remember(_ node: YAMLNode, as anchor: String?) -> YAMLNode {
            if let anchor { anchors[anchor] = node }
            return node
        }
    }
}
