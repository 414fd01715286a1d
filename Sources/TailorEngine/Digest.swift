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
        return "sha256:" + Hex.string(h.finalize())
    }

    static func of(text: String) -> String { "sha256:" + Hex.string(SHA256.hash(data: Data(text.utf8))) }
}
