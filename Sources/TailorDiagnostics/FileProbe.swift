import Foundation

/// What a path names, and reading it only when it is a regular file. Every reader of a
/// user's file (specs, data, models, tokenizers, adapters, locks) goes through here: opening
/// a FIFO blocks until a writer comes, a device never ends, and "does not exist" is the
/// wrong thing to tell someone whose symbolic links form a loop.
public enum FileProbe {
    public enum Kind: Equatable, Sendable {
        case file, folder, missing, loop, denied
        /// Something that is neither a file nor a folder, described ("a FIFO (named pipe)").
        case special(String)
        /// `stat` failed for another reason, with the system's words.
        case unreadable(String)
    }

    /// A path that cannot be read as asked, with what is wrong in plain words.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var path: String
        public var problem: String
        public var description: String { "'\(path)' \(problem)" }
    }

    /// Classifies `path` by `stat` (links followed), without opening it.
    public static func kind(_ path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return failedKind(errno) }
        return kind(mode: info.st_mode)
    }

    static func failedKind(_ code: Int32) -> Kind {
        switch code {
        case ENOENT, ENOTDIR: .missing
        case ELOOP: .loop
        case EACCES, EPERM: .denied
        default: .unreadable(String(cString: strerror(code)))
        }
    }

    static func kind(mode: mode_t) -> Kind {
        switch mode & S_IFMT {
        case S_IFREG: .file
        case S_IFDIR: .folder
        case S_IFIFO: .special("a FIFO (named pipe)")
        case S_IFSOCK: .special("a socket")
        case S_IFCHR: .special("a character device")
        case S_IFBLK: .special("a block device")
        default: .special("not a regular file")
        }
    }

    /// Why `path` cannot be read as `wanted` (`.file` or `.folder`), nil when it can be.
    public static func problem(_ path: String, wanted: Kind = .file) -> String? {
        let found = kind(path)
        return found == wanted ? nil : describe(found, wanted: wanted)
    }

    /// Plain words for finding `found` where `wanted` was needed.
    public static func describe(_ found: Kind, wanted: Kind) -> String {
        switch found {
        case .missing: return "does not exist"
        case .loop: return "is a loop of symbolic links"
        case .denied: return "cannot be read: permission denied"
        case .unreadable(let why): return "cannot be read: \(why)"
        case .special(let what): return "is \(what), not \(wanted == .folder ? "a folder" : "a regular file")"
        case .file: return "is a file, not a folder"
        case .folder: return "is a folder, not a file"
        }
    }

    /// The whole of a regular file. It is opened without blocking and checked on the open
    /// descriptor, so a FIFO swapped in after an earlier check still cannot hang the reader.
    public static func read(_ path: String) throws -> Data {
        let handle = try handle(path)
        do {
            return try handle.readToEnd() ?? Data()
        } catch {
            throw Failure(path: path, problem: "cannot be read: \(error.localizedDescription)")
        }
    }

    /// A handle on a regular file, for reading it in pieces.
    public static func handle(_ path: String) throws -> FileHandle {
        FileHandle(fileDescriptor: try openRegular(path).fd, closeOnDealloc: true)
    }

    /// A regular file mapped into memory (read-only, shared with the page cache), for model
    /// files too large to copy.
    public static func map(_ path: String) throws -> Data {
        let (fd, size) = try openRegular(path)
        defer { close(fd) }
        guard size > 0 else { return Data() }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw Failure(path: path, problem: "cannot be mapped: \(String(cString: strerror(errno)))")
        }
        return Data(bytesNoCopy: base, count: size, deallocator: .custom { pointer, count in munmap(pointer, count) })
    }

    /// A descriptor for `path` when it is a regular file, and the file's size.
    static func openRegular(_ path: String) throws -> (fd: Int32, size: Int) {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            // open() of a folder succeeds read-only, so EISDIR is rare; keep the plain words.
            throw Failure(path: path, problem: describe(code == EISDIR ? .folder : failedKind(code), wanted: .file))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw Failure(path: path, problem: describe(failedKind(code), wanted: .file))
        }
        let found = kind(mode: info.st_mode)
        guard found == .file else {
            close(fd)
            throw Failure(path: path, problem: describe(found, wanted: .file))
        }
        return (fd, Int(info.st_size))
    }
}
