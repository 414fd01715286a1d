import Foundation
import TailorSpec

/// A node's parameters as a parameters type reads them. Every value read is remembered, so
/// that after the runner the executor can name any parameter it never looked at: a setting
/// the checker accepted and the plan hashed but nothing applied. That is a bug in Tailor, and
/// the run stops on it rather than return a result that silently ignored what the user asked.
public struct Params {
    public let value: Value
    /// Dotted path from the node's parameters (`train.eval.every`; list items by index).
    public let path: String
    public let reads: ParameterReads

    public init(_ value: Value, path: String = "", reads: ParameterReads = ParameterReads()) {
        self.value = value
        self.path = path
        self.reads = reads
    }

    public subscript(key: String) -> Params? {
        value[key].map { Params($0, path: path.isEmpty ? key : path + "." + key, reads: reads) }
    }

    /// The field `key`, which the plan always holds (the schema's default filled in): there
    /// is no second default here to disagree with the schema's, and a missing field is
    /// reported as the planner bug it is.
    public func required<T>(_ key: String, _ read: (Params) -> T?) throws -> T {
        guard let value = self[key].flatMap(read) else {
            throw ParameterError(path: path.isEmpty ? key : path + "." + key)
        }
        return value
    }

    /// The mapping `key`, which the plan always holds.
    public func required(_ key: String) throws -> Params { try required(key) { $0 } }

    /// A field with no default: nil where the spec does not set it.
    public func optional<T>(_ key: String, _ read: (Params) -> T?) -> T? { self[key].flatMap(read) }

    /// A list of strings, each item read.
    public var strings: [String]? { list?.compactMap(\.string) }

    public var string: String? { read(value.string) }
    public var int: Int? { read(value.int) }
    public var bool: Bool? { read(value.bool) }
    public var number: Double? { read(value.number) }
    public var list: [Params]? {
        read(value.list).map { $0.enumerated().map { Params($1, path: path + ".\($0)", reads: reads) } }
    }
    public var entries: [(String, Params)]? {
        read(value.entries).map { $0.map { ($0, Params($1, path: path.isEmpty ? $0 : path + "." + $0, reads: reads)) } }
    }

    /// The value as text (a list or object in full), every part of it read.
    public var display: String {
        reads.note(value, at: path)
        return value.display
    }

    private func read<T>(_ v: T) -> T {
        reads.note(path)
        return v
    }
}

/// The parameter paths a runner read, shared by every `Params` of one node.
public final class ParameterReads: @unchecked Sendable {
    private let lock = NSLock()
    private var paths = Set<String>()

    public init() {}

    public func note(_ path: String) { lock.withLock { _ = paths.insert(path) } }

    /// Notes `value` at `path` and everything in it.
    public func note(_ value: Value, at path: String) {
        note(path)
        for (k, child) in value.entries ?? [] { note(child, at: path.isEmpty ? k : path + "." + k) }
        for (i, child) in (value.list ?? []).enumerated() { note(child, at: path + ".\(i)") }
    }

    /// The leaves of `params` (scalars, empty lists and objects) that were never read.
    public func unread(_ params: Value) -> [String] {
        let read = lock.withLock { paths }
        var missed: [String] = []
        func walk(_ v: Value, _ path: String) {
            switch v.kind {
            case .object(let entries) where !entries.isEmpty:
                for (k, child) in entries { walk(child, path.isEmpty ? k : path + "." + k) }
            case .list(let items) where !items.isEmpty:
                for (i, child) in items.enumerated() { walk(child, path + ".\(i)") }
            default:
                if !read.contains(path) { missed.append(path) }
            }
        }
        if params.entries?.isEmpty == true { return [] }  // a kind without parameters
        walk(params, "")
        return missed
    }
}

/// A field a parameters type needs is missing from the plan: the planner left out what the
/// schema's default should have filled in, which is a bug in Tailor, never the user's error.
public struct ParameterError: Error, CustomStringConvertible {
    public let path: String
    public init(path: String) { self.path = path }
    public var description: String { "the plan lacks `\(path)` (a planner bug)" }
}
