import ArgumentParser
import Foundation
import TailorExecutor

struct Retrieve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A TREC run (qid Q0 docid rank score tag) for queries against the index a spec's RAG pipeline builds.",
        discussion: """
            The pipeline's index is built first (from the cache when it holds it), then every query of QUERIES,
            a JSON Lines file of {"id": ..., "text": ...}, is embedded by the pipeline's encoder and its first k
            documents printed, ranked as `eval.rag` and trec_eval rank them (a document by its best passage;
            equal scores by document id, descending).

            Example: tailor retrieve specs/rag.yaml --rag facts --queries queries.jsonl -k 10
            """)

    @Argument(help: "The spec.")
    var spec: String

    @Option(help: "The spec's RAG pipeline (a name under `rag:`).")
    var rag: String

    @Option(help: "A JSON Lines file of queries, one {\"id\": ..., \"text\": ...} a line.")
    var queries: String

    @Option(name: .short, help: "Documents printed per query.")
    var k: Int = 10

    @OptionGroup var options: SpecOptions

    @Option(help: "The artifact cache folder (default: as `tailor run`).")
    var cache: String?

    func validate() throws {
        if k < 1 { throw ValidationError("-k must be 1 or more") }
    }

    func run() throws {
        let asked = try Self.readQueries(queries)
        let indexID = "rag.\(rag).index"
        let (plan, _, outcomes) = try Run.build(spec, only: [indexID], options: options, cache: cache,
                                                jobs: ProcessInfo.processInfo.activeProcessorCount) { _ in }
        guard let index = outcomes.first(where: { $0.node.id == indexID }),
              let encoderID = plan.nodes.first(where: { $0.id == indexID })?.inputs.first(where: { $0.role == .encoder })?.node,
              let encoder = outcomes.first(where: { $0.node.id == encoderID })
        else { throw ValidationError("'\(rag)' is not a RAG pipeline of \(spec)") }
        let retriever = try Retriever(index: index.artifact, encoder: encoder.artifact)
        for found in retriever.search(asked, passages: 0, depth: k) {
            print(found.documents.trecLines(tag: "tailor", depth: k), terminator: "")
        }
    }

    /// The queries of a JSON Lines file, each `{"id", "text"}` (an id may be a number); the
    /// lines that are not one are counted and the first three named, all at once (exit 1).
    static func readQueries(_ path: String) throws -> [(id: String, text: String)] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read the queries file '\(path)'") }
        var out: [(String, String)] = [], bad: [Int] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                  let id = (o["id"] as? String) ?? (o["id"] as? Int).map(String.init), let q = o["text"] as? String
            else { bad.append(number + 1); continue }
            out.append((id, q))
        }
        guard bad.isEmpty else {
            let lines = bad.prefix(3).map(String.init).joined(separator: ", ") + (bad.count > 3 ? " and \(bad.count - 3) more" : "")
            throw fail("\(path): \(bad.count) lines are not a query {\"id\": ..., \"text\": ...} (lines \(lines))")
        }
        guard !out.isEmpty else { throw fail("\(path) holds no queries") }
        return out
    }
}
