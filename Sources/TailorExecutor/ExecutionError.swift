import Foundation
import TailorDiagnostics
import TailorPlan

/// A failure while executing a node, in plain words.
public struct ExecutionError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }

    /// Runs a file read, a path that cannot be read becoming an error that shows it as `display`.
    static func reading<T>(_ display: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as FileProbe.Failure {
            throw ExecutionError.unreadable(display, failure.problem)
        }
    }
}

/// Every error execution can report, in one place, as the checker's are in Messages.swift:
/// what went wrong in plain words and, where there is one, what to do. A runner's errors do
/// not name its node: the executor puts the node's spec location and id before whatever a
/// runner throws.
extension ExecutionError {
    // MARK: the engine and the cache

    static func noNode(_ id: String) -> Self { .init("there is no node '\(id)' in the plan (see `tailor plan`)") }
    static func runsBeforeInput(_ node: String, _ input: String) -> Self { .init("'\(node)' runs before its input '\(input)'") }
    static func notExecutable(_ kind: NodeKind) -> Self { .init("'\(kind.rawValue)' nodes are not yet executable") }
    static func inNode(_ node: PlanNode, _ error: Error) -> Self { .init("\(node.location.map { "\($0): " } ?? "")\(node.id): \(error)") }
    static func unreadParameters(_ unread: [String], _ kind: NodeKind) -> Self {
        .init("Tailor accepted \(unread.map { "'\($0)'" }.joined(separator: ", ")) but its '\(kind.rawValue)' runner does not apply "
              + "\(unread.count == 1 ? "it" : "them"): this is a bug in Tailor, please report it")
    }
    static func changedWhileRead(_ file: String, planned: String, now: String) -> Self {
        .init("'\(file)' changed while the run was reading it (\(planned.prefix(19))… when planned, \(now.prefix(19))… now); "
              + "nothing was stored: run again once it stops changing")
    }
    static func notThisRunner(_ kind: NodeKind) -> Self { .init("\(kind.rawValue) is not run by this runner (a registry bug)") }
    static func noInput(_ role: InputRole) -> Self { .init("the node has no '\(role.rawValue)' input in its plan (a planner bug)") }
    static func unreadable(_ display: String, _ problem: String) -> Self { .init("'\(display)' \(problem)") }
    static func cacheFolder(_ path: String, _ why: String) -> Self { .init("cannot create the cache folder '\(path)' (\(why))") }
    static func setAside(_ folder: String, _ why: String) -> Self { .init("cannot move the damaged artifact '\(folder)' aside (\(why))") }
    static func lockFile(_ path: String, _ action: String) -> Self { .init("cannot \(action) the lock '\(path)'") }
    static func storeMove(_ path: String) -> Self { .init("cannot move the artifact into '\(path)'") }
    static func cannotOpen(_ path: String) -> Self { .init("cannot open '\(path)'") }
    static func runRecord(_ folder: String, _ why: String) -> Self { .init("cannot create the run record '\(folder)': \(why)") }

    // MARK: jobs

    static func jobNotJSON(_ why: Error) -> Self { .init("the job description is not JSON: \(why)") }
    static func jobField(_ name: String) -> Self { .init("the job description has no valid '\(name)'") }
    static func jobVersion(_ version: Int, _ current: Int) -> Self {
        .init("the job description is version \(version); this Tailor reads version \(current)")
    }
    static func jobKind(_ name: String) -> Self { .init("the job's kind '\(name)' is not one this Tailor knows") }
    static func jobKindVersion(_ kind: NodeKind, written: Int) -> Self {
        .init("the job was written by a Tailor whose '\(kind.rawValue)' is version \(written); this one's is \(kind.version), "
              + "so it would build another artifact: write the job again with this Tailor")
    }
    static func jobRole(_ role: String) -> Self { .init("the job has an input of unknown role '\(role)'") }
    static func jobInputMissing(_ place: String, input: String, artifact: String, cache: String) -> Self {
        .init("\(place)its input '\(input)' (artifact \(artifact.prefix(12))) is not in the cache at \(cache), or is damaged: "
              + "copy it there, or run the spec's inputs with `tailor job` on this cache")
    }
    static func jobFileChanged(_ place: String, _ file: String) -> Self {
        .init("\(place)'\(file)' has changed since the job was written: write the job again")
    }
    static func jobKey(_ place: String, computed: String, written: String) -> Self {
        .init("\(place)this Tailor computes the job's key as \(computed.prefix(12)), not \(written.prefix(12)): write the job again with it")
    }

    // MARK: data

    static func notUTF8(_ display: String) -> Self { .init("\(display): not UTF-8 text") }
    static func dataExtension(_ display: String, _ ext: String) -> Self {
        .init("\(display): Tailor reads .jsonl, .csv and .txt data files, not '.\(ext)'")
    }
    /// All of a file's problems at once, the first 20 shown.
    static func badData(_ problems: [String]) -> Self {
        .init("bad data:\n" + problems.prefix(20).joined(separator: "\n") + (problems.count > 20 ? "\n… and \(problems.count - 20) more problems" : ""))
    }
    static func noRecords(_ display: String) -> Self { .init("\(display): no records (the dataset is empty)") }
    static func noHeader(_ display: String) -> Self { .init("\(display): no header row") }
    static func datasetUnreadable(_ path: String) -> Self { .init("cannot read the dataset '\(path)'") }
    static func notJSONObject(_ place: String) -> Self { .init("\(place): not a JSON object") }
    static func noTextField(_ source: String, record: Int, _ field: String) -> Self { .init("\(source): record \(record) has no text field '\(field)'") }
    static func noTextFields(_ source: String, record: Int) -> Self { .init("\(source): record \(record) has no text fields") }
    static func folderUnreadable(_ folder: String) -> Self { .init("cannot read the folder '\(folder)'") }
    static func nestedFolder(_ path: String) -> Self {
        .init("'\(path)' is a folder: a documents folder holds its documents directly, one file each")
    }
    static func noDocuments(_ folder: String) -> Self { .init("\(folder): no documents (the folder is empty)") }
    static func commandInputOutside(_ relative: String) -> Self { .init("command input '\(relative)' must be a path inside the spec's folder") }
    static let commandIncomplete = ExecutionError("the command has no 'run' or 'output'")
    static func commandStart(_ program: String, _ why: String) -> Self { .init("cannot start \(program) (\(why))") }
    static func commandFailed(_ args: [String], status: Int32, tail: String) -> Self {
        .init("the command `\(args.joined(separator: " "))` failed with exit code \(status)" + (tail.isEmpty ? "" : ":\n" + tail))
    }
    static func commandNoOutput(_ args: [String], _ output: String) -> Self {
        .init("the command `\(args.joined(separator: " "))` succeeded but wrote no '\(output)'")
    }
    static func filterKeepsNone(_ count: Int) -> Self { .init("the filter keeps none of \(count) records") }
    static func emptySplit(_ port: String, records: Int) -> Self { .init("split '\(port)' would be empty (\(records) records)") }
    static func folderFormat(_ format: String) -> Self {
        .init("a folder is read as documents, one per file (`{id, text}`); format '\(format)' does not apply to it")
    }
    static func generatorNotYet(_ name: String) -> Self { .init("the '\(name)' generator is not yet executable") }

    // MARK: models and training

    static func gpt2MLP(width: Int, _ mlp: Int) -> Self { .init("a gpt2 MLP is 4 × width (\(4 * width)), not \(mlp)") }
    static func keyValueHeads(_ arch: String, heads: Int, _ kv: Int) -> Self {
        .init("\(arch) attention has as many key/value heads as heads (\(heads)), not \(kv)")
    }
    static func initNotYet(_ arch: String) -> Self { .init("initialising a '\(arch)' model is not yet executable") }
    static func ggufIsFolder(_ file: String) -> Self { .init("'\(file)' is named like a GGUF file but is a folder") }
    static func hfIsFile(_ file: String) -> Self {
        .init("'\(file)' is a file: a Hugging Face model is a folder (with config.json), a GGUF model a `.gguf` file")
    }
    static func noTokenizerJSON(_ file: String) -> Self { .init("'\(file)' has no tokenizer.json: a run needs the model's tokenizer") }
    static func onlyVocabTxt(_ file: String) -> Self { .init("'\(file)' has no tokenizer.json (only vocab.txt): save it with a fast tokenizer") }
    static let cannotSave = ExecutionError("this architecture cannot be saved yet")
    static let cannotExport = ExecutionError("this architecture cannot be exported yet")
    static func exportNotYet(_ format: String) -> Self { .init("exporting as '\(format)' is not yet executable (hf and peft are)") }
    static let peftAsTrained = ExecutionError("a PEFT export writes the adapter alone, unmerged, in f32")
    static let noAdaptersToExport = ExecutionError("the model has no LoRA adapters to export as PEFT")
    static let noTrainingData = ExecutionError("the node has no training data")
    static let freezeLeavesNothing = ExecutionError("`freeze` leaves no weight to train")
    static let noLoRA = ExecutionError("this architecture takes no LoRA adapters")
    static func noLoRATargets(_ targets: [String]) -> Self { .init("no module matches the LoRA targets \(targets)") }
    static func moreLabels(_ count: Int, than k: Int) -> Self { .init("the data has \(count) labels, more than the head's \(k)") }
    static func noUnfreezeMatch(_ patterns: [String]) -> Self { .init("no backbone module matches `unfreeze` \(patterns)") }
    static func heldOutLabels(_ unknown: [String]) -> Self {
        .init("the held-out data of `train.eval` has labels the training data lacks: " + unknown.map { "'\($0)'" }.joined(separator: ", "))
    }
    static let decoderWithWordPiece = ExecutionError("a decoder with a WordPiece tokenizer cannot be saved")
    static func noLabels(_ what: String) -> Self { .init("\(what) has no labels (a classification dataset is needed)") }
    static func unreadableHead(_ key: String) -> Self { .init("the head of \(key) is unreadable") }
    static let loadedSpecials = ExecutionError("a loaded tokenizer keeps the special tokens its file defines")
    static func wordPieceForDecoder(_ key: String) -> Self {
        .init("the tokenizer \(key) is WordPiece: decoders need a byte-level BPE tokenizer (WordPiece serves encoders)")
    }

    // MARK: evals, prompts and tokens

    static let noEndOfText = ExecutionError("the model's tokenizer has no end-of-text token")
    static func tokenizerLacks(_ token: String) -> Self { .init("the tokenizer has no \(token) token") }
    static let promptFillsContext = ExecutionError("a prompt fills the model's whole context")
    static let noMetrics = ExecutionError("an input has no metrics.json")
    static func unreadablePrompt(_ key: String) -> Self { .init("the prompt artifact \(key) has no readable prompt.json") }
    static func noTokenizerInput(_ node: String) -> Self { .init("'\(node)' has no tokenizer among its inputs") }
}
