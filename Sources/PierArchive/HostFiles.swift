#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Host-side file system helpers shared by the layer reader and writer. Everything works
// relative to open directory descriptors with O_NOFOLLOW, so no helper ever resolves a
// symbolic link that lives inside the tree it is working on.

/// Owns a file descriptor and closes it when the last reference goes away, so that
/// early exits by `throw` cannot leak one.
final class Descriptor {
    let fd: Int32

    init(_ fd: Int32) {
        self.fd = fd
    }

    deinit {
        close(fd)
    }
}

/// Flags for opening one directory below another without following a symlink there.
let openDirectoryFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC

/// The `stat` of `name` in `directory`, not following a final symlink; nil when it does
/// not exist.
func status(of name: String, in directory: Int32, path: String) throws(ArchiveError) -> stat? {
    var st = stat()
    if fstatat(directory, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { return st }
    if errno == ENOENT { return nil }
    throw ArchiveError.system("fstatat", "cannot inspect \(quoted(path))", path: path)
}

func isDirectory(_ st: stat) -> Bool {
    UInt32(st.st_mode) & FileType.mask == FileType.directory
}

func isSymlink(_ st: stat) -> Bool {
    UInt32(st.st_mode) & FileType.mask == FileType.symlink
}

/// The names in a directory, without "." and "..", in the order the file system keeps them.
func listDirectory(_ directory: Int32, path: String) throws(ArchiveError) -> [String] {
    // fdopendir takes ownership of the descriptor it is given, so hand it a duplicate.
    let copy = fcntl(directory, F_DUPFD_CLOEXEC, 0)
    guard copy >= 0 else { throw ArchiveError.system("fcntl", "cannot list directory \(quoted(path))", path: path) }
    guard let stream = fdopendir(copy) else {
        let code = errno
        close(copy)
        throw ArchiveError.system("fdopendir", "cannot list directory \(quoted(path))", path: path, errno: code)
    }
    defer { closedir(stream) }
    // The duplicate shares its position with `directory`, which may have been listed before.
    rewinddir(stream)
    var names: [String] = []
    while true {
        errno = 0
        guard let record = readdir(stream) else {
            if errno != 0 { throw ArchiveError.system("readdir", "cannot list directory \(quoted(path))", path: path) }
            return names
        }
        let name = withUnsafeBytes(of: &record.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
}

/// Removes `name` from `directory`, and everything below it if it is a directory,
/// without following any symlink (a symlink is removed, never its target). A name that
/// does not exist is not an error.
func removeTree(_ name: String, in directory: Int32, path: String) throws(ArchiveError) {
    guard let st = try status(of: name, in: directory, path: path) else { return }
    if isDirectory(st) {
        let fd = openat(directory, name, openDirectoryFlags)
        guard fd >= 0 else { throw ArchiveError.system("openat", "cannot remove \(quoted(path))", path: path) }
        let child = Descriptor(fd)
        for entry in try listDirectory(child.fd, path: path) {
            try removeTree(entry, in: child.fd, path: path + "/" + entry)
        }
    }
    let flags = isDirectory(st) ? AT_REMOVEDIR : 0
    guard unlinkat(directory, name, flags) == 0 || errno == ENOENT else {
        throw ArchiveError.system("unlinkat", "cannot remove \(quoted(path))", path: path)
    }
}

/// The target of the symlink `name` in `directory`.
func readLink(_ name: String, in directory: Int32, path: String) throws(ArchiveError) -> String {
    var capacity = 256
    while true {
        var bytes = [CChar](repeating: 0, count: capacity)
        let count = readlinkat(directory, name, &bytes, capacity)
        guard count >= 0 else { throw ArchiveError.system("readlinkat", "cannot read symlink \(quoted(path))", path: path) }
        if count < capacity {
            return String(decoding: bytes[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        capacity *= 4
    }
}

/// Linux's encoding of device numbers (glibc's `makedev`, a macro Swift cannot import).
func deviceNumber(major: UInt32, minor: UInt32) -> dev_t {
    let major = UInt64(major), minor = UInt64(minor)
    return dev_t((major & 0xFFF) << 8 | (major & ~0xFFF) << 32 | (minor & 0xFF) | (minor & ~0xFF) << 12)
}

/// glibc's `major`/`minor`, also macros.
func deviceParts(_ device: dev_t) -> (major: UInt32, minor: UInt32) {
    let device = UInt64(device)
    let major = (device >> 32 & 0xFFFF_F000) | (device >> 8 & 0xFFF)
    let minor = (device >> 12 & 0xFFFF_FF00) | (device & 0xFF)
    return (UInt32(truncatingIfNeeded: major), UInt32(truncatingIfNeeded: minor))
}

extension TarEntry {
    /// The header for a host file from its `lstat`; nil for sockets, which tar cannot
    /// hold. Leaves out user and group names: a layer's owners are numbers in the
    /// container's own user database, and the host's names would make the bytes depend
    /// on the machine that wrote them.
    init?(path: String, status st: stat) {
        let kind: Kind
        switch UInt32(st.st_mode) & FileType.mask {
        case FileType.regular: kind = .file
        case FileType.directory: kind = .directory
        case FileType.symlink: kind = .symlink
        case FileType.characterDevice: kind = .characterDevice
        case FileType.blockDevice: kind = .blockDevice
        case FileType.fifo: kind = .fifo
        default: return nil
        }
        let device = kind == .characterDevice || kind == .blockDevice ? deviceParts(st.st_rdev) : (0, 0)
        self.init(
            path: path, kind: kind, size: kind == .file ? Int64(st.st_size) : 0,
            mode: UInt32(st.st_mode) & 0o7777, uid: st.st_uid, gid: st.st_gid,
            modificationTime: Int64(st.st_mtim.tv_sec),
            devMajor: device.0, devMinor: device.1
        )
    }
}

// MARK: - Extended attributes

/// Extended attributes through glibc's *xattr calls. Swift's Glibc module does not
/// include <sys/xattr.h> and this target may not add a C shim, so the functions are
/// looked up once with dlsym; their C signatures are fixed by the Linux ABI.
enum ExtendedAttributes {
    /// What to act on: an open descriptor (files, directories) or a path whose final
    /// component is not followed. For nodes that cannot be opened safely (symlinks,
    /// devices, fifos) the path is `/proc/self/fd/<parent>/<name>`, which pins the
    /// parent directory as firmly as an `*at` call would.
    enum Target {
        case descriptor(Int32)
        case path(String)

        static func node(_ name: String, in directory: Int32) -> Target {
            .path("/proc/self/fd/\(directory)/\(name)")
        }
    }

    /// Attributes overlayfs keeps for itself. Coming out of an upper directory they are
    /// bookkeeping, not content; coming in from a layer they could steer the overlay
    /// mount (redirects, metacopy), so they are never copied either way.
    static func isOverlayPrivate(_ name: String) -> Bool {
        name.hasPrefix("trusted.overlay.")
    }

    private typealias ListPath = @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<CChar>?, Int) -> Int
    private typealias ListFD = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int
    private typealias GetPath = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
    private typealias GetFD = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
    private typealias SetPath = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
    private typealias SetFD = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32

    private struct Calls: @unchecked Sendable {  // C function pointers, immutable after load
        let llistxattr: ListPath
        let flistxattr: ListFD
        let lgetxattr: GetPath
        let fgetxattr: GetFD
        let lsetxattr: SetPath
        let fsetxattr: SetFD

        static func load() -> Calls? {
            func symbol<T>(_ name: String, _ type: T.Type) -> T? {
                dlsym(nil, name).map { unsafeBitCast($0, to: type) }
            }
            guard let llist = symbol("llistxattr", ListPath.self), let flist = symbol("flistxattr", ListFD.self),
                  let lget = symbol("lgetxattr", GetPath.self), let fget = symbol("fgetxattr", GetFD.self),
                  let lset = symbol("lsetxattr", SetPath.self), let fset = symbol("fsetxattr", SetFD.self)
            else { return nil }
            return Calls(llistxattr: llist, flistxattr: flist, lgetxattr: lget, fgetxattr: fget, lsetxattr: lset, fsetxattr: fset)
        }
    }

    private static let calls = Calls.load()

    private static func available(_ path: String) throws(ArchiveError) -> Calls {
        guard let calls else {
            throw ArchiveError(.unsupported, "cannot handle extended attributes of \(quoted(path)): the C library has no *xattr functions", path: path)
        }
        return calls
    }

    /// All attributes of the target, except overlayfs's own. A file system without
    /// extended attributes has none.
    static func read(_ target: Target, path: String) throws(ArchiveError) -> [String: [UInt8]] {
        let calls = try available(path)
        func list(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
            switch target {
            case .descriptor(let fd): calls.flistxattr(fd, buffer, size)
            case .path(let node): calls.llistxattr(node, buffer, size)
            }
        }
        func get(_ name: String, _ buffer: UnsafeMutableRawPointer?, _ size: Int) -> Int {
            switch target {
            case .descriptor(let fd): calls.fgetxattr(fd, name, buffer, size)
            case .path(let node): calls.lgetxattr(node, name, buffer, size)
            }
        }
        // Sizes can change between the sizing call and the real one; retry on ERANGE.
        var names: [CChar] = []
        while true {
            let size = list(nil, 0)
            if size < 0 {
                if errno == ENOTSUP { return [:] }
                throw ArchiveError.system("listxattr", "cannot list extended attributes of \(quoted(path))", path: path)
            }
            if size == 0 { return [:] }
            names = [CChar](repeating: 0, count: size)
            let got = list(&names, size)
            if got >= 0 { names.removeLast(names.count - got); break }
            if errno != ERANGE {
                throw ArchiveError.system("listxattr", "cannot list extended attributes of \(quoted(path))", path: path)
            }
        }
        var result: [String: [UInt8]] = [:]
        for rawName in names.split(separator: 0) {
            let name = String(decoding: rawName.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if isOverlayPrivate(name) { continue }
            while true {
                let size = get(name, nil, 0)
                if size < 0 {
                    if errno == ENODATA { break }  // removed since it was listed
                    throw ArchiveError.system("getxattr", "cannot read extended attribute \(name) of \(quoted(path))", path: path)
                }
                var value = [UInt8](repeating: 0, count: size)
                let got = value.withUnsafeMutableBytes { get(name, $0.baseAddress, size) }
                if got >= 0 {
                    result[name] = Array(value[..<got])
                    break
                }
                if errno != ERANGE {
                    throw ArchiveError.system("getxattr", "cannot read extended attribute \(name) of \(quoted(path))", path: path)
                }
            }
        }
        return result
    }

    /// Sets one attribute.
    static func set(_ name: String, _ value: [UInt8], on target: Target, path: String) throws(ArchiveError) {
        let calls = try available(path)
        let status = value.withUnsafeBytes { bytes in
            switch target {
            case .descriptor(let fd): calls.fsetxattr(fd, name, bytes.baseAddress, bytes.count, 0)
            case .path(let node): calls.lsetxattr(node, name, bytes.baseAddress, bytes.count, 0)
            }
        }
        guard status == 0 else {
            throw ArchiveError.system("setxattr", "cannot set extended attribute \(name) on \(quoted(path))", path: path)
        }
    }

    /// Reads one attribute; nil when it is not set.
    static func value(_ name: String, of target: Target, path: String) throws(ArchiveError) -> [UInt8]? {
        let calls = try available(path)
        var buffer = [UInt8](repeating: 0, count: 256)
        let got = buffer.withUnsafeMutableBytes { bytes in
            switch target {
            case .descriptor(let fd): calls.fgetxattr(fd, name, bytes.baseAddress, bytes.count)
            case .path(let node): calls.lgetxattr(node, name, bytes.baseAddress, bytes.count)
            }
        }
        if got >= 0 { return Array(buffer[..<got]) }
        // ERANGE: longer than any value this module looks for, so not one of them.
        if errno == ENODATA || errno == ENOTSUP || errno == ERANGE { return nil }
        throw ArchiveError.system("getxattr", "cannot read extended attribute \(name) of \(quoted(path))", path: path)
    }
}
