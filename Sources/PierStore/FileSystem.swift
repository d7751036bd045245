import Foundation

/// Small POSIX helpers the stores share: durable atomic replacement and directory creation.
/// Writes that matter go to a temp file in the same directory, are fsynced, renamed over the
/// target, and the directory is fsynced, so a power cut leaves either the old or the new file.
public enum FileSystem {
    static func makeDirectory(_ path: String) throws(StoreError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.io, "cannot create directory \(path)", cause: error as NSError)
        }
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// - Parameter durable: fsync the file and its directory. A file that is rebuilt whenever it
    ///   is needed (a container's /etc/hosts, a runtime spec, the network allocations, which a
    ///   reboot frees anyway) passes `false`: it still never appears half-written, and the
    ///   fsyncs (0.5–1.5 ms each here) stay off the path of `run`.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, durable: Bool = true) throws(StoreError) {
        let temp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError(.io, "cannot write \(temp): \(errnoText())") }
        var written = 0
        let ok: Bool = bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 { if errno == EINTR { continue }; return false }
                written += n
            }
            return !durable || fsync(fd) == 0
        }
        close(fd)
        guard ok, rename(temp, path) == 0 else {
            let text = errnoText()
            unlink(temp)
            throw StoreError(.io, "cannot write \(path): \(text)")
        }
        if durable { syncDirectory(containing: path) }
    }

    static func syncDirectory(containing path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    static func readAll(_ path: String) throws(StoreError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError(.notFound, "cannot read \(path): \(errnoText())")
        }
        return [UInt8](data)
    }

    static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    static func listDirectory(_ path: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
