import Foundation
import Testing
@testable import PierArchive

#if canImport(Glibc)
import Glibc
#endif

/// A directory under /tmp that is removed, with everything in it, when the value goes
/// away — also when the test fails or throws.
final class TemporaryDirectory {
    let path: String

    init(_ label: String = "pier-archive") throws {
        var template = Array("/tmp/\(label)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed: \(errno)") }
        path = String(cString: made)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func sub(_ name: String) -> String {
        let full = path + "/" + name
        mkdir(full, 0o755)
        return full
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: - External programs

/// Runs a program and returns its standard output; throws if it exits non-zero.
@discardableResult
func run(_ executable: String, _ arguments: [String], input: [UInt8]? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    let stdin = Pipe()
    if input != nil { process.standardInput = stdin }
    try process.run()
    if let input {
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
    }
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw TestFailure("\(executable) \(arguments) exited \(process.terminationStatus): \(String(decoding: err, as: UTF8.self))")
    }
    return String(decoding: out, as: UTF8.self)
}

@discardableResult
func python(_ script: String, _ arguments: [String] = []) throws -> String {
    try run("/usr/bin/python3", ["-c", script] + arguments)
}

/// The hex SHA-256 of a file, by coreutils: an independent check on our hashing.
func sha256sum(_ path: String) throws -> String {
    String(try run("/usr/bin/sha256sum", [path]).prefix(64))
}

func fileSize(_ path: String) throws -> Int64 {
    var st = stat()
    guard lstat(path, &st) == 0 else { throw TestFailure("lstat \(path): \(errno)") }
    return Int64(st.st_size)
}

// MARK: - Files

func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)
    guard fd >= 0 else { throw TestFailure("open \(path): \(errno)") }
    defer { close(fd) }
    try bytes.withUnsafeBytes { try writeFully(fd, $0, what: "write", path: path) }
    fchmod(fd, mode)
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw TestFailure("cannot read \(path)") }
    return [UInt8](data)
}

func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}

func check(_ result: Int32, _ what: String) throws {
    guard result == 0 else { throw TestFailure("\(what): \(String(cString: strerror(errno)))") }
}

func setTime(_ path: String, _ seconds: Int64) throws {
    var times = [timespec(tv_sec: Int(seconds), tv_nsec: 0), timespec(tv_sec: Int(seconds), tv_nsec: 0)]
    try check(utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW), "utimensat \(path)")
}

func setXattr(_ path: String, _ name: String, _ value: [UInt8]) throws {
    try ExtendedAttributes.set(name, value, on: .path(path), path: path)
}

func xattrs(_ path: String) throws -> [String: [UInt8]] {
    try ExtendedAttributes.read(.path(path), path: path)
}

/// Deterministic pseudo-random bytes, so failures reproduce.
func patternBytes(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
}

// MARK: - Archives in memory

/// Writes entries with TarWriter into memory. `data` gives each file entry's contents.
func makeArchive(_ compression: Compression = .none, _ build: (TarWriter) throws -> Void) throws -> [UInt8] {
    var bytes: [UInt8] = []
    let writer = try TarWriter(to: .push { bytes.append(contentsOf: $0) }, compression: compression)
    try build(writer)
    try writer.finish()
    return bytes
}

/// A source that serves `bytes` in pieces of at most `chunk`, like a network stream.
func pullSource(_ bytes: [UInt8], chunk: Int = 64 * 1024) -> ArchiveSource {
    var offset = 0
    return .pull { buffer in
        let count = min(chunk, buffer.count, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            if let from = source.baseAddress { buffer.baseAddress?.copyMemory(from: from + offset, byteCount: count) }
        }
        offset += count
        return count
    }
}

/// All entries of an archive, with the data of each file.
func readAll(_ source: ArchiveSource) throws -> [(entry: TarEntry, data: [UInt8])] {
    let reader = try TarReader(source)
    var result: [(TarEntry, [UInt8])] = []
    var buffer = [UInt8](repeating: 0, count: 100_000)
    while let entry = try reader.next() {
        var data: [UInt8] = []
        while true {
            let count = try buffer.withUnsafeMutableBytes { try reader.readData(into: $0) }
            if count == 0 { break }
            data += buffer[..<count]
        }
        result.append((entry, data))
    }
    return result
}

// MARK: - Tree snapshots

/// What a test compares between two trees: everything a layer must preserve.
struct NodeInfo: Equatable, CustomStringConvertible {
    var kind: String
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var mtime: Int64
    var size: Int64
    var content: Int?  // a hash of a file's bytes (within this process)
    var linkTarget: String?
    var device: UInt64
    var xattrs: [String: [UInt8]]
    /// The first path (in sorted order) of the set of paths sharing this inode.
    var hardlinkGroup: String?
    /// The link count; only `snapshotOf` fills it in (a tree's own counts are covered by `hardlinkGroup`).
    var links: UInt64 = 0

    var description: String {
        "\(kind) \(String(mode, radix: 8)) \(uid):\(gid) t=\(mtime) size=\(size) link=\(linkTarget ?? "-") dev=\(device) xattrs=\(xattrs.keys.sorted()) group=\(hardlinkGroup ?? "-")"
    }
}

/// Every node below `root` (not the root itself), by relative path.
func snapshot(_ root: String) throws -> [String: NodeInfo] {
    var result: [String: NodeInfo] = [:]
    var inodes: [UInt64: [String]] = [:]
    func visit(_ relative: String) throws {
        let full = relative.isEmpty ? root : root + "/" + relative
        for name in try FileManager.default.contentsOfDirectory(atPath: full).sorted() {
            let path = relative.isEmpty ? name : relative + "/" + name
            let host = root + "/" + path
            var st = stat()
            guard lstat(host, &st) == 0 else { throw TestFailure("lstat \(host)") }
            let type = st.st_mode & S_IFMT
            let kind: String
            switch type {
            case S_IFREG: kind = "file"
            case S_IFDIR: kind = "dir"
            case S_IFLNK: kind = "symlink"
            case S_IFCHR: kind = "char"
            case S_IFBLK: kind = "block"
            case S_IFIFO: kind = "fifo"
            default: kind = "other"
            }
            var info = NodeInfo(
                kind: kind, mode: st.st_mode & 0o7777, uid: st.st_uid, gid: st.st_gid,
                mtime: Int64(st.st_mtim.tv_sec), size: kind == "file" ? Int64(st.st_size) : 0,
                device: (kind == "char" || kind == "block") ? UInt64(st.st_rdev) : 0,
                xattrs: try xattrs(host)
            )
            if kind == "file" {
                var hasher = Hasher()
                hasher.combine(try readFile(host))
                info.content = hasher.finalize()
            }
            if kind == "symlink" { info.linkTarget = try FileManager.default.destinationOfSymbolicLink(atPath: host) }
            if kind != "dir" && st.st_nlink > 1 { inodes[UInt64(st.st_ino), default: []].append(path) }
            result[path] = info
            if kind == "dir" { try visit(path) }
        }
    }
    try visit("")
    for paths in inodes.values {
        let first = paths.min() ?? ""
        for path in paths { result[path]?.hardlinkGroup = first }
    }
    return result
}

/// Peak resident memory of this process, in bytes.
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}
