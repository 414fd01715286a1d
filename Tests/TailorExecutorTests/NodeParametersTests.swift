import Foundation
@testable import TailorEngine
@testable import TailorExecutor
import TailorDiagnostics
import TailorPlan
import TailorSpec
import XCTest

/// Each node kind's parameters type is the one reader of what the planner writes for it: over
/// the plans of every example spec and the every-key fixture, each runnable node's parameters
/// decode through its kind's type with nothing missing and nothing left unread.
final class NodeParametersTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testEveryRunnableKindHasOneParametersType() {
        let runnable = Set(NodeRunners.registry.runners.keys)
        let typed = Set(NodeParameterTypes.byKind.keys)
        XCTAssertEqual(runnable.subtracting(typed).map(\.rawValue).sorted(), [], "runnable kinds without a parameters type")
        XCTAssertEqual(typed.subtracting(runnable).map(\.rawValue).sorted(), [], "parameters types of kinds nothing runs")
    }

    func testEveryPlannedNodeDecodesWholly() throws {
        let specs = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("specs").path)
            .filter { $0.hasSuffix(".yaml") }.sorted().map { "specs/" + $0 } + ["Tests/SchemaReach/every-key.yaml"]
        var decoded = Set<NodeKind>(), problems: [String] = []
        for spec in specs {
            var diagnostics = DiagnosticBag()
            guard let plan = Compiler().plan(file: Self.root.appendingPathComponent(spec).path, diagnostics: &diagnostics) else { continue }
            for node in plan.nodes {
                guard let type = NodeParameterTypes.byKind[node.kind] else { continue }
                let reads = ParameterReads()
                do {
                    _ = try type.init(Params(node.params, reads: reads))
                    decoded.insert(node.kind)
                } catch {
                    problems.append("\(spec) \(node.id): \(error)")
                }
                let unread = reads.unread(node.params)
                if !unread.isEmpty { problems.append("\(spec) \(node.id): \(node.kind.rawValue) leaves \(unread) unread") }
            }
        }
        XCTAssertEqual(problems, [])
        XCTAssertEqual(Set(NodeParameterTypes.byKind.keys).subtracting(decoded).map(\.rawValue).sorted(), [],
                       "kinds no example plans, so their types go untested here")
    }

    func testAMissingFieldIsAPlannerBugNamedByPath() {
        let params = Value(.object([("generator", Value(.string("arithmetic"), at: nil)), ("seed", Value(.int(1), at: nil))]), at: nil)
        XCTAssertThrowsError(try DataGenerateParameters(plan: params)) { error in
            XCTAssertEqual("\(error)", "the plan lacks `count` (a planner bug)")
        }
    }
}
