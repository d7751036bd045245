import Foundation

/// `errno` helpers (Glibc's `errno` is a thread-local macro; read it right after the call).
enum Errno {
    static var current: Int32 { errno }
    static func text(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// Small blocking file helpers over POSIX calls. cgroup and /proc files must be read and written
/// with single `read`/`write` calls (the kernel parses each write on its own), which
/// Foundation's buffered APIs do not promise.
enum PosixFile {
    /// The whole file; nil when it does not exist. Blocks.
    static func read(_ path: String) throws(RuntimeError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw RuntimeError(.system, "cannot read \(path)", cause: SystemError("open", errno: code))
        }
        defer { close(fd) }
        var result = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                if code == ENODEV || code == ENOENT { return nil }
                throw RuntimeError(.system, "cannot read \(path)", cause: SystemError("read", errno: code))
            }
            if n == 0 { break }
            result.append(contentsOf: buffer[0..<n])
        }
        return result
    }

    /// The file as text with the trailing newline removed; nil when absent.
    static func readText(_ path: String) throws(RuntimeError) -> String? {
        guard let bytes = try read(path) else { return nil }
        var text = String(decoding: bytes, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// One `write` of `text` to an existing file, as `echo text > file` does (O_TRUNC, which
    /// cgroupfs and procfs ignore; no O_CREAT, so a missing interface file is ENOENT, not a
    /// new regular file). Throws the errno as the cause. Blocks.
    static func writeExisting(_ path: String, _ text: String) throws(SystemError) {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        if fd < 0 { throw SystemError("open \(path)", errno: errno) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n < 0 { throw SystemError("write \(path)", errno: errno) }
        if n != bytes.count { throw SystemError("write \(path)", errno: EIO) }
    }

    /// Writes `bytes` to a temp file beside `path`, then renames it over `path`: never seen
    /// half-written, but not fsynced, as what goes through here (a bundle's config.json) is
    /// written again on every start and is useless after a reboot.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(RuntimeError) {
        let temp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw RuntimeError(.system, "cannot write \(path)", cause: SystemError("open", errno: errno))
        }
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count, let base = buffer.baseAddress {
                let n = Glibc.write(fd, base + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                offset += n
            }
        }
        close(fd)
        if failure == 0, rename(temp, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temp)
            throw RuntimeError(.system, "cannot write \(path)", cause: SystemError("write", errno: failure))
        }
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Entry names of a directory without `.` and `..`; empty when it cannot be read.
    static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names = [String]()
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Subdirectories of `path` (not following symlinks).
    static func subdirectories(_ path: String) -> [String] {
        list(path).filter { name in
            var info = stat()
            return lstat(path + "/" + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
        }
    }
}

/// Joins path components with single slashes.
func joinPath(_ base: String, _ component: String) -> String {
    if base.hasSuffix("/") { return base + component.drop(while: { $0 == "/" }) }
    return base + "/" + component.drop(while: { $0 == "/" })
}

/// Go's `filepath.Clean` for absolute and relative slash paths.
func cleanPath(_ path: String) -> String {
    let absolute = path.hasPrefix("/")
    var parts = [Substring]()
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
        if part == "." { continue }
        if part == ".." {
            if let last = parts.last, last != ".." { parts.removeLast(); continue }
            if absolute { continue }
        }
        parts.append(part)
    }
    let joined = parts.joined(separator: "/")
    if absolute { return "/" + joined }
    return joined.isEmpty ? "." : joined
}

/// Sleeps the calling thread (used by short bounded retries; never on the cooperative pool).
func sleepMilliseconds(_ ms: Int) {
    var request = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// CLOCK_MONOTONIC in nanoseconds, for deadlines.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
