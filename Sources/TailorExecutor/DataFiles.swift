import Foundation
import TailorEngine
import TailorDiagnostics

/// Reading the user's data files into records of a format, with every problem named by file,
/// line and field. All problems of a file are collected (the first 20 shown), so one pass
/// finds them all.
enum DataFiles {
    /// The fields each format's records must have, and whether a field may be a number.
    static let required: [String: [String]] = [
        "text": ["text"], "instruction": ["prompt", "response"], "chat": ["messages"],
        "preference": ["prompt", "chosen", "rejected"], "classification": ["text", "label"],
        "documents": ["id", "text"], "queries": ["question", "answer"],
    ]

    static func load(_ path: String, shownAs display: String, format: String, fields: [String: String]) throws -> Dataset {
        let ext = (path as NSString).pathExtension.lowercased()
        let data = try ExecutionError.reading(display) { try FileProbe.read(path) }
        guard let text = String(data: data, encoding: .utf8) else { throw ExecutionError.notUTF8(display) }
        var problems: [String] = []
        var rows: [(line: Int, record: [String: Any])] = []
        switch ext {
        case "jsonl", "json":
            Dataset.lines(data) { n, line in
                if let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] {
                    rows.append((n, object))
                } else {
                    problems.append("\(display):\(n): not a JSON object")
                }
            }
        case "csv":
            rows = try csv(text, display: display, problems: &problems)
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
        let needed = required[format] ?? []
        var records: [[String: Any]] = []
        for (line, raw) in rows {
            var record: [String: Any] = [:]
            var ok = true
            for field in needed {
                let source = fields[field] ?? field
                guard let value = raw[source], !(value is NSNull) else {
                    problems.append("\(display):\(line): missing field '\(source)'" + (source == field ? "" : " (mapped to '\(field)')")
                                    + " that \(format) records need")
                    ok = false
                    continue
                }
                if field == "messages" {
                    guard let turns = value as? [[String: Any]], turns.allSatisfy({ $0["role"] is String && $0["content"] is String }) else {
                        problems.append("\(display):\(line): field '\(source)' must be a list of {role, content}")
                        ok = false
                        continue
                    }
                } else if field == "label" {
                    guard value is String || value is NSNumber else {
                        problems.append("\(display):\(line): field '\(source)' must be text or a number")
                        ok = false
                        continue
                    }
                } else if !(value is String) {
                    problems.append("\(display):\(line): field '\(source)' must be text, not \(value is NSNumber ? "a number" : "a list or object")")
                    ok = false
                    continue
                }
                record[field] = value
            }
            if ok { records.append(record) }
        }
        if !problems.isEmpty {
            // In file order, whatever check found them.
            func line(_ p: String) -> Int { Int(p.dropFirst(display.count + 1).prefix { $0.isNumber }) ?? 0 }
            problems.sort { line($0) < line($1) }
            throw ExecutionError.badData(problems)
        }
        if records.isEmpty { throw ExecutionError.noRecords(display) }
        return Dataset(records: records)
    }

    /// RFC 4180 CSV with a header row: quoted fields may hold commas, quotes ("") and newlines.
    static func csv(_ text: String, display: String, problems: inout [String]) throws -> [(line: Int, record: [String: Any])] {
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
        if quoted { problems.append("\(display):\(rowLine): a quoted field is never closed") }
        if !cell.isEmpty || !cells.isEmpty {
            cells.append(cell)
            table.append((rowLine, cells))
        }
        table.removeAll { $0.cells == [""] }
        guard let header = table.first else { throw ExecutionError.noHeader(display) }
        return table.dropFirst().compactMap { row in
            guard row.cells.count == header.cells.count else {
                problems.append("\(display):\(row.line): \(row.cells.count) columns, but the header has \(header.cells.count)")
                return nil
            }
            return (row.line, Dictionary(zip(header.cells, row.cells.map { $0 as Any }), uniquingKeysWith: { a, _ in a }))
        }
    }
}
