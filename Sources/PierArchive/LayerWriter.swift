#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Turns a directory tree into an OCI layer.
public enum LayerWriter {
    /// Writes every file below `directory` (not the directory itself) as a layer tar and
    /// returns its digests, computed while the bytes go out.
    ///
    /// The result depends only on the tree: entries go depth first, each directory's
    /// names in byte order; user and group names and access times are left out; with
    /// `sourceDateEpoch`, later modification times are clamped to it (the
    /// SOURCE_DATE_EPOCH convention). Files with several links are written once and
    /// then as hardlinks to the first path. Sockets are skipped: tar cannot hold them.
    ///
    /// - Parameter whiteoutsFromOverlay: `directory` is an overlayfs upper directory;
    ///   its whiteouts are written back in OCI form: a 0/0 character device NAME becomes
    ///   an empty `.wh.NAME`, and a directory marked `trusted.overlay.opaque=y` gets a
    ///   `.wh..wh..opq` entry right after its own.
    @discardableResult
    public static func write(
        directory: String, to sink: ArchiveSink, compression: Compression,
        whiteoutsFromOverlay: Bool = false, sourceDateEpoch: Int64? = nil
    ) throws(ArchiveError) -> LayerDigests {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ArchiveError.system("open", "cannot open the layer directory \(quoted(directory))", path: directory)
        }
        var walk = TreeWalk(
            writer: try TarWriter(to: sink, compression: compression),
            convertWhiteouts: whiteoutsFromOverlay,
            sourceDateEpoch: sourceDateEpoch
        )
        try walk.visit(Descriptor(fd), prefix: "", hostPath: directory)
        return try walk.writer.finish()
    }

    /// Writes the file, symlink or directory tree at `path` as a plain tar (what `docker cp`
    /// streams), its top entry named `name` (a directory's contents follow as `name/...`;
    /// `name` "." gives `./...`). Symlinks are stored, never followed, below the top as at it.
    public static func writeTree(at path: String, as name: String, to sink: ArchiveSink) throws(ArchiveError) {
        let slash = path.lastIndex(of: "/")
        let parentPath = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let last = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let parentFD = open(parentPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parentFD >= 0 else {
            throw ArchiveError.system("open", "cannot open \(quoted(parentPath))", path: parentPath)
        }
        let parent = Descriptor(parentFD)
        var walk = TreeWalk(writer: try TarWriter(to: sink, compression: .none, digesting: false), convertWhiteouts: false, sourceDateEpoch: nil)
        guard let st = try status(of: last, in: parent.fd, path: path), var entry = TarEntry(path: name, status: st) else {
            throw ArchiveError(.io, "\(quoted(path)) does not exist or cannot be archived", path: path)
        }
        switch entry.kind {
        case .directory:
            let fd = openat(parent.fd, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw ArchiveError.system("openat", "cannot open directory \(quoted(path))", path: path) }
            let child = Descriptor(fd)
            entry.path = name + "/"
            try walk.writer.write(entry: entry)
            try walk.visit(child, prefix: name + "/", hostPath: path)
        case .file:
            let fd = openat(parent.fd, last, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw ArchiveError.system("openat", "cannot read \(quoted(path))", path: path) }
            let file = Descriptor(fd)
            try walk.writer.write(entry: entry)
            try walk.writer.copyData(from: file.fd, hostPath: path)
        case .symlink:
            entry.linkTarget = try readLink(last, in: parent.fd, path: path)
            try walk.writer.write(entry: entry)
        case .characterDevice, .blockDevice, .fifo, .hardlink:
            try walk.writer.write(entry: entry)
        }
        try walk.writer.finish()
    }
}

/// One depth-first pass over a host tree, writing as it goes.
private struct TreeWalk {
    /// A file by identity, for hardlink detection.
    struct FileID: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    let writer: TarWriter
    let convertWhiteouts: Bool
    let sourceDateEpoch: Int64?
    /// The first archive path of each multiply-linked file seen so far.
    var firstPaths: [FileID: String] = [:]

    init(writer: TarWriter, convertWhiteouts: Bool, sourceDateEpoch: Int64?) {
        self.writer = writer
        self.convertWhiteouts = convertWhiteouts
        self.sourceDateEpoch = sourceDateEpoch
    }

    mutating func visit(_ directory: Descriptor, prefix: String, hostPath: String) throws(ArchiveError) {
        // Byte order, not String's Unicode order: it is what Go's tar writers use, and it
        // cannot vary with the Swift version.
        let names = try listDirectory(directory.fd, path: hostPath).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for name in names {
            let path = prefix + name
            let host = hostPath + "/" + name
            guard let st = try status(of: name, in: directory.fd, path: host),
                  var entry = TarEntry(path: path, status: st)
            else { continue }  // vanished since the listing, or a socket
            entry.modificationTime = clamped(entry.modificationTime)

            if convertWhiteouts, entry.kind == .characterDevice, entry.devMajor == 0, entry.devMinor == 0 {
                // Checked before hardlinks: overlayfs may share one whiteout inode among
                // many names, and each must stay a whiteout of its own.
                var whiteout = TarEntry(path: prefix + whiteoutPrefix + name, kind: .file, mode: 0o600)
                whiteout.uid = entry.uid
                whiteout.gid = entry.gid
                whiteout.modificationTime = entry.modificationTime
                try writer.write(entry: whiteout)
                continue
            }
            if entry.kind != .directory, st.st_nlink > 1 {
                let id = FileID(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
                if let first = firstPaths[id] {
                    entry.kind = .hardlink
                    entry.linkTarget = first
                    entry.size = 0
                    try writer.write(entry: entry)
                    continue
                }
                firstPaths[id] = path
            }

            switch entry.kind {
            case .directory:
                let fd = openat(directory.fd, name, openDirectoryFlags)
                guard fd >= 0 else { throw ArchiveError.system("openat", "cannot open directory \(quoted(host))", path: host) }
                let child = Descriptor(fd)
                entry.path = path + "/"
                entry.xattrs = try ExtendedAttributes.read(.descriptor(child.fd), path: host)
                try writer.write(entry: entry)
                if convertWhiteouts, try ExtendedAttributes.value("trusted.overlay.opaque", of: .descriptor(child.fd), path: host) == Array("y".utf8) {
                    var marker = TarEntry(path: path + "/" + opaqueWhiteout, kind: .file, mode: entry.mode & 0o777)
                    marker.uid = entry.uid
                    marker.gid = entry.gid
                    marker.modificationTime = entry.modificationTime
                    try writer.write(entry: marker)
                }
                try visit(child, prefix: path + "/", hostPath: host)
            case .file:
                let fd = openat(directory.fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                guard fd >= 0 else { throw ArchiveError.system("openat", "cannot read \(quoted(host))", path: host) }
                let file = Descriptor(fd)
                entry.xattrs = try ExtendedAttributes.read(.descriptor(file.fd), path: host)
                try writer.write(entry: entry)
                try writer.copyData(from: file.fd, hostPath: host)
            case .symlink:
                entry.linkTarget = try readLink(name, in: directory.fd, path: host)
                entry.xattrs = try ExtendedAttributes.read(.node(name, in: directory.fd), path: host)
                try writer.write(entry: entry)
            case .characterDevice, .blockDevice, .fifo, .hardlink:
                entry.xattrs = try ExtendedAttributes.read(.node(name, in: directory.fd), path: host)
                try writer.write(entry: entry)
            }
        }
    }

    private func clamped(_ time: Int64) -> Int64 {
        guard let sourceDateEpoch else { return time }
        return min(time, sourceDateEpoch)
    }
}
