import Foundation
import TailorPlan
import XCTest

/// File digests with a memo: an unchanged file (same size and time) is not read again.
final class FileDigestTests: XCTestCase {
    func testMemoSkipsUnchangedFilesAndNoticesChangedOnes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-digests-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/data.txt", memo = dir + "/memo.json"
        try "one".write(toFile: file, atomically: true, encoding: .utf8)
        let first = FileDigests(memo: memo)
        let original = first.digest(file)
        first.save()
        XCTAssertTrue(FileManager.default.fileExists(atPath: memo))
        // Same size, same time, different bytes: the memo is trusted (that is what it is for).
        var info = stat()
        stat(file, &info)
        try "two".write(toFile: file, atomically: false, encoding: .utf8)
        var times = [info.st_atim, info.st_mtim]
        utimensat(AT_FDCWD, file, &times, 0)
        XCTAssertEqual(FileDigests(memo: memo).digest(file), original)
        // A new modification time: hashed again.
        try "two".write(toFile: file, atomically: false, encoding: .utf8)
        XCTAssertNotEqual(FileDigests(memo: memo).digest(file), original)
        XCTAssertEqual(FileDigests().digest(file), FileDigests(memo: memo).digest(file))
    }
}
