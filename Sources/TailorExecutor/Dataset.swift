import Foundation
import TailorEngine

/// A dataset artifact file: JSON Lines, one record (a JSON object of strings, numbers,
/// lists) per line, written with sorted keys so equal data gives equal bytes.
public struct Dataset: @unchecked Sendable {
    /// Records as JSON objects.
    public var records: [[String: Any]]

    public init(records: [[String: Any]]) { self.records = records }

    public var count: Int { records.count }

    public static func read(_ path: String) throws -> Dataset {
        guard let data = FileManager.default.contents(atPath: path) else { throw ExecutionError.datasetUnreadable(path) }
        var records: [[String: Any]] = []
        var problem: Int?
        lines(data) { number, line in
            if let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] { records.append(object) } else if problem == nil { problem = number }
        }
        if let problem { throw ExecutionError.notJSONObject("\(path):\(problem)") }
        return Dataset(records: records)
    }

    /// Calls `body(lineNumber, bytes)` for every line that is not blank, without decoding the
    /// file as one string first.
    static func lines(_ data: Data, _ body: (Int, Data) -> Void) {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0, number = 1
            for i in 0...bytes.count {
                guard i == bytes.count || bytes[i] == 10 else { continue }
                if bytes[start..<i].contains(where: { $0 != 32 && $0 != 9 && $0 != 13 }) {
                    body(number, Data(bytes: raw.baseAddress! + start, count: i - start))
                }
                start = i + 1
                number += 1
            }
        }
    }

    public func write(_ path: String) throws {
        var out = ""
        for record in records {
            JSONText.compact(record, into: &out)
            out += "\n"
        }
        try Data(out.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// A string field of record `i`, or an error naming the record and field.
    public func string(_ i: Int, _ field: String, source: String) throws -> String {
        guard let value = records[i][field] as? String else {
            throw ExecutionError.noTextField(source, record: i + 1, field)
        }
        return value
    }
}
