import Foundation
import TailorDiagnostics
import TailorEngine

/// Relevance judgements for a file of questions: TREC qrels or BEIR's TSV.
extension DataFiles {
    /// Judgements by question id, each judged document's grade. A line is `qid 0 docid grade`
    /// (TREC) or `query-id corpus-id score` (BEIR, its header line skipped), split on tabs or
    /// spaces; every other line is counted and the first three named, all at once.
    static func qrels(_ path: String, shownAs display: String) throws -> [String: [String: Int]] {
        let data = try ExecutionError.reading(display) { try FileProbe.read(path) }
        guard let text = String(data: data, encoding: .utf8) else { throw ExecutionError.notUTF8(display) }
        var judged: [String: [String: Int]] = [:], bad: [Int] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " || $0 == "\r" }).map(String.init)
            if fields.isEmpty { continue }
            let (query, document, grade): (String, String, Int?) = switch fields.count {
            case 4: (fields[0], fields[2], Int(fields[3]))
            case 3: (fields[0], fields[1], Int(fields[2]))
            default: ("", "", nil)
            }
            guard let grade else {
                if !(i == 0 && fields.count == 3) { bad.append(i + 1) }  // BEIR's header: query-id corpus-id score
                continue
            }
            judged[query, default: [:]][document] = grade
        }
        guard bad.isEmpty else { throw ExecutionError.badQrels(display, lines: bad) }
        guard !judged.isEmpty else { throw ExecutionError.noRecords(display) }
        return judged
    }

    /// The questions that `qrels` judges, each with its judgements as `relevant`, in the file's
    /// order: the others are left out, as BEIR keeps only a split's questions.
    static func judged(_ data: Dataset, by qrels: [String: [String: Int]], questions: String, qrels display: String) throws -> Dataset {
        var kept: [[String: Any]] = []
        for (i, record) in data.records.enumerated() {
            guard let id = (record["id"] as? String) ?? (record["id"] as? Int).map(String.init) else {
                throw ExecutionError.questionWithoutID(questions, record: i + 1)
            }
            guard let grades = qrels[id] else { continue }
            var r = record
            r["relevant"] = grades
            kept.append(r)
        }
        guard !kept.isEmpty else { throw ExecutionError.noJudgedQuestion(questions, display) }
        return Dataset(records: kept)
    }
}
