import Foundation
import TailorData
import TailorDiagnostics
import TailorEngine

/// Reading the user's data files into records of a format. All problems of a file are
/// collected and named once per kind, with a count and the first places, so one pass finds them
/// all; when the records look like another layout Tailor reads, the error says which `format:`.
enum DataFiles {
    static func load(_ path: String, shownAs display: String, format: String, fields: [String: String]) throws -> Dataset {
        let ext = (path as NSString).pathExtension.lowercased()
        let data = try ExecutionError.reading(display) { try FileProbe.read(path) }
        guard let text = String(data: data, encoding: .utf8) else { throw ExecutionError.notUTF8(display) }
        var reader = RecordReader(format: format, fields: fields)
        var rows: [(place: Int, record: [String: Any])] = []
        switch ext {
        case "json" where text.first(where: { !$0.isWhitespace }) == "[":
            // One JSON array of records, numbered by item.
            reader.problems.unit = "item"
            guard let items = (try? JSONSerialization.jsonObject(with: data)) as? [Any] else { throw ExecutionError.notJSONArray(display) }
            for (n, item) in items.enumerated() {
                if let object = item as? [String: Any] { rows.append((n + 1, object)) } else { reader.problems.add(DataProblems.notObject, at: n + 1) }
            }
        case "jsonl", "json":
            Dataset.lines(data) { n, line in
                if let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] {
                    rows.append((n, object))
                } else {
                    reader.problems.add(DataProblems.notObject, at: n)
                }
            }
        case "csv":
            rows = try csv(text, display: display, problems: &reader.problems)
        case "txt", "md":
            // Plain text: each paragraph (blank-line separated) is one text record.
            var line = 1
            for paragraph in text.components(separatedBy: "\n\n") {
                let trimmed = paragraph.trimmingCharacters(in: .whitespacesAndNewlines)
                if !trimmed.isEmpty { rows.append((line, ["text": trimmed])) }
                line += paragraph.filter { $0 == "\n" }.count + 2
            }
        default:
            throw ExecutionError.dataExtension(display, ext)
        }
        let records = rows.compactMap { reader.read($0.record, at: $0.place) }
        if !reader.problems.isEmpty {
            let keys = Set(rows.prefix(20).flatMap(\.record.keys))
            if fields.isEmpty, let (name, write) = DataProblems.lookalike(keys), write != "`format: \(format)`" {
                reader.problems.hint = "these records look like \(name): write \(write)"
            }
            throw ExecutionError.badData(display, reader.problems.lines)
        }
        if records.isEmpty { throw ExecutionError.noRecords(display) }
        return Dataset(records: records)
    }

    /// RFC 4180 CSV with a header row: quoted fields may hold commas, quotes ("") and newlines.
    static func csv(_ text: String, display: String, problems: inout DataProblems) throws -> [(place: Int, record: [String: Any])] {
        var table: [(line: Int, cells: [String])] = []
        var cells: [String] = [], cell = "", quoted = false, line = 1, rowLine = 1
        var chars = Array(text.replacingOccurrences(of: "\r\n", with: "\n")).makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = chars.next() {
                        if next == "\"" { cell.append("\"") } else {
                            quoted = false
                            pending = next
                        }
                    } else { quoted = false }
                } else {
                    if c == "\n" { line += 1 }
                    cell.append(c)
                }
            } else if c == "\"" && cell.isEmpty {
                quoted = true
            } else if c == "," {
                cells.append(cell)
                cell = ""
            } else if c == "\n" {
                cells.append(cell)
                table.append((rowLine, cells))
                cells = []
                cell = ""
                line += 1
                rowLine = line
            } else {
                cell.append(c)
            }
        }
        if quoted {
            problems.add(DataProblems.unclosedQuote, at: rowLine)  // the rest of the file is that one field: no row to check
        } else if !cell.isEmpty || !cells.isEmpty {
            cells.append(cell)
            table.append((rowLine, cells))
        }
        table.removeAll { $0.cells == [""] }
        guard let header = table.first else { throw ExecutionError.noHeader(display) }
        return table.dropFirst().compactMap { row in
            guard row.cells.count == header.cells.count else {
                problems.add(DataProblems.columns(row.cells.count, header: header.cells.count), at: row.line)
                return nil
            }
            return (row.line, Dictionary(zip(header.cells, row.cells.map { $0 as Any }), uniquingKeysWith: { a, _ in a }))
        }
    }
}
