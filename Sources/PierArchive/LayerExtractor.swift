#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How OCI whiteouts (image-spec `layer.md`, "Whiteouts") are applied.
public enum WhiteoutMode: Sendable, Hashable {
    /// The directory will be one overlayfs lower layer on its own (each layer unpacked
    /// into its own empty directory, as containerd's overlay snapshotter does), so
    /// whiteouts become what overlayfs understands: `.wh.NAME` a 0/0 character device
    /// called NAME, `.wh..wh..opq` the attribute `trusted.overlay.opaque=y` on its
    /// directory.
    case overlay
    /// The layer is applied on top of the tree already in the directory (flattening an
    /// image): `.wh.NAME` deletes NAME, `.wh..wh..opq` empties its directory of everything
    /// that this same layer did not add.
    case apply
}

/// Applies an OCI layer to a directory, safely, and returns the layer's digests.
///
/// Layers come from registries and tarballs that nobody here controls, so extraction
/// treats every entry as hostile. Nothing outside `root` is ever created, changed or
/// removed:
/// - names are cleaned like Docker does: `/a/b` is `a/b`; `..` is resolved lexically and
///   an entry whose path would climb above the root is refused;
/// - every directory on an entry's path is opened from the root with `O_NOFOLLOW`, one
///   component at a time, so a symlink already in the tree (`link -> /etc`) is never
///   followed; an entry that would go through one is refused;
/// - the final component is never followed either: an existing symlink there is
///   replaced, not written through;
/// - a hardlink's target is looked up the same way, inside the root.
/// A symlink *entry* may point anywhere (`/bin/sh`): it is only data until a container
/// resolves it inside its own root.
///
/// Owners (numeric), modes including setuid/setgid, modification times, extended
/// attributes, device nodes, fifos and hardlinks are preserved; this needs root.
public enum LayerExtractor {
    /// Extracts the layer in one streaming pass and returns its digests: `diffID` is
    /// computed over the decompressed bytes as they go through, so the caller can check it
    /// against the image config without reading the layer twice. A corrupt layer may
    /// leave a partial tree behind; extract into a fresh directory and discard it on error.
    @discardableResult
    public static func extract(from source: ArchiveSource, into root: String, mode: WhiteoutMode) throws(ArchiveError) -> LayerDigests {
        let reader = try TarReader(source: source, measuring: true)
        let target = try ExtractionTarget(root: root, mode: mode)
        while let entry = try reader.next() {
            try target.apply(entry, from: reader)
        }
        try target.finish()
        return try reader.finishDigests()
    }
}

let whiteoutPrefix = ".wh."
let opaqueWhiteout = ".wh..wh..opq"

/// The directory being extracted into, and what this layer has put in it so far.
final class ExtractionTarget {
    private let rootPath: String
    private let root: Descriptor
    private let mode: WhiteoutMode
    /// Every path this layer created or replaced, with all its ancestors: whiteouts
    /// must not hide them ("files that are present in the same layer as a whiteout file
    /// can only be hidden by whiteout files in subsequent layers").
    private var added: Set<String> = []
    /// Directory times are set last: creating anything inside a directory changes its
    /// modification time again.
    private var directoryTimes: [(components: [String], time: Int64)] = []

    init(root: String, mode: WhiteoutMode) throws(ArchiveError) {
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ArchiveError.system("open", "cannot open the extraction directory \(quoted(root))", path: root)
        }
        self.rootPath = root
        self.root = Descriptor(fd)
        self.mode = mode
    }

    /// The components of an archive path relative to the root, or nil when `..` would
    /// climb above it. Lexical, like Go's filepath.Clean in Docker and containerd.
    static func components(of path: String) -> [String]? {
        var result: [String] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..":
                guard !result.isEmpty else { return nil }
                result.removeLast()
            default: result.append(String(part))
            }
        }
        return result
    }

    func apply(_ entry: TarEntry, from reader: TarReader) throws(ArchiveError) {
        guard let components = Self.components(of: entry.path) else {
            throw ArchiveError.unsafe(entry.path, "its path climbs above the extraction root with \"..\"")
        }
        // The root itself ("./"): its owner and mode belong to whoever made the directory
        // (the snapshotter), as in containerd.
        guard let name = components.last else { return }
        let parentComponents = Array(components.dropLast())
        if name.hasPrefix(whiteoutPrefix) {
            try applyWhiteout(entry, name: name, in: parentComponents)
            return
        }
        let parent = try ensureDirectory(parentComponents, for: entry.path)
        let path = components.joined(separator: "/")
        switch entry.kind {
        case .directory:
            try makeDirectory(entry, name: name, in: parent, components: components)
        case .file:
            try replaceExisting(name, in: parent, path: path, keepingDirectory: false)
            try writeFile(entry, name: name, in: parent, path: path, from: reader)
        case .hardlink:
            try makeHardlink(entry, name: name, in: parent, path: path)
        case .symlink:
            guard let target = entry.linkTarget, !target.isEmpty else {
                throw ArchiveError(.invalidEntry, "archive entry \(quoted(entry.path)) is a symlink with an empty target", path: entry.path)
            }
            try replaceExisting(name, in: parent, path: path, keepingDirectory: false)
            guard symlinkat(target, parent.fd, name) == 0 else {
                throw ArchiveError.system("symlinkat", "cannot create symlink \(quoted(entry.path))", path: entry.path)
            }
            try applyMetadata(entry, to: .node(name, in: parent.fd), path: path)
        case .characterDevice, .blockDevice, .fifo:
            try replaceExisting(name, in: parent, path: path, keepingDirectory: false)
            let created: Int32
            switch entry.kind {
            case .fifo:
                created = mkfifoat(parent.fd, name, mode_t(entry.mode & 0o777))
            default:
                let type = entry.kind == .characterDevice ? FileType.characterDevice : FileType.blockDevice
                created = mknodat(parent.fd, name, mode_t(type | (entry.mode & 0o777)), deviceNumber(major: entry.devMajor, minor: entry.devMinor))
            }
            guard created == 0 else {
                throw ArchiveError.system("mknodat", "cannot create \(entry.kind.rawValue) \(quoted(entry.path))", path: entry.path)
            }
            try applyMetadata(entry, to: .node(name, in: parent.fd), path: path)
        }
        markAdded(components)
    }

    /// Sets the directory times recorded during extraction.
    func finish() throws(ArchiveError) {
        for (components, time) in directoryTimes {
            // A directory replaced by a later entry (or by a symlink) is skipped: its
            // time no longer applies, and walking through a symlink is never done.
            guard let directory = try? findDirectory(components, for: components.joined(separator: "/")) else { continue }
            var times = [timespec(tv_sec: time_t(time), tv_nsec: 0), timespec(tv_sec: time_t(time), tv_nsec: 0)]
            guard futimens(directory.fd, &times) == 0 else {
                let path = components.joined(separator: "/")
                throw ArchiveError.system("futimens", "cannot set the time of \(quoted(path))", path: path)
            }
        }
    }

    // MARK: - Walking the tree safely

    /// The directory at `components` below the root, or nil when it does not exist.
    private func findDirectory(_ components: [String], for entryPath: String) throws(ArchiveError) -> Descriptor? {
        try walk(components, creating: false, for: entryPath)
    }

    /// The directory at `components` below the root, made (0755, like Docker) where missing.
    private func ensureDirectory(_ components: [String], for entryPath: String) throws(ArchiveError) -> Descriptor {
        guard let directory = try walk(components, creating: true, for: entryPath) else {
            throw ArchiveError(.invalidEntry, "cannot extract archive entry \(quoted(entryPath)): its directory cannot be created", path: entryPath)
        }
        return directory
    }

    /// Opens the directory at `components` below the root, one component at a time with
    /// O_NOFOLLOW. A symlink on the way is refused: following it could lead anywhere,
    /// including out of the root.
    private func walk(_ components: [String], creating: Bool, for entryPath: String) throws(ArchiveError) -> Descriptor? {
        var current = root
        for index in components.indices {
            let component = components[index]
            var fd = openat(current.fd, component, openDirectoryFlags)
            if fd < 0 && errno == ENOENT && creating {
                guard mkdirat(current.fd, component, 0o755) == 0 || errno == EEXIST else {
                    let path = components[...index].joined(separator: "/")
                    throw ArchiveError.system("mkdirat", "cannot create directory \(quoted(path)) for archive entry \(quoted(entryPath))", path: entryPath)
                }
                fd = openat(current.fd, component, openDirectoryFlags)
                if fd >= 0 { fchmod(fd, 0o755) }  // independent of the process umask
                markAdded(Array(components[...index]))
            }
            guard fd >= 0 else {
                let code = errno
                let path = components[...index].joined(separator: "/")
                if code == ENOENT && !creating { return nil }
                if code == ELOOP || code == ENOTDIR {
                    if let st = try status(of: component, in: current.fd, path: path), isSymlink(st) {
                        throw ArchiveError.unsafe(entryPath, "\(quoted(path)) is a symbolic link, and extraction never follows a symlink in the tree it is writing (it could lead outside the root)")
                    }
                    throw ArchiveError(.invalidEntry, "cannot extract archive entry \(quoted(entryPath)): \(quoted(path)) exists and is not a directory", path: entryPath)
                }
                throw ArchiveError.system("openat", "cannot open directory \(quoted(path)) for archive entry \(quoted(entryPath))", path: entryPath, errno: code)
            }
            current = Descriptor(fd)
        }
        return current
    }

    /// Clears the way for a new entry called `name`: whatever is there is removed (a
    /// directory with all it holds), except a directory that a directory entry will update.
    private func replaceExisting(_ name: String, in parent: Descriptor, path: String, keepingDirectory: Bool) throws(ArchiveError) {
        guard let st = try status(of: name, in: parent.fd, path: path) else { return }
        if isDirectory(st) && keepingDirectory { return }
        try removeTree(name, in: parent.fd, path: path)
    }

    private func markAdded(_ components: [String]) {
        var path = components.joined(separator: "/")
        // Ancestors were added together with the first path below them; stop there.
        while !path.isEmpty, added.insert(path).inserted {
            guard let slash = path.lastIndex(of: "/") else { break }
            path = String(path[..<slash])
        }
    }

    // MARK: - Entries

    private func makeDirectory(_ entry: TarEntry, name: String, in parent: Descriptor, components: [String]) throws(ArchiveError) {
        let path = components.joined(separator: "/")
        try replaceExisting(name, in: parent, path: path, keepingDirectory: true)
        if mkdirat(parent.fd, name, 0o700) != 0 && errno != EEXIST {
            throw ArchiveError.system("mkdirat", "cannot create directory \(quoted(entry.path))", path: entry.path)
        }
        let fd = openat(parent.fd, name, openDirectoryFlags)
        guard fd >= 0 else {
            throw ArchiveError.system("openat", "cannot open directory \(quoted(entry.path))", path: entry.path)
        }
        let directory = Descriptor(fd)
        try applyMetadata(entry, to: .descriptor(directory.fd), path: path, settingTime: false)
        directoryTimes.append((components, entry.modificationTime))
    }

    private func writeFile(_ entry: TarEntry, name: String, in parent: Descriptor, path: String, from reader: TarReader) throws(ArchiveError) {
        // O_EXCL|O_NOFOLLOW: the name was just cleared, so anything there now is not ours.
        let fd = openat(parent.fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ArchiveError.system("openat", "cannot create file \(quoted(entry.path))", path: entry.path)
        }
        let file = Descriptor(fd)
        // Blocks come straight from libarchive's buffer, at their offsets: sparse entries
        // stay sparse, and nothing is copied on the way.
        while let block = try reader.nextDataBlock() {
            var done = 0
            while done < block.bytes.count {
                guard let base = block.bytes.baseAddress else { break }
                let count = pwrite(file.fd, base + done, block.bytes.count - done, off_t(block.offset) + off_t(done))
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else {
                    throw ArchiveError.system("pwrite", "cannot write file \(quoted(entry.path))", path: entry.path)
                }
                done += count
            }
        }
        guard ftruncate(file.fd, off_t(entry.size)) == 0 else {
            throw ArchiveError.system("ftruncate", "cannot write file \(quoted(entry.path))", path: entry.path)
        }
        try applyMetadata(entry, to: .descriptor(file.fd), path: path)
    }

    private func makeHardlink(_ entry: TarEntry, name: String, in parent: Descriptor, path: String) throws(ArchiveError) {
        guard let target = entry.linkTarget, let targetComponents = Self.components(of: target) else {
            throw ArchiveError.unsafe(entry.path, "its hardlink target \(quoted(entry.linkTarget ?? "")) climbs above the extraction root")
        }
        guard let targetName = targetComponents.last else {
            throw ArchiveError(.invalidEntry, "archive entry \(quoted(entry.path)) is a hardlink to the root directory", path: entry.path)
        }
        let targetPath = targetComponents.joined(separator: "/")
        if targetPath == path { return }  // a link to itself: already there
        let notFound = ArchiveError(.invalidEntry, "archive entry \(quoted(entry.path)) is a hardlink to \(quoted(target)), which is not in the layer (or below it)", path: entry.path)
        guard let targetParent = try findDirectory(Array(targetComponents.dropLast()), for: entry.path),
              let st = try status(of: targetName, in: targetParent.fd, path: targetPath)
        else { throw notFound }
        guard !isDirectory(st) else {
            throw ArchiveError(.invalidEntry, "archive entry \(quoted(entry.path)) is a hardlink to the directory \(quoted(target))", path: entry.path)
        }
        try replaceExisting(name, in: parent, path: path, keepingDirectory: false)
        // Flags 0: if the target is a symlink, link the symlink itself, never what it names.
        guard linkat(targetParent.fd, targetName, parent.fd, name, 0) == 0 else {
            throw ArchiveError.system("linkat", "cannot create hardlink \(quoted(entry.path)) to \(quoted(target))", path: entry.path)
        }
    }

    // MARK: - Whiteouts

    private func applyWhiteout(_ entry: TarEntry, name: String, in parentComponents: [String]) throws(ArchiveError) {
        if name == opaqueWhiteout {
            try applyOpaqueWhiteout(entry, directory: parentComponents)
            return
        }
        // Other ".wh..wh." names are AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs) that
        // Docker and containerd skip too.
        if name.hasPrefix(whiteoutPrefix + whiteoutPrefix) { return }
        let hidden = String(name.dropFirst(whiteoutPrefix.count))
        guard !hidden.isEmpty, hidden != ".", hidden != ".." else {
            throw ArchiveError.unsafe(entry.path, "it is a whiteout for \(quoted(hidden)), which is not a file name")
        }
        let hiddenComponents = parentComponents + [hidden]
        let hiddenPath = hiddenComponents.joined(separator: "/")
        if added.contains(hiddenPath) { return }
        switch mode {
        case .overlay:
            let parent = try ensureDirectory(parentComponents, for: entry.path)
            try replaceExisting(hidden, in: parent, path: hiddenPath, keepingDirectory: false)
            guard mknodat(parent.fd, hidden, mode_t(FileType.characterDevice), 0) == 0 else {
                throw ArchiveError.system("mknodat", "cannot create the overlay whiteout for \(quoted(entry.path))", path: entry.path)
            }
            var device = entry
            device.mode = 0
            device.xattrs = [:]
            try applyMetadata(device, to: .node(hidden, in: parent.fd), path: hiddenPath)
        case .apply:
            guard let parent = try findDirectory(parentComponents, for: entry.path) else { return }
            try removeTree(hidden, in: parent.fd, path: hiddenPath)
        }
    }

    private func applyOpaqueWhiteout(_ entry: TarEntry, directory components: [String]) throws(ArchiveError) {
        let directory = try ensureDirectory(components, for: entry.path)
        let path = components.joined(separator: "/")
        switch mode {
        case .overlay:
            try ExtendedAttributes.set("trusted.overlay.opaque", Array("y".utf8), on: .descriptor(directory.fd), path: path.isEmpty ? rootPath : path)
        case .apply:
            try removeLowerContent(of: directory, at: path)
        }
        markAdded(components)
    }

    /// Empties a directory of everything this layer did not add, recursing into the
    /// directories it did add: an opaque directory hides all of the lower layers below it.
    private func removeLowerContent(of directory: Descriptor, at path: String) throws(ArchiveError) {
        for name in try listDirectory(directory.fd, path: path.isEmpty ? rootPath : path) {
            let childPath = path.isEmpty ? name : path + "/" + name
            guard added.contains(childPath) else {
                try removeTree(name, in: directory.fd, path: childPath)
                continue
            }
            guard let st = try status(of: name, in: directory.fd, path: childPath), isDirectory(st) else { continue }
            let fd = openat(directory.fd, name, openDirectoryFlags)
            guard fd >= 0 else {
                throw ArchiveError.system("openat", "cannot open directory \(quoted(childPath))", path: childPath)
            }
            try removeLowerContent(of: Descriptor(fd), at: childPath)
        }
    }

    // MARK: - Metadata

    private enum Node {
        case descriptor(Int32)
        /// A node that is not opened: symlinks, devices, fifos.
        case node(String, in: Int32)
    }

    /// Owner, mode, extended attributes, then times — in that order, because changing the
    /// owner clears setuid/setgid bits and file capabilities, and every change but the
    /// last would otherwise be undone by the next.
    private func applyMetadata(_ entry: TarEntry, to node: Node, path: String, settingTime: Bool = true) throws(ArchiveError) {
        let owned: Int32 = switch node {
        case .descriptor(let fd): fchown(fd, entry.uid, entry.gid)
        case .node(let name, let parent): fchownat(parent, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW)
        }
        guard owned == 0 else {
            throw ArchiveError.system("chown", "cannot set the owner of \(quoted(entry.path)) to \(entry.uid):\(entry.gid)", path: entry.path)
        }
        if entry.kind != .symlink {  // a symlink's mode is fixed by Linux
            let changed: Int32 = switch node {
            case .descriptor(let fd): fchmod(fd, mode_t(entry.mode & 0o7777))
            // NOFOLLOW although the node was created a moment ago: should anything have
            // swapped it for a symlink since, this fails instead of changing the target.
            case .node(let name, let parent): fchmodat(parent, name, mode_t(entry.mode & 0o7777), AT_SYMLINK_NOFOLLOW)
            }
            guard changed == 0 else {
                throw ArchiveError.system("chmod", "cannot set the mode of \(quoted(entry.path))", path: entry.path)
            }
        }
        for name in entry.xattrs.keys.sorted() where !ExtendedAttributes.isOverlayPrivate(name) {
            let target: ExtendedAttributes.Target = switch node {
            case .descriptor(let fd): .descriptor(fd)
            case .node(let nodeName, let parent): .node(nodeName, in: parent)
            }
            do throws(ArchiveError) {
                try ExtendedAttributes.set(name, entry.xattrs[name] ?? [], on: target, path: entry.path)
            } catch {
                // A namespace this file system or file type does not take (user.* on a
                // symlink, a macOS com.apple.* name): skipped, as Docker does.
                if let call = error.underlying as? ArchiveError.SystemCall, call.errno == ENOTSUP || call.errno == EPERM { continue }
                throw error
            }
        }
        guard settingTime else { return }
        var times = [timespec(tv_sec: time_t(entry.modificationTime), tv_nsec: 0), timespec(tv_sec: time_t(entry.modificationTime), tv_nsec: 0)]
        let timed: Int32 = switch node {
        case .descriptor(let fd): futimens(fd, &times)
        case .node(let name, let parent): utimensat(parent, name, &times, AT_SYMLINK_NOFOLLOW)
        }
        guard timed == 0 else {
            throw ArchiveError.system("utimensat", "cannot set the time of \(quoted(entry.path))", path: entry.path)
        }
    }
}
