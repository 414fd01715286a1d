import Foundation
@testable import TailorEngine
@testable import TailorExecutor
import XCTest

/// The kinds that run are the kinds docs/executor.md says run.
final class RegistryTests: XCTestCase {
    func testTheDocumentedKindsAreTheRegisteredOnes() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/executor.md"), encoding: .utf8)
        let section = try XCTUnwrap(doc.components(separatedBy: "## What runs today").dropFirst().first?.components(separatedBy: "\n## ").first)
        var documented = Set<String>()
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let first = line.dropFirst(2).prefix { $0 != "|" }
            for part in first.split(separator: "`", omittingEmptySubsequences: false).enumerated() where part.offset % 2 == 1 { documented.insert(String(part.element)) }
        }
        XCTAssertEqual(documented, Set(NodeRunners.registry.runners.keys.map(\.rawValue)))
    }
}
