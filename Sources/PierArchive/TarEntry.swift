import CArchive

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One header of a tar stream, as a plain value.
///
/// It carries what an OCI layer needs to reproduce a file exactly (owner by number, the
/// full mode including setuid/setgid/sticky, device numbers, extended attributes) and no
/// more: access and change times are not part of a layer's identity and are left out, so
/// the same tree always produces the same bytes.
public struct TarEntry: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case file
        case directory
        case symlink
        case hardlink
        case characterDevice
        case blockDevice
        case fifo
    }

    /// The name as stored in the archive: relative by convention, directories usually
    /// with a trailing `/`. Never trust it as a host path; `LayerExtractor` sanitises it.
    public var path: String
    public var kind: Kind
    /// Bytes of data that follow the header; only files have any.
    public var size: Int64
    /// Permission bits including setuid (0o4000), setgid (0o2000) and sticky (0o1000).
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var uname: String?
    public var gname: String?
    /// Seconds since the epoch.
    public var modificationTime: Int64
    /// The target of a symlink (any text, it is only data) or of a hardlink (a path
    /// in the same archive).
    public var linkTarget: String?
    public var devMajor: UInt32
    public var devMinor: UInt32
    /// Extended attributes by full name (`user.foo`, `security.capability`, ...).
    public var xattrs: [String: [UInt8]]

    public init(
        path: String, kind: Kind, size: Int64 = 0, mode: UInt32 = 0o644,
        uid: UInt32 = 0, gid: UInt32 = 0, uname: String? = nil, gname: String? = nil,
        modificationTime: Int64 = 0, linkTarget: String? = nil,
        devMajor: UInt32 = 0, devMinor: UInt32 = 0, xattrs: [String: [UInt8]] = [:]
    ) {
        self.path = path
        self.kind = kind
        self.size = size
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.uname = uname
        self.gname = gname
        self.modificationTime = modificationTime
        self.linkTarget = linkTarget
        self.devMajor = devMajor
        self.devMinor = devMinor
        self.xattrs = xattrs
    }
}

// MARK: - Conversion to and from libarchive's archive_entry

/// File-type bits as libarchive spells them (identical to the kernel's S_IF* values).
enum FileType {
    static let mask: UInt32 = 0o170000
    static let regular: UInt32 = 0o100000
    static let directory: UInt32 = 0o040000
    static let symlink: UInt32 = 0o120000
    static let characterDevice: UInt32 = 0o020000
    static let blockDevice: UInt32 = 0o060000
    static let fifo: UInt32 = 0o010000
    static let socket: UInt32 = 0o140000
}

extension TarEntry {
    /// Reads a header that libarchive parsed. Throws for entry types a layer cannot hold.
    init(archiveEntry entry: OpaquePointer) throws(ArchiveError) {
        guard let rawPath = archive_entry_pathname(entry) else {
            throw ArchiveError(.corruptArchive, "archive is truncated or corrupt: an entry has no name")
        }
        let path = String(cString: rawPath)
        let kind: Kind
        if archive_entry_hardlink(entry) != nil {
            kind = .hardlink
        } else {
            switch UInt32(archive_entry_filetype(entry)) & FileType.mask {
            case FileType.regular: kind = .file
            case FileType.directory: kind = .directory
            case FileType.symlink: kind = .symlink
            case FileType.characterDevice: kind = .characterDevice
            case FileType.blockDevice: kind = .blockDevice
            case FileType.fifo: kind = .fifo
            default:
                throw ArchiveError(.unsupported, "archive entry \(quoted(path)) has a file type that a layer cannot hold (sockets and similar are not supported)", path: path)
            }
        }
        func id(_ value: Int64, _ name: String) throws(ArchiveError) -> UInt32 {
            guard let id = UInt32(exactly: value) else {
                throw ArchiveError(.invalidEntry, "archive entry \(quoted(path)) has \(name) \(value), outside the range of Linux ids", path: path)
            }
            return id
        }
        let linkTarget: UnsafePointer<CChar>? = switch kind {
        case .hardlink: archive_entry_hardlink(entry)
        case .symlink: archive_entry_symlink(entry)
        default: nil
        }
        var xattrs: [String: [UInt8]] = [:]
        archive_entry_xattr_reset(entry)
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK {
            guard let name else { continue }
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            xattrs[String(cString: name)] = bytes
        }
        self.init(
            path: path,
            kind: kind,
            size: kind == .file && archive_entry_size_is_set(entry) != 0 ? max(0, archive_entry_size(entry)) : 0,
            mode: UInt32(archive_entry_perm(entry)) & 0o7777,
            uid: try id(archive_entry_uid(entry), "uid"),
            gid: try id(archive_entry_gid(entry), "gid"),
            uname: Self.nonEmpty(archive_entry_uname(entry)),
            gname: Self.nonEmpty(archive_entry_gname(entry)),
            modificationTime: Int64(archive_entry_mtime(entry)),
            linkTarget: linkTarget.map { String(cString: $0) },
            devMajor: UInt32(truncatingIfNeeded: archive_entry_rdevmajor(entry)),
            devMinor: UInt32(truncatingIfNeeded: archive_entry_rdevminor(entry)),
            xattrs: xattrs
        )
    }

    /// ustar headers always have name fields; an empty one means "no name".
    private static func nonEmpty(_ name: UnsafePointer<CChar>?) -> String? {
        guard let name, name.pointee != 0 else { return nil }
        return String(cString: name)
    }

    /// Fills a fresh archive_entry for writing. Extended attributes go in name order so
    /// that equal entries always serialise to equal bytes.
    func fill(_ entry: OpaquePointer) {
        archive_entry_copy_pathname(entry, path)
        let type: UInt32
        switch kind {
        case .file, .hardlink: type = FileType.regular
        case .directory: type = FileType.directory
        case .symlink: type = FileType.symlink
        case .characterDevice: type = FileType.characterDevice
        case .blockDevice: type = FileType.blockDevice
        case .fifo: type = FileType.fifo
        }
        archive_entry_set_filetype(entry, type)
        archive_entry_set_perm(entry, mode & 0o7777)
        archive_entry_set_size(entry, kind == .file ? size : 0)
        archive_entry_set_uid(entry, Int64(uid))
        archive_entry_set_gid(entry, Int64(gid))
        if let uname { archive_entry_copy_uname(entry, uname) }
        if let gname { archive_entry_copy_gname(entry, gname) }
        archive_entry_set_mtime(entry, time_t(modificationTime), 0)
        if let linkTarget {
            if kind == .hardlink { archive_entry_copy_hardlink(entry, linkTarget) }
            if kind == .symlink { archive_entry_copy_symlink(entry, linkTarget) }
        }
        if kind == .characterDevice || kind == .blockDevice {
            archive_entry_set_rdevmajor(entry, dev_t(devMajor))
            archive_entry_set_rdevminor(entry, dev_t(devMinor))
        }
        for name in xattrs.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let value = xattrs[name] ?? []
            value.withUnsafeBytes { archive_entry_xattr_add_entry(entry, name, $0.baseAddress, $0.count) }
        }
    }
}
