#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The one error type of PierArchive.
///
/// `message` is written for the person who has to act on it: it names the archive entry
/// (or host path) involved and what went wrong. `code` is for programs that branch on
/// the kind of failure; `underlying` keeps the original cause (a failed system call, or
/// whatever a caller's pull/push callback threw) for logs.
public struct ArchiveError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The bytes are not a complete, valid tar stream (or gzip/zstd stream around one).
        case corruptArchive
        /// The input uses something PierArchive deliberately does not handle
        /// (xz/bzip2 compression, socket entries, ...).
        case unsupported
        /// An entry tried to create or modify something outside the extraction root
        /// (a `..` climb, a path through a symbolic link, a hardlink out of the tree).
        case unsafeEntry
        /// A well-formed entry that cannot be applied (a hardlink to a missing file,
        /// a file where a directory is needed, ...).
        case invalidEntry
        /// A system call on the host failed, or a caller's callback threw.
        case io
        /// The API was used out of order (data written beyond an entry's declared size, ...).
        case misuse
    }

    /// A failed system call, kept as the `underlying` cause of `.io` errors.
    public struct SystemCall: Error, Sendable, CustomStringConvertible {
        public let name: String
        public let errno: Int32
        public var description: String { "\(name): \(String(cString: strerror(errno)))" }
    }

    public let code: Code
    public let message: String
    /// The archive entry (or host path) the error is about, when there is one.
    public let path: String?
    public let underlying: (any Error)?

    public init(_ code: Code, _ message: String, path: String? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.underlying = underlying
    }

    public var description: String { message }
}

extension ArchiveError {
    /// An `.io` error for a failed system call; reads the thread's `errno`, so call it
    /// right after the failing call.
    static func system(_ call: String, _ what: String, path: String?, errno code: Int32 = errno) -> ArchiveError {
        let cause = SystemCall(name: call, errno: code)
        return ArchiveError(.io, "\(what): \(String(cString: strerror(code)))", path: path, underlying: cause)
    }

    /// The error for an entry that would escape the extraction root.
    static func unsafe(_ entryPath: String, _ reason: String) -> ArchiveError {
        ArchiveError(.unsafeEntry, "refusing archive entry \(quoted(entryPath)): \(reason)", path: entryPath)
    }
}

/// Quotes a path for a message the way a shell user expects to read it.
func quoted(_ path: String) -> String {
    "\"\(path)\""
}
