import Foundation
import TailorDiagnostics
import TailorPlan

/// Fuzz target for the whole front end: bytes → YAML → composition → checks → plan.
/// Any input must end in a plan or in errors; a crash, trap or hang is a bug.
///
/// Built for libFuzzer with
///   swift build --product TailorFuzz --sanitize fuzzer --sanitize address -Xswiftc -DFUZZING
/// and run as `.build/debug/TailorFuzz CORPUS_DIR`. Built normally, it replays the
/// files given on the command line (a corpus or crash reproducers).
enum FuzzTarget {
    static let folder: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }()

    static func run(_ bytes: [UInt8]) {
        let file = folder.appendingPathComponent("input.yaml")
        _ = FileManager.default.createFile(atPath: file.path, contents: Data(bytes))
        var diagnostics = DiagnosticBag()
        let plan = Compiler().plan(file: file.path, diagnostics: &diagnostics)
        if plan == nil && !diagnostics.hasErrors { fatalError("no plan and no error") }
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTarget.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#else
/// Replays inputs without libFuzzer: `TailorFuzz FILE…`.
@main
enum Replay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                exit(2)
            }
            FuzzTarget.run([UInt8](data))
            print("\(path): ok")
        }
    }
}
#endif
