@testable import TailorExecutor
@testable import TailorEngine
import TailorPlan
import TailorSpec
import XCTest

/// The executor's guard for "no accepted key is ever ignored": every parameter of a node
/// must be read by its runner, or the node fails naming what was left.
final class ParamsTests: XCTestCase {
    func value(_ kind: Value.Kind) -> Value { Value(kind, at: nil) }

    func testUnreadLeavesAreNamedByPath() {
        let params = value(.object([
            ("train", value(.object([("lr", value(.number(0.1))), ("steps", value(.int(3))),
                                     ("eval", value(.object([("every", value(.int(2)))])))]))),
            ("targets", value(.list([value(.string("attn.q")), value(.string("attn.v"))]))),
            ("freeze", value(.list([]))),
            ("seed", value(.int(1))),
        ]))
        let reads = ParameterReads()
        let p = Params(params, reads: reads)
        XCTAssertEqual(reads.unread(params), ["train.lr", "train.steps", "train.eval.every", "targets.0", "targets.1", "freeze", "seed"])
        _ = p["train"]?["lr"]?.number
        _ = p["targets"]?.list?.first?.string
        _ = p["freeze"]?.list
        XCTAssertEqual(reads.unread(params), ["train.steps", "train.eval.every", "targets.1", "seed"],
                       "a list read as a whole is read; its items count one by one")
        _ = p["train"]?.display
        _ = p["targets"]?.list?.map(\.string)
        _ = p["seed"]?.int
        XCTAssertEqual(reads.unread(params), [])
        XCTAssertEqual(ParameterReads().unread(value(.object([]))), [], "a kind without parameters has nothing to read")
    }
}
