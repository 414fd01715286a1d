import TailorModels
import TailorSpec
import XCTest

/// The spec checker validates LoRA targets and frozen modules against its catalogue; the
/// models must answer to exactly those names.
final class ModuleNameTests: XCTestCase {
    func testCheckerAndModelsAgreeOnModuleNames() {
        let models = ["gpt2": GPT2.adaptableModules, "llama": Llama.adaptableModules, "bert": Bert.adaptableModules]
        XCTAssertEqual(Set(Architecture.all.map(\.name)), Set(models.keys))
        for architecture in Architecture.all { XCTAssertEqual(architecture.modules, models[architecture.name], architecture.name) }
    }
}
