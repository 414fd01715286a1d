import Crypto
import Foundation
import TailorSpec

/// Content keys: SHA-256 over what determines a node's output, and nothing else.
/// Formatting, key order, comments and number spelling do not reach the key,
/// because parameters are hashed in canonical form after schema typing.
public enum ContentKey {
    public static func compute(kind: NodeKind, params: Value, inputs: [(key: String, port: String?)], fileDigests: [String])
        -> String
    {
        var text = "tailor-node/1\n\(kind.rawValue)@\(kind.version)\n"
        text += params.canonicalJSON
        for input in inputs { text += "\nin \(input.key)" + (input.port.map { ":\($0)" } ?? "") }
        for digest in fileDigests { text += "\nfile \(digest)" }
        return hex(SHA256.hash(data: Data(text.utf8)))
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let chars = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in digest {
            out.append(chars[Int(b >> 4)])
            out.append(chars[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Digests of the user's files, each read once per plan. A folder's digest covers
/// its files' names and contents in sorted order.
public final class FileDigests {
    private var memo: [String: String] = [:]

    public init() {}

    public func digest(_ path: String) -> String {
        if let d = memo[path] { return d }
        var isDir: ObjCBool = false
        var result = "missing"
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue {
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
                var h = SHA256()
                for n in names where !n.hasPrefix(".") {
                    h.update(data: Data((n + "\n" + digest(path + "/" + n) + "\n").utf8))
                }
                result = "sha256:" + ContentKey.hex(h.finalize())
            } else if let handle = FileHandle(forReadingAtPath: path) {
                var h = SHA256()
                while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty { h.update(data: chunk) }
                try? handle.close()
                result = "sha256:" + ContentKey.hex(h.finalize())
            }
        }
        memo[path] = result
        return result
    }
}
