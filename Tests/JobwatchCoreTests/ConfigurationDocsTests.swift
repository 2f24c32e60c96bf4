import Foundation
import JobwatchCore
import XCTest

/// docs/CONFIGURATION.md lists exactly the keys the loaders accept, section by section.
final class ConfigurationDocsTests: XCTestCase {
    private let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/CONFIGURATION.md")

    /// The first column's `key` of every table row, per section (the text before each table).
    private func keys() throws -> [String: [String]] {
        var sections: [String: [String]] = [:]
        var current = ""
        for line in try String(contentsOf: doc, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#") || line.hasPrefix("`monitor.") {
                current = String(line)
                continue
            }
            guard line.hasPrefix("| `"), let end = line.dropFirst(3).firstIndex(of: "`") else { continue }
            sections[current, default: []].append(String(line[line.index(line.startIndex, offsetBy: 3)..<end]))
        }
        return sections
    }

    func testEveryAcceptedKeyIsDocumentedAndEveryDocumentedKeyIsAccepted() throws {
        let sections = try keys()
        func documented(_ heading: String) -> [String] {
            sections.first { $0.key.hasPrefix(heading) }?.value ?? []
        }
        XCTAssertEqual(documented("## Global").sorted(), GlobalConfig.keys.sorted())
        XCTAssertEqual(documented("### `monitor:`").sorted(), MonitorConfig.keys.sorted())
        XCTAssertEqual(documented("`monitor.tokens[]`").sorted(), MonitorConfig.tokenKeys.sorted())
        XCTAssertEqual(documented("`monitor.channels.<name>`").sorted(), MonitorConfig.channelKeys.sorted())
        XCTAssertEqual(documented("`monitor.report`").sorted(), MonitorConfig.reportKeys.sorted())
        XCTAssertEqual(documented("`monitor.host_silence`").sorted(), MonitorConfig.hostSilenceKeys.sorted())
        XCTAssertEqual(documented("## Jobs").sorted(), JobDefinition.keys.sorted())
    }
}
