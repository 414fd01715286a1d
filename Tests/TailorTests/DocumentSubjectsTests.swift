@testable import TailorData
import TailorSpec
import XCTest

/// The checker caps `documents` at the generator's invented people, so the two must agree, and
/// every person must be someone else.
final class DocumentSubjectsTests: XCTestCase {
    func testTheCheckersCapIsTheGeneratorsPeople() {
        XCTAssertEqual(Generators.fullNames.count, Generator.documentSubjects)
        XCTAssertEqual(Set(Generators.fullNames).count, Generator.documentSubjects, "no name twice")
    }
}
