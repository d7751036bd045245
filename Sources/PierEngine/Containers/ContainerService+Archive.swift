import Foundation
import PierAPI
import PierArchive
import PierOCI
import PierRuntime

/// `docker cp`: the container's files as tar streams (`GET`/`HEAD`/`PUT /containers/{id}/archive`).
///
/// A running container's filesystem is reached through `/proc/<pid>/root`, so what `cp` sees is
/// what the container sees, bind mounts included. A stopped one gets its overlay mounted for the
/// length of the request. Every path is resolved with `openat2(RESOLVE_IN_ROOT)`: `..` and
/// symlinks, absolute or not, stay inside the container's root, so a container cannot point
/// `cp` at the host's files.
extension ContainerService {
    /// `X-Docker-Container-Path-Stat`: what is at a path (mode as Go's `os.FileMode`).
    public struct PathStat: Codable, Sendable {
        public var name: String
        public var size: Int64
        public var mode: UInt32
        public var mtime: String
        public var linkTarget: String
    }

    /// Stat of `path` in the container (a symlink itself, not its target).
    public func statPath(_ reference: String, path: String) throws(EngineError) -> PathStat {
        let record = try resolve(reference)
        return try withContainerRoot(record) { root throws(EngineError) in
            if path.hasSuffix("/") || path.hasSuffix("/.") {
                // A trailing slash follows a final symlink (inside the root), as the docker CLI expects.
                let directory = try ContainerPath.open(root: root, path: path, directory: true)
                defer { close(directory) }
                var stat = try ContainerPath.stat(parent: directory, name: "", path: path, container: root.container)
                stat.name = String(path.split(separator: "/").last ?? "/")
                return stat
            }
            let (parent, last) = try ContainerPath.openParent(root: root, path: path)
            defer { close(parent) }
            return try ContainerPath.stat(parent: parent, name: last, path: path, container: root.container)
        }
    }

    /// Streams `path` as a tar to `sink`, after handing its stat to `head` (so the response's
    /// headers go out first). Blocks.
    public func archive(_ reference: String, path: String, head: (PathStat) throws -> Void,
                        sink: ArchiveSink) throws(EngineError) {
        let record = try resolve(reference)
        try withContainerRoot(record) { root throws(EngineError) in
            let (parent, last) = try ContainerPath.openParent(root: root, path: path)
            defer { close(parent) }
            let stat = try ContainerPath.stat(parent: parent, name: last, path: path, container: root.container)
            do {
                try head(stat)
                // `dir/.` archives the contents of dir as `./...`.
                let name = path.hasSuffix("/.") ? "." : (last == "/" || last.isEmpty ? "/" : last)
                let source = last.isEmpty || last == "." ? "/proc/self/fd/\(parent)" : "/proc/self/fd/\(parent)/\(last)"
                try LayerWriter.writeTree(at: source, as: name == "/" ? "." : name, to: sink)
            } catch let error as EngineError {
                throw error
            } catch {
                throw EngineError(.internalError, "cannot archive \(path): \(error)")
            }
        }
    }

    /// Unpacks a tar into the directory `path` of the container. Blocks.
    public func extract(_ reference: String, path: String, source: ArchiveSource) throws(EngineError) {
        let record = try resolve(reference)
        if record.hostConfig.ReadonlyRootfs == true {
            throw EngineError(.forbidden, "container rootfs is marked read-only")
        }
        try withContainerRoot(record) { root throws(EngineError) in
            let directory = try ContainerPath.open(root: root, path: path, directory: true)
            defer { close(directory) }
            do {
                try LayerExtractor.extract(from: source, into: "/proc/self/fd/\(directory)", mode: .apply)
            } catch {
                throw EngineError(.invalidArgument, "cannot extract the archive into \(path): \(error)")
            }
        }
    }

    /// Runs `body` with a host path that is the container's root: the running container's own
    /// view, or its overlay mounted for the occasion (and unmounted after).
    func withContainerRoot<T>(_ record: ContainerRecord, _ body: (ContainerRoot) throws(EngineError) -> T) throws(EngineError) -> T {
        if (record.state.status == .running || record.state.status == .paused), record.state.pid > 0 {
            return try body(ContainerRoot(path: "/proc/\(record.state.pid)/root", container: record.name))
        }
        let directory = store.directory(record.id)
        let mountPoint = directory + "/cp-root"
        let lowers: [String]
        do {
            let image = try images.resolve(record.imageID.description)
            lowers = try images.store.lowerDirectories(of: image)
        } catch {
            throw EngineError(.internalError, "cannot find the layers of container \(record.shortID): \(error)")
        }
        try? FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let options = "lowerdir=\(lowers.joined(separator: ":")),upperdir=\(directory)/upper,workdir=\(directory)/work"
        guard mount("overlay", mountPoint, "overlay", 0, options) == 0 else {
            throw EngineError(.internalError, "cannot mount the filesystem of container \(record.shortID): "
                              + String(cString: strerror(errno)))
        }
        defer {
            umount2(mountPoint, Int32(MNT_DETACH))
            rmdir(mountPoint)
        }
        return try body(ContainerRoot(path: mountPoint, container: record.name))
    }
}

/// A host path that is a container's root, and the container's name for messages.
struct ContainerRoot {
    let path: String
    let container: String
}

/// Path resolution inside a container root, with the kernel's `openat2(RESOLVE_IN_ROOT)`.
enum ContainerPath {
    /// struct open_how (linux/openat2.h).
    struct OpenHow {
        var flags: UInt64
        var mode: UInt64
        var resolve: UInt64
    }
    static let resolveInRoot: UInt64 = 0x10
    static let resolveNoMagicLinks: UInt64 = 0x02
    /// <fcntl.h> values glibc hides behind _GNU_SOURCE, which Swift's Glibc does not define.
    static let oPath: Int32 = 0o10000000
    static let atEmptyPath: Int32 = 0x1000
    static let openat2Number = 437   // x86_64 and arm64 share it (the generic syscall table)

    typealias Syscall = @convention(c) (Int, Int32, UnsafePointer<CChar>, UnsafeRawPointer, Int) -> Int
    /// libc's variadic `syscall`, called through a fixed prototype (Swift cannot call C varargs).
    static let syscall4: Syscall? = dlsym(nil, "syscall").map { unsafeBitCast($0, to: Syscall.self) }

    /// Opens `path` (relative to the root, `..` and symlinks kept inside it) with `flags`.
    static func open(root: ContainerRoot, path: String, directory: Bool) throws(EngineError) -> Int32 {
        let rootFD = Glibc.open(root.path, ContainerPath.oPath | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else {
            throw EngineError(.internalError, "cannot open the container's root: \(String(cString: strerror(errno)))")
        }
        defer { close(rootFD) }
        let relative = path.drop { $0 == "/" }
        var how = OpenHow(flags: UInt64(oPath | O_CLOEXEC | (directory ? O_DIRECTORY : 0)), mode: 0,
                          resolve: resolveInRoot | resolveNoMagicLinks)
        guard let syscall4 else { throw EngineError(.internalError, "openat2 is not available") }
        let fd = withUnsafePointer(to: &how) { pointer in
            String(relative.isEmpty ? "." : relative).withCString {
                syscall4(openat2Number, rootFD, $0, UnsafeRawPointer(pointer), MemoryLayout<OpenHow>.size)
            }
        }
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT: throw EngineError(.notFound, "Could not find the file \(path) in container \(root.container)")
            case ENOTDIR: throw EngineError(.invalidArgument, "extraction point is not a directory: \(path)")
            default: throw EngineError(.internalError, "cannot open \(path) in the container: \(String(cString: strerror(code)))")
            }
        }
        return Int32(fd)
    }

    /// The directory holding `path` (opened, resolved in the root) and the last component.
    static func openParent(root: ContainerRoot, path: String) throws(EngineError) -> (Int32, String) {
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        if trimmed.hasSuffix("/.") { trimmed.removeLast(2) }
        guard let slash = trimmed.lastIndex(of: "/"), trimmed != "/" else {
            if trimmed == "/" || trimmed.isEmpty { return (try open(root: root, path: "/", directory: true), "") }
            return (try open(root: root, path: "/", directory: true), trimmed)
        }
        let parent = String(trimmed[..<slash])
        let last = String(trimmed[trimmed.index(after: slash)...])
        if last == ".." {
            // `a/..` names a directory: archive it by its own resolved name.
            return (try open(root: root, path: trimmed, directory: true), "")
        }
        return (try open(root: root, path: parent.isEmpty ? "/" : parent, directory: true), last)
    }

    static func stat(parent: Int32, name: String, path: String, container: String) throws(EngineError) -> ContainerService.PathStat {
        var st = Glibc.stat()
        let result = name.isEmpty ? fstatat(parent, "", &st, atEmptyPath) : fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW)
        guard result == 0 else {
            if errno == ENOENT { throw EngineError(.notFound, "Could not find the file \(path) in container \(container)") }
            throw EngineError(.internalError, "cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        var link = ""
        if st.st_mode & S_IFMT == S_IFLNK {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlinkat(parent, name, &buffer, buffer.count - 1)
            if count > 0 { link = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        }
        let base = name.isEmpty ? (path == "/" ? "/" : String(path.split(separator: "/").last ?? "/")) : name
        return ContainerService.PathStat(name: base, size: Int64(st.st_size), mode: goFileMode(st.st_mode),
                                         mtime: Timestamp.format(seconds: Int64(st.st_mtim.tv_sec),
                                                                 nanoseconds: Int(st.st_mtim.tv_nsec)),
                                         linkTarget: link)
    }

    /// Go's `os.FileMode` bits for a `st_mode`.
    static func goFileMode(_ mode: mode_t) -> UInt32 {
        var result = UInt32(mode & 0o777)
        if mode & UInt32(S_ISUID) != 0 { result |= 1 << 23 }
        if mode & UInt32(S_ISGID) != 0 { result |= 1 << 22 }
        if mode & UInt32(S_ISVTX) != 0 { result |= 1 << 20 }
        switch mode & S_IFMT {
        case S_IFDIR: result |= 1 << 31
        case S_IFLNK: result |= 1 << 27
        case S_IFIFO: result |= 1 << 25
        case S_IFSOCK: result |= 1 << 24
        case S_IFBLK: result |= 1 << 26
        case S_IFCHR: result |= 1 << 26 | 1 << 21
        default: break
        }
        return result
    }
}
