import TailorEngine
import TailorModels
import TailorPlan

/// The runners' part of the execution error catalogue (the engine's is in TailorEngine).
extension ExecutionError {
    static func notThisRunner(_ kind: NodeKind) -> Self { .init("\(kind.rawValue) is not run by this runner (a registry bug)") }

    // MARK: data

    static func notUTF8(_ display: String) -> Self { .init("\(display): not UTF-8 text") }
    static func dataExtension(_ display: String, _ ext: String) -> Self {
        .init("\(display): Tailor reads .jsonl, .csv and .txt data files, not '.\(ext)'")
    }
    /// All of a file's problems at once, one line per kind of problem.
    static func badData(_ display: String, _ lines: [String]) -> Self {
        .init("bad data in \(display):\n" + lines.map { "  " + $0 }.joined(separator: "\n"))
    }
    static func notJSONArray(_ display: String) -> Self {
        .init("\(display): not valid JSON (a `.json` file starting with `[` is read as one array of records; JSON Lines go in `.jsonl`)")
    }
    static func noRecords(_ display: String) -> Self { .init("\(display): no records (the dataset is empty)") }
    static func noHeader(_ display: String) -> Self { .init("\(display): no header row") }
    static func datasetUnreadable(_ path: String) -> Self { .init("cannot read the dataset '\(path)'") }
    static func notJSONObject(_ place: String) -> Self { .init("\(place): not a JSON object") }
    static func noTextField(_ source: String, record: Int, _ field: String) -> Self { .init("\(source): record \(record) has no text field '\(field)'") }
    static func noTextFields(_ source: String, record: Int) -> Self { .init("\(source): record \(record) has no text fields") }
    static func notAPair(_ source: String, record: Int) -> Self {
        .init("\(source): record \(record) is not a preference pair (a prompt with a chosen and a rejected answer), though other records are")
    }
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
    static func emptySplit(_ port: String, records: Int, problems: Int) -> Self {
        .init("split '\(port)' would be empty: \(records) records hold \(problems) distinct problems, and a problem's records stay in one part")
    }
    static func folderFormat(_ format: String) -> Self {
        .init("a folder is read as documents, one per file (`{id, text}`); format '\(format)' does not apply to it")
    }
    static func generatorNotYet(_ name: String) -> Self { .init("the '\(name)' generator is not yet executable") }
    static func badRecordID(_ source: String, record: Int, _ id: String) -> Self {
        .init("\(source): record \(record) has the id '\(id)'; a run file separates its fields by spaces, so an id must be non-empty and hold none")
    }
    static func duplicateQuestion(_ source: String, _ id: String) -> Self {
        .init("\(source): two questions have the id '\(id)'; a run file names each question once, so each must be unique")
    }
    static func badRelevant(_ source: String, record: Int) -> Self {
        .init("\(source): record \(record)'s 'relevant' is neither a list of document ids, e.g. [\"doc-00012\"], nor graded ids, e.g. {\"doc-00012\": 2}")
    }
    static func badQrels(_ source: String, lines: [Int]) -> Self {
        let shown = lines.prefix(3).map(String.init).joined(separator: ", ") + (lines.count > 3 ? " and \(lines.count - 3) more" : "")
        return .init("\(source): \(lines.count) lines are not a judgement, 'qid 0 docid grade' (TREC) or 'query-id corpus-id score' (BEIR) with a whole-number grade (lines \(shown))")
    }
    static func questionWithoutID(_ source: String, record: Int) -> Self {
        .init("\(source): record \(record) has no 'id', so no judgement can name it; give each question an id (`fields: { id: _id }` for BEIR's)")
    }
    static func noJudgedQuestion(_ questions: String, _ qrels: String) -> Self {
        .init("\(qrels) judges none of the questions of \(questions): their ids differ (a BEIR query's id is its '_id': `fields: { id: _id }`)")
    }
    static func noAnswer(_ source: String, record: Int) -> Self {
        .init("\(source): record \(record) has no 'answer' to score a generated answer against; score retrieval alone, or give every question its answer")
    }
    static func noPassages(_ source: String) -> Self { .init("\(source): no document has any text to cut into passages") }
    static func duplicateDocument(_ source: String, _ id: String) -> Self {
        .init("\(source): two documents have the id '\(id)'; retrieval names documents by id, so each must be unique")
    }
    static func unreadableIndex(_ key: String) -> Self { .init("the index artifact \(key.prefix(12)) is incomplete: its vectors, passages and index.json disagree") }
    static func notAnEncoder(_ key: String) -> Self { .init("the model artifact \(key.prefix(12)) is not an encoder (a BERT folder)") }
    static func noFacts(_ source: String) -> Self {
        .init("\(source) holds no facts to ask about: the 'questions' generator asks about documents made by the 'documents' generator")
    }

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
    static func noPairs(_ what: String) -> Self {
        .init("\(what) has no preference pairs (records with a prompt, a chosen and a rejected answer, e.g. `format: preference`)")
    }
    static func noReference(_ part: String) -> Self {
        .init("the reference log-probabilities have no '\(part)' scores (the dpo.reference artifact does not match this model's data)")
    }
    static func notARewardModel(_ node: String) -> Self { .init("'\(node)' is not a reward model (one is trained by `reward:`)") }
    static func pairTooLong(_ source: String, record: Int, tokens: Int, context: Int) -> Self {
        .init("\(source): record \(record) is \(tokens) tokens, longer than the reward model's context of \(context)")
    }
    static let loadedSpecials = ExecutionError("a loaded tokenizer keeps the special tokens its file defines")
    static func wordPieceForDecoder(_ key: String) -> Self {
        .init("the tokenizer \(key) is WordPiece: decoders need a byte-level BPE tokenizer (WordPiece serves encoders)")
    }

    // MARK: evals, prompts and tokens

    static func chatTemplate(_ key: String, _ error: Error) -> Self { .init("the chat template of \(key.prefix(12)) cannot be used: \(error)") }
    static func chatRecord(_ source: String, record: Int, _ error: JinjaError) -> Self { .init("\(source): record \(record): \(error)") }
    static let noEndOfText = ExecutionError("the model's tokenizer has no end-of-text token")
    static func tokenizerLacks(_ token: String) -> Self { .init("the tokenizer has no \(token) token") }
    static let promptFillsContext = ExecutionError("a prompt fills the model's whole context")
    static let noStageAdapter = Self("the stage before has no adapter to go on training; its artifact is not a stage of this continual model")
    static let noFisher = ExecutionError("an EWC stage has no Fisher information among its inputs (a planner bug)")
    static func fisherMismatch(_ name: String) -> Self { .init("the Fisher information has no tensor of the shape of '\(name)' (a planner bug)") }
    static func matrixShape(_ cells: Int, rows: Int, columns: Int) -> Self {
        .init("the forgetting matrix has \(cells) cells, not \(rows) × \(columns) (a planner bug)")
    }
    static func badPattern(_ pattern: String) -> Self { .init("'\(pattern)' is not a valid regular expression") }
    static func notSampled(_ source: String, record: Int) -> Self {
        .init("\(source): record \(record) is not a sampled answer (it lacks `prompt`, `response`, `reference` or `sample`)")
    }
    static func noLabelledPairs(prompts: Int, allPassed: Int, allFailed: Int) -> Self {
        .init("no prompt gave a preference pair: of \(prompts) prompts, every answer passed the rule for \(allPassed) and failed it for \(allFailed); "
            + "sample more answers per prompt (`n`), at a higher `temperature`, or choose a rule the answers sometimes pass")
    }
    static let noMetrics = ExecutionError("an input has no metrics.json")
    static func unreadablePrompt(_ key: String) -> Self { .init("the prompt artifact \(key) has no readable prompt.json") }
    static func noTokenizerInput(_ node: String) -> Self { .init("'\(node)' has no tokenizer among its inputs") }
}
