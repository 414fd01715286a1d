import TailorTraining
import XCTest

/// Win rates count ties as half a win (AlpacaEval's convention), and a judge's agreement with
/// a rule counts only the comparisons the rule decides.
final class WinRateTests: XCTestCase {
    func testTiesCountHalfAndOutcomesFollowTheScores() {
        let outcomes = [WinRate.Outcome(2.0, against: 1.0), .init(1.0, against: 1.0), .init(0, against: 3), .init(5, against: 4)]
        XCTAssertEqual(outcomes, [.win, .tie, .loss, .win])
        let rate = WinRate(outcomes)
        XCTAssertEqual([rate.wins, rate.ties, rate.losses, rate.comparisons], [2, 1, 1, 4])
        XCTAssertEqual(rate.rate, 2.5 / 4)
        XCTAssertEqual(WinRate([WinRate.Outcome]()).rate, 0)
        XCTAssertEqual(WinRate(Array(repeating: .tie, count: 7)).rate, 0.5, "a model against itself")
    }

    func testAgreementCountsOnlyWhatTheRuleDecides() throws {
        let rule: [WinRate.Outcome] = [.win, .loss, .tie, .win, .tie]
        let judge: [WinRate.Outcome] = [.win, .win, .loss, .tie, .win]
        let (agreement, decided) = try XCTUnwrap(WinRate.agreement(judge: judge, rule: rule))
        XCTAssertEqual(decided, 3)
        XCTAssertEqual(agreement, 1.0 / 3, "a judge's tie where the rule decides is a disagreement")
        XCTAssertNil(WinRate.agreement(judge: [.win], rule: [.tie]))
    }
}
