import Crypto
import Foundation
import TailorDiagnostics

/// SHA-256 digests written `sha256:<hex>`, of files (streamed) and of text.
enum Digest {
    static func of(file path: String) throws -> String {
        let handle = try ExecutionError.reading(path) { try FileProbe.handle(path) }
        defer { try? handle.close() }
        var h = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { h.update(data: chunk) }
        return "sha256:" + hex(h.finalize())
    }

    static func of(text: String) -> String { "sha256:" + hex(SHA256.hash(data: Data(text.utf8))) }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let chars = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in digest {
            out.append(chars[Int(b >> 4)])
            out.append(chars[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
