import Foundation

/// One daemon per data root: an exclusive `flock` on `<root>/pierd.pid`, held for the life of
/// the process. A second `pierd` on the same root would reattach the same containers, empty the
/// first one's scratch space and race it on every write; it must refuse to start instead.
public final class DataRootLock: Sendable {
    public let path: String
    private let descriptor: Int32

    /// Why a lock could not be taken; `holder` is the pid written by the daemon holding it.
    public struct Busy: Error, CustomStringConvertible {
        public let root: String
        public let holder: String
        public var description: String {
            "another pierd\(holder.isEmpty ? "" : " (pid \(holder))") is already using the data root \(root); "
                + "stop it, or give this one its own --data-root"
        }
    }

    public init(root: String) throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        path = root + "/pierd.pid"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw EngineError(.internalError, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            let holder = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw Busy(root: root, holder: holder)
        }
        descriptor = fd
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
    }
}
