/// Lower-case hex of bytes, as content keys, file digests and checkpoint digests are written.
/// Here because every stage that writes one (planner, executor, training) already depends on
/// this module and on nothing else in common.
public enum Hex {
    public static func string<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let chars = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in bytes {
            out.append(chars[Int(b >> 4)])
            out.append(chars[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
