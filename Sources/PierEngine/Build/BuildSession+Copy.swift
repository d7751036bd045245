import Crypto
import Foundation
import PierAPI
import PierArchive
import PierDockerfile
import PierOCI
import PierRuntime

/// COPY or ADD, as the builder needs it.
struct CopyRequest {
    var keyword: String
    var sources: [String]
    var inlineFiles: [InlineFile]
    var destination: String
    var from: String?
    var chown: String?
    var chmod: String?
    var unpacksArchives: Bool
    var exclude: [String]
    /// `ADD --checksum` for URL sources.
    var checksum: String? = nil
    /// `COPY --parents`: each source keeps its path (from a `/./` in it on) under the destination.
    var parents = false
    /// `ADD --keep-git-dir`: a Git source keeps its `.git`.
    var keepGitDirectory = false
}

/// Where COPY reads: the build context (with its .dockerignore) or another stage's or image's
/// root filesystem (mounted read-only for the step).
struct SourceTree {
    var root: String
    var ignore: DockerIgnore?
    var mountPoint: String?

    func isExcluded(_ relative: String) -> Bool { ignore?.isExcluded(relative) ?? false }
}

/// One file or directory a COPY names, found in its source tree.
struct SourceMatch {
    var host: String
    var relative: String
    var info: stat
    var isDirectory: Bool { info.st_mode & S_IFMT == S_IFDIR }
}

/// A source below a match, relative to the match (`""` is the match itself).
struct SourceEntry {
    var inner: String
    var host: String
    var info: stat
}

/// COPY/ADD: the layer is built straight from the sources in a staging directory (no
/// container); the step's cache key holds a digest of the sources' content and metadata.
extension BuildSession {
    func copyStep(_ request: CopyRequest, line: Int, run: inout StageRun) throws {
        let environment = run.environment
        let lexer = ShellLexer(escape: escape)
        func expand(_ word: String) throws -> String {
            do { return try lexer.expand(word, environment: environment) } catch {
                throw stepError(line, error.message)
            }
        }
        let lowerDirs = run.state.layers.reversed().map { store.snapshots.filesystemPath($0.chainID) }
        var tree = SourceTree(root: contextDirectory, ignore: ignore)
        var flags = ""
        if let from = request.from {
            let name = try expand(from)
            flags += "--from=\(name) "
            let state: BuildState
            if let index = stageIndex(name) {
                guard let result = shared.result(index) else {
                    throw stepError(line, "COPY --from=\(name): the stage has not been built (is it a later stage?)")
                }
                state = result
            } else {
                state = try imageState(name, line: line, instruction: "COPY --from=\(name):").state
            }
            tree = try mountTree(state)
        }
        defer {
            if let mountPoint = tree.mountPoint {
                umount2(mountPoint, Int32(MNT_DETACH))
                rmdir(mountPoint)
            }
        }
        if let chown = request.chown { flags += "--chown=\(try expand(chown)) " }
        if let chmod = request.chmod { flags += "--chmod=\(try expand(chmod)) " }
        if request.parents { flags += "--parents " }
        let excludes = request.exclude.isEmpty ? nil : try DockerIgnore(patterns: request.exclude.map(expand))

        var matches: [SourceMatch] = []
        var downloaded: Set<Int> = []   // indexes of matches fetched from URLs: never unpacked
        var keptPaths: [Int: String] = [:]   // COPY --parents: index of a match → its path under the destination
        var gitTrees: [Int: SourceTree] = [:]   // ADD of a Git URL: index of a match → its checkout
        for source in request.sources {
            let expanded = try expand(source)
            // A Git repository (`https://host/repo.git#ref:dir`, `git://…`, `git@…`; not `github.com/…`,
            // which may be a directory of the context): its checkout, fetched on every build.
            if !expanded.hasPrefix("github.com/"), let remote = GitContextURL(expanded) {
                guard request.keyword == "ADD" else {
                    throw stepError(line, "COPY \(expanded): COPY cannot fetch Git repositories; use ADD")
                }
                let directory = try checkOutGit(remote, into: try makeScratchDirectory("git"), label: "Dockerfile:\(line): ADD \(expanded)",
                                                keepGitDirectory: request.keepGitDirectory)
                var info = stat()
                lstat(directory, &info)
                matches.append(SourceMatch(host: directory, relative: "", info: info))
                gitTrees[matches.count - 1] = SourceTree(root: directory)
                continue
            }
            if expanded.hasPrefix("http://") || expanded.hasPrefix("https://") {
                guard request.keyword == "ADD" else {
                    throw stepError(line, "COPY \(expanded): COPY cannot fetch URLs; use ADD")
                }
                matches.append(try download(expanded, checksum: try request.checksum.map(expand), line: line))
                downloaded.insert(matches.count - 1)
                continue
            }
            let relative = try treeRelative(expanded, line: line)
            let dropped = request.parents ? try parentsPivotDepth(expanded, line: line) : 0
            let found = BuildSession.hasGlob(relative) ? globMatches(relative, in: tree)
                                                       : exactMatch(relative, in: tree, fromContext: request.from == nil)
            guard !found.isEmpty else {
                throw missingSource(expanded, relative: relative, keyword: request.keyword, from: request.from == nil ? nil : tree,
                                    line: line)
            }
            if request.parents {
                for (offset, match) in found.enumerated() {
                    keptPaths[matches.count + offset] = match.relative.split(separator: "/").dropFirst(dropped).joined(separator: "/")
                }
            }
            matches += found
        }
        let inline = try request.inlineFiles.map { file in
            (name: file.name, content: file.expand ? try expand(file.content) : file.content)
        }

        let rawDestination = try expand(request.destination)
        let workingDirectory = run.config.WorkingDir ?? "/"
        // Symlinks on the way are followed inside the image, so a layer never shadows a linked directory.
        let destination = LayeredPath.resolve(
            rawDestination.hasPrefix("/") ? rawDestination : workingDirectory + "/" + rawDestination, in: lowerDirs)
        let count = matches.count + inline.count
        if count > 1, !rawDestination.hasSuffix("/") {
            throw stepError(line, "When using \(request.keyword) with more than one source file, "
                            + "the destination must be a directory and end with a /")
        }
        let existing = LayeredPath.stat(destination, in: lowerDirs)
        let intoDirectory = rawDestination.hasSuffix("/") || rawDestination == "." || count > 1 || request.parents
            || existing.map { $0.st_mode & S_IFMT == S_IFDIR } == true

        // The digest of everything the layer will hold, for the cache key.
        var hasher = SHA256()
        func feed(_ text: String) { hasher.update(data: Array(text.utf8)) }
        var plans: [(match: SourceMatch, target: String, unpack: Bool, entries: [SourceEntry])] = []
        for (index, match) in matches.enumerated() {
            let unpack = request.unpacksArchives && !downloaded.contains(index) && !match.isDirectory
                && BuildSession.isArchive(match.host)
            let target: String
            if let kept = keptPaths[index] {
                target = kept.isEmpty ? destination : BuildSession.join(destination, kept)
            } else {
                target = match.isDirectory || unpack ? destination
                    : intoDirectory ? BuildSession.join(destination, (match.relative as NSString).lastPathComponent) : destination
            }
            let entries = try walk(match, tree: gitTrees[index] ?? tree, excludes: excludes)
            feed("\(target)\u{0}\(unpack ? "archive" : "tree")\n")
            for entry in entries { try hashEntry(entry, into: &hasher) }
            plans.append((match, target, unpack, entries))
        }
        for file in inline {
            let target = intoDirectory ? BuildSession.join(destination, file.name) : destination
            feed("\(target)\u{0}inline\u{0}\(file.content.utf8.count)\n\(file.content)")
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        let kind = count == 1 ? (matches.first?.isDirectory == true ? "dir" : "file") : "multi"
        let createdBy = nop("\(request.keyword) \(flags)\(kind):\(digest) in \(rawDestination.hasPrefix("/") ? rawDestination : destination) ")

        try commitStep(&run, createdBy: createdBy, layer: true) { state in
            let owner = try resolveOwner(request.chown.map(expand), lowerDirs: lowerDirs, line: line)
            let mode = try request.chmod.map { text throws -> mode_t in
                guard let value = mode_t(try expand(text), radix: 8), value <= 0o7777 else {
                    throw stepError(line, "invalid chmod parameter \(text): use an octal mode such as 0755")
                }
                return value
            }
            let staging = try makeScratchDirectory("layer")
            var stager = LayerStaging(root: staging, lowerDirs: lowerDirs, owner: owner, mode: mode)
            for plan in plans {
                if plan.unpack {
                    try stager.makeDirectory(plan.target)
                    _ = try LayerExtractor.extract(from: .path(plan.match.host), into: staging + plan.target, mode: .apply)
                } else if plan.match.isDirectory {
                    try stager.makeDirectory(plan.target)
                    for entry in plan.entries where !entry.inner.isEmpty {
                        try stager.place(entry, at: BuildSession.join(plan.target, entry.inner))
                    }
                } else if let entry = plan.entries.first {
                    try stager.makeDirectory((plan.target as NSString).deletingLastPathComponent)
                    try stager.place(entry, at: plan.target)
                }
            }
            for file in inline {
                let target = intoDirectory ? BuildSession.join(destination, file.name) : destination
                try stager.makeDirectory((target as NSString).deletingLastPathComponent)
                try stager.write(Array(file.content.utf8), at: target)
            }
            stager.finish()
            let committed = try builder.transfer.commitLayer(directory: staging, parentChainID: state.layers.last?.chainID,
                                                             overlayUpper: false, token: token,
                                                             sourceDateEpoch: sourceDateEpoch)
            state.layers.append(BuildLayer(descriptor: committed.descriptor, diffID: committed.diffID,
                                           chainID: committed.chainID, unpackedSize: committed.unpackedSize))
            state.config.rootfs.diff_ids.append(committed.diffID)
            try? FileManager.default.removeItem(atPath: staging)
        }
    }

    /// How many leading components of a `COPY --parents` source's matches are not kept: those
    /// before a `.` component inside it (`src/./app/main.py` keeps `app/main.py`), else none
    /// (a leading `./` is the context itself).
    func parentsPivotDepth(_ source: String, line: Int) throws -> Int {
        let components = source.split(separator: "/")
        guard let pivot = components.indices.last(where: { $0 > 0 && components[$0] == "." }) else { return 0 }
        let prefix = try treeRelative(components[..<pivot].joined(separator: "/"), line: line)
        guard !BuildSession.hasGlob(prefix) else {
            throw stepError(line, "COPY --parents \(source): the part before \"/./\" cannot hold wildcards")
        }
        return prefix.split(separator: "/").count
    }

    /// A source path relative to its tree; refuses one that climbs out.
    func treeRelative(_ source: String, line: Int) throws -> String {
        var parts: [Substring] = []
        for part in source.split(separator: "/") where part != "." {
            if part == ".." {
                guard !parts.isEmpty else { throw stepError(line, "forbidden path outside the build context: \(source)") }
                parts.removeLast()
            } else {
                parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }

    func missingSource(_ source: String, relative: String, keyword: String, from tree: SourceTree?, line: Int) -> EngineError {
        if tree != nil {
            return stepError(line, "\(keyword) source \"\(source)\" not found in the --from stage or image")
        }
        if ignore?.isExcluded(relative) == true {
            return stepError(line, "\(keyword) source \"\(source)\" not found in build context: it is excluded by .dockerignore")
        }
        return stepError(line, "\(keyword) source \"\(source)\" not found in build context")
    }

    func exactMatch(_ relative: String, in tree: SourceTree, fromContext: Bool) -> [SourceMatch] {
        guard let host = BuildSession.resolve(relative, inside: tree.root) else { return [] }
        var info = stat()
        guard lstat(host, &info) == 0 else { return [] }
        if !relative.isEmpty, tree.isExcluded(relative), !(info.st_mode & S_IFMT == S_IFDIR && tree.ignore?.hasExceptions == true) {
            return []
        }
        return [SourceMatch(host: host, relative: relative, info: info)]
    }

    /// Paths of the tree matching a pattern component by component (Go's filepath.Match rules).
    func globMatches(_ pattern: String, in tree: SourceTree) -> [SourceMatch] {
        var current: [String] = [""]
        for component in pattern.split(separator: "/").map(String.init) {
            var next: [String] = []
            for directory in current {
                let host = directory.isEmpty ? tree.root : tree.root + "/" + directory
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: host)) ?? []).sorted()
                for name in names where fnmatch(component, name, 0) == 0 {
                    let relative = directory.isEmpty ? name : directory + "/" + name
                    if !tree.isExcluded(relative) { next.append(relative) }
                }
            }
            current = next
        }
        return current.compactMap { relative in
            var info = stat()
            guard let host = BuildSession.resolve(relative, inside: tree.root), lstat(host, &info) == 0 else { return nil }
            return SourceMatch(host: host, relative: relative, info: info)
        }
    }

    static func hasGlob(_ path: String) -> Bool { path.contains { "*?[".contains($0) } }

    /// Everything below a match, in byte order, without what .dockerignore or --exclude leave out.
    func walk(_ match: SourceMatch, tree: SourceTree, excludes: DockerIgnore?) throws -> [SourceEntry] {
        var entries = [SourceEntry(inner: "", host: match.host, info: match.info)]
        guard match.isDirectory else { return entries }
        func visit(_ inner: String) throws {
            let host = inner.isEmpty ? match.host : match.host + "/" + inner
            let names = try FileManager.default.contentsOfDirectory(atPath: host).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for name in names {
                let path = inner.isEmpty ? name : inner + "/" + name
                let relative = match.relative.isEmpty ? path : match.relative + "/" + path
                var info = stat()
                guard lstat(host + "/" + name, &info) == 0 else { continue }
                let isDirectory = info.st_mode & S_IFMT == S_IFDIR
                let excluded = tree.isExcluded(relative) || excludes?.isExcluded(path) == true
                if excluded {
                    if isDirectory, tree.ignore?.hasExceptions == true, !(tree.ignore?.canSkipDirectory(relative) ?? true) {
                        try visit(path)
                    }
                    continue
                }
                entries.append(SourceEntry(inner: path, host: host + "/" + name, info: info))
                if isDirectory { try visit(path) }
            }
        }
        try visit("")
        return entries
    }

    func hashEntry(_ entry: SourceEntry, into hasher: inout SHA256) throws {
        let type = entry.info.st_mode & S_IFMT
        var header = "\(entry.inner)\u{0}\(type)\u{0}\(entry.info.st_mode & 0o7777)\u{0}"
        if type == S_IFLNK {
            header += (try? FileManager.default.destinationOfSymbolicLink(atPath: entry.host)) ?? ""
        } else if type == S_IFREG {
            header += "\(entry.info.st_size)"
        }
        hasher.update(data: Array((header + "\n").utf8))
        guard type == S_IFREG else { return }
        let fd = open(entry.host, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw EngineError(.invalidArgument, "cannot read \(entry.host): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    /// `user[:group]`, names looked up in the image's /etc/passwd and /etc/group; without a
    /// group, the gid is the uid (Docker's rule for --chown).
    func resolveOwner(_ spec: String?, lowerDirs: [String], line: Int) throws -> (uid: UInt32, gid: UInt32) {
        guard let spec, !spec.isEmpty else { return (0, 0) }
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        let rootfs = LayeredRootfs(layers: lowerDirs)
        do {
            let user = try UserLookup.resolve(parts[0], in: rootfs)
            guard parts.count > 1 else { return (user.uid, user.uid) }
            let group = try UserLookup.resolve("0:\(parts[1])", in: rootfs)
            return (user.uid, group.gid)
        } catch {
            throw stepError(line, "--chown=\(spec): \(error.message)")
        }
    }

    /// Mounts a stage's or image's layers read-only for COPY --from.
    func mountTree(_ state: BuildState) throws -> SourceTree {
        let dirs = state.layers.reversed().map { store.snapshots.filesystemPath($0.chainID) }
        if dirs.isEmpty { return SourceTree(root: builder.root + "/empty") }
        if dirs.count == 1 { return SourceTree(root: dirs[0]) }
        let mountPoint = try makeScratchDirectory("from")
        let options = "lowerdir=" + dirs.joined(separator: ":")
        guard mount("overlay", mountPoint, "overlay", UInt(MS_RDONLY), options) == 0 else {
            throw EngineError(.internalError, "cannot mount the source stage for COPY --from: \(String(cString: strerror(errno)))")
        }
        return SourceTree(root: mountPoint, mountPoint: mountPoint)
    }

    /// A tar, possibly compressed, that ADD unpacks.
    static func isArchive(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 512)) ?? Data())
        if head.starts(with: [0x1f, 0x8b]) || head.starts(with: Array("BZh".utf8)) || head.starts(with: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])
            || head.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) {
            return true
        }
        return head.count >= 262 && Array(head[257..<262]) == Array("ustar".utf8)
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory == "/" ? "/" + name : directory + "/" + name
    }
}

/// Builds a COPY layer's directory: sources copied in with their content, mode and times, owned
/// by the --chown owner (root otherwise); parent directories carry the image's metadata.
struct LayerStaging {
    let root: String
    let lowerDirs: [String]
    let owner: (uid: UInt32, gid: UInt32)
    let mode: mode_t?
    /// Directories whose metadata is set last (adding entries changes a directory's mtime).
    var directories: [(path: String, mode: mode_t, uid: UInt32, gid: UInt32, mtime: timespec?)] = []
    var made: Set<String> = ["/"]

    init(root: String, lowerDirs: [String], owner: (uid: UInt32, gid: UInt32), mode: mode_t?) {
        self.root = root
        self.lowerDirs = lowerDirs
        self.owner = owner
        self.mode = mode
    }

    /// Makes `path` and its parents: as they are in the image when they exist, else 0755 owned
    /// by the --chown owner.
    mutating func makeDirectory(_ path: String) throws {
        let clean = BuildSession.cleanAbsolute(path)
        guard !made.contains(clean) else { return }
        try makeDirectory((clean as NSString).deletingLastPathComponent)
        made.insert(clean)
        var info = stat()
        if Glibc.lstat(root + clean, &info) == 0 { return }
        guard mkdir(root + clean, 0o755) == 0 else {
            throw EngineError(.internalError, "cannot create \(clean) for the layer: \(String(cString: strerror(errno)))")
        }
        if let existing = LayeredPath.stat(clean, in: lowerDirs), existing.st_mode & S_IFMT == S_IFDIR {
            directories.append((clean, existing.st_mode & 0o7777, existing.st_uid, existing.st_gid, existing.st_mtim))
        } else {
            directories.append((clean, 0o755, owner.uid, owner.gid, nil))
        }
    }

    mutating func place(_ entry: SourceEntry, at target: String) throws {
        let path = root + target
        let type = entry.info.st_mode & S_IFMT
        let permissions = mode ?? (entry.info.st_mode & 0o7777)
        switch type {
        case S_IFDIR:
            made.insert(BuildSession.cleanAbsolute(target))
            var info = stat()
            if Glibc.lstat(path, &info) != 0, mkdir(path, 0o755) != 0 {
                throw EngineError(.internalError, "cannot create \(target) for the layer: \(String(cString: strerror(errno)))")
            }
            directories.append((path: BuildSession.cleanAbsolute(target), mode: permissions, uid: owner.uid, gid: owner.gid,
                                mtime: entry.info.st_mtim))
        case S_IFREG:
            unlink(path)
            let source = open(entry.host, O_RDONLY | O_CLOEXEC)
            guard source >= 0 else { throw EngineError(.invalidArgument, "cannot read \(entry.host): \(String(cString: strerror(errno)))") }
            defer { close(source) }
            let destination = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard destination >= 0 else {
                throw EngineError(.internalError, "cannot write \(target) for the layer: \(String(cString: strerror(errno)))")
            }
            defer { close(destination) }
            try LayerStaging.copyData(from: source, to: destination, name: target)
            fchown(destination, owner.uid, owner.gid)
            fchmod(destination, permissions)
            var times = [entry.info.st_mtim, entry.info.st_mtim]
            futimens(destination, &times)
        case S_IFLNK:
            unlink(path)
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: entry.host)) ?? ""
            guard symlink(target, path) == 0 else {
                throw EngineError(.internalError, "cannot create the link \(path): \(String(cString: strerror(errno)))")
            }
            lchown(path, owner.uid, owner.gid)
            var times = [entry.info.st_mtim, entry.info.st_mtim]
            utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
        default:
            break   // sockets, fifos and devices have no place in a build context
        }
    }

    func write(_ bytes: [UInt8], at target: String) throws {
        let path = root + target
        unlink(path)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw EngineError(.internalError, "cannot write \(target) for the layer")
        }
        chown(path, owner.uid, owner.gid)
        chmod(path, mode ?? 0o644)
    }

    /// Sets directory metadata, deepest first.
    func finish() {
        for directory in directories.reversed() {
            let path = root + directory.path
            chown(path, directory.uid, directory.gid)
            chmod(path, directory.mode)
            if let mtime = directory.mtime {
                var times = [mtime, mtime]
                utimensat(AT_FDCWD, path, &times, 0)
            }
        }
    }

    static func copyData(from source: Int32, to destination: Int32, name: String) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw EngineError(.internalError, "cannot read \(name): \(String(cString: strerror(errno)))") }
            if n == 0 { return }
            var offset = 0
            while offset < n {
                let written = buffer.withUnsafeBytes { Glibc.write(destination, $0.baseAddress! + offset, n - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw EngineError(.internalError, "cannot write \(name): \(String(cString: strerror(errno)))")
                }
                offset += written
            }
        }
    }
}

extension BuildSession {
    /// The host path of `relative` inside `root`, following symlinks as if `root` were `/`: a
    /// link in the context or in a --from stage can never reach the host's files. Nil when a
    /// component is missing.
    static func resolve(_ relative: String, inside root: String) -> String? {
        var pending = relative.split(separator: "/").map(String.init)
        var resolved: [String] = []
        var links = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component == "." || component.isEmpty { continue }
            if component == ".." { _ = resolved.popLast(); continue }
            let host = root + "/" + (resolved + [component]).joined(separator: "/")
            var info = stat()
            guard lstat(host, &info) == 0 else { return nil }
            if info.st_mode & S_IFMT == S_IFLNK {
                links += 1
                guard links <= 40, let target = try? FileManager.default.destinationOfSymbolicLink(atPath: host) else { return nil }
                if target.hasPrefix("/") { resolved = [] }
                pending = target.split(separator: "/").map(String.init) + pending
                continue
            }
            resolved.append(component)
        }
        return resolved.isEmpty ? root : root + "/" + resolved.joined(separator: "/")
    }
}
