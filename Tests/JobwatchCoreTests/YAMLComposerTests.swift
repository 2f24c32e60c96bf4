@testable import JobwatchCore
import XCTest

/// The libyaml-based composer behind every config file: positions, anchors, and the
/// documents it must refuse rather than half-read.
final class YAMLComposerTests: XCTestCase {
    private func compose(_ text: String) throws -> YAMLNode {
        try XCTUnwrap(try YAMLComposer.compose(Array(text.utf8)))
    }

    private func refusal(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> YAMLSyntaxError? {
        refusal(bytes: Array(text.utf8), file: file, line: line)
    }

    private func refusal(bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> YAMLSyntaxError? {
        do {
            _ = try YAMLComposer.compose(bytes)
            XCTFail("expected a syntax error", file: file, line: line)
            return nil
        } catch {
            return error as? YAMLSyntaxError
        }
    }

    func testScalarsKeepTheirTextStyleAndPosition() throws {
        let root = try compose("a: 1\nb: \"null\"\nc: ~\nd:\n  - x\n  - 'y'\n")
        guard case .mapping(let entries) = root.content else { return XCTFail("not a mapping: \(root)") }
        XCTAssertEqual(entries.map { $0.key.string }, ["a", "b", "c", "d"])
        XCTAssertEqual(entries[0].value.string, "1")
        XCTAssertFalse(entries[1].value.isNull, "a quoted \"null\" is text")
        XCTAssertTrue(entries[2].value.isNull)
        guard case .sequence(let items) = entries[3].value.content else { return XCTFail("not a list") }
        XCTAssertEqual(items.map { "\($0.string ?? "?")@\($0.line):\($0.column)" }, ["x@5:5", "y@6:5"])
    }

    func testAliasesResolveToTheAnchoredNode() throws {
        let root = try compose("base: &tags [a, b]\nother: *tags\n")
        guard case .mapping(let entries) = root.content, case .sequence(let items) = entries[1].value.content else {
            return XCTFail("unexpected shape: \(root)")
        }
        XCTAssertEqual(items.map(\.string), ["a", "b"])
        XCTAssertEqual(entries[1].value.line, 2, "an alias is located where it is used")
    }

    func testRefusalsAreLocated() {
        let duplicate = refusal("grace: 1m\nschedule: x\ngrace: 2m\n")
        XCTAssertEqual(duplicate.map { "\($0.line):\($0.column)" }, "3:1")
        XCTAssertEqual(duplicate?.message, "duplicate key \"grace\" (first written on line 1)")

        XCTAssertEqual(refusal("a: *nowhere\n")?.message, "YAML syntax error: unknown alias *nowhere")
        XCTAssertEqual(refusal("a: 1\n---\nb: 2\n").map { $0.line }, 2)
        XCTAssertTrue(refusal("a: [1, 2\n")?.message.hasPrefix("YAML syntax error:") == true)

        let invalidUTF8 = refusal(bytes: Array("a: 1\nb: caf".utf8) + [0xC3, 0x0A])   // é cut to its lead byte
        XCTAssertEqual(invalidUTF8?.line, 2, "located on the line of the bad byte, not at 1:1")
        XCTAssertTrue(invalidUTF8?.message.hasPrefix("YAML read error:") == true, "\(String(describing: invalidUTF8))")
    }

    func testDeepNestingIsRefusedNotAStackOverflow() {
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        XCTAssertTrue(refusal(deep)?.message.contains("nested more than") == true)
        XCTAssertNotNil(try YAMLComposer.compose(Array((String(repeating: "[", count: 60) + String(repeating: "]", count: 60)).utf8)))
    }

    func testEmptyDocumentsHaveNoRoot() throws {
        XCTAssertNil(try YAMLComposer.compose([]))
        XCTAssertNil(try YAMLComposer.compose(Array("# only a comment\n\n".utf8)))
    }
}
