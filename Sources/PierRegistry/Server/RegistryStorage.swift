import Foundation
import PierOCI
import PierStore
import Synchronization

/// The registry's files under one directory:
///
///     <storage>/content/blobs/sha256/<hex>              every blob and manifest, content-addressed
///     <storage>/content/ingest/<uuid>                   uploads in progress (invisible until verified)
///     <storage>/repositories/<name>/_layers/<hex>       the blobs a repository may serve (links)
///     <storage>/repositories/<name>/_manifests/revisions/<hex>   manifests of the repository;
///                                                       the file holds the manifest's media type
///     <storage>/repositories/<name>/_manifests/tags/<tag>        the digest a tag points at
///     <storage>/repositories/<name>/_referrers/<subject-hex>/<hex>  manifests whose subject is <subject>
///
/// Blobs go through PierStore's `ContentStore`: hashed while written to `ingest/`, renamed into
/// place only when the digest matches, so a half-uploaded or corrupt blob is never visible and two
/// clients pushing the same blob at once both end with the same, whole file. Repository links are
/// written after the blob exists, and a manifest only after everything it names is linked.
///
/// All methods block on file I/O; call them off the event loops.
public final class RegistryStorage: Sendable {
    public let root: String
    public let content: ContentStore
    let repositoriesDirectory: String
    /// Held shared by anything that links content into a repository, exclusively by garbage
    /// collection, so a collection never sweeps a blob between a push's check and its link.
    let collectionLock = ReadWriteLock()

    public init(root: String) throws(RegistryError) {
        self.root = root
        do {
            content = try ContentStore(root: root + "/content")
        } catch {
            throw RegistryError(.storage, "cannot open registry storage \(root)", cause: error)
        }
        repositoriesDirectory = root + "/repositories"
        try Files.makeDirectory(repositoriesDirectory)
    }

    // MARK: paths

    func repositoryPath(_ name: RepositoryName) -> String { "\(repositoriesDirectory)/\(name.value)" }
    func layerLink(_ name: RepositoryName, _ digest: Digest) -> String { "\(repositoryPath(name))/_layers/\(digest.encoded)" }
    func revisionLink(_ name: RepositoryName, _ digest: Digest) -> String {
        "\(repositoryPath(name))/_manifests/revisions/\(digest.encoded)"
    }
    func tagsDirectory(_ name: RepositoryName) -> String { "\(repositoryPath(name))/_manifests/tags" }
    func tagFile(_ name: RepositoryName, _ tag: String) -> String { "\(tagsDirectory(name))/\(tag)" }
    func referrersDirectory(_ name: RepositoryName, _ subject: Digest) -> String {
        "\(repositoryPath(name))/_referrers/\(subject.encoded)"
    }

    // MARK: blobs

    /// Whether `digest` may be served from repository `name`: the blob exists and is linked
    /// there (as a layer or config, or as one of its manifests).
    public func hasBlob(_ name: RepositoryName, _ digest: Digest) -> Bool {
        guard content.contains(digest) else { return false }
        return Files.exists(layerLink(name, digest)) || Files.exists(revisionLink(name, digest))
    }

    public func blobSize(_ digest: Digest) -> Int64? { content.size(of: digest) }

    public func blobPath(_ digest: Digest) -> String { content.path(for: digest) }

    /// Makes an existing blob part of a repository.
    public func linkBlob(_ name: RepositoryName, _ digest: Digest) throws(RegistryError) {
        try collectionLock.withReadLock { () throws(RegistryError) in
            guard content.contains(digest) else {
                throw RegistryError(.blobUnknown, "blob \(digest) is not in the registry")
            }
            Files.touch(content.path(for: digest))
            try Files.writeAtomically([], to: layerLink(name, digest))
        }
    }

    /// Removes a blob from a repository; the bytes go at the next garbage collection.
    public func unlinkBlob(_ name: RepositoryName, _ digest: Digest) throws(RegistryError) {
        guard Files.exists(layerLink(name, digest)) else {
            throw RegistryError(.blobUnknown, "blob \(digest) is not in repository \(name)")
        }
        unlink(layerLink(name, digest))
    }

    // MARK: manifests

    public struct StoredManifest: Sendable {
        public let digest: Digest
        public let mediaType: String
        public let size: Int64
    }

    public func repositoryExists(_ name: RepositoryName) -> Bool {
        Files.exists(repositoryPath(name) + "/_manifests") || Files.exists(repositoryPath(name) + "/_layers")
    }

    /// The manifest a tag or digest names in a repository.
    public func manifest(_ name: RepositoryName, _ reference: ManifestReference) throws(RegistryError) -> StoredManifest {
        let digest: Digest
        switch reference {
        case .digest(let value):
            digest = value
        case .tag(let tag):
            guard let bytes = try? Files.read(tagFile(name, tag)),
                  let value = try? Digest(parsing: String(decoding: bytes, as: UTF8.self)) else {
                throw RegistryError(.manifestUnknown, "manifest unknown: \(name):\(tag) does not exist")
            }
            digest = value
        }
        guard let typeBytes = try? Files.read(revisionLink(name, digest)), let size = content.size(of: digest) else {
            throw RegistryError(.manifestUnknown, "manifest unknown: \(name)@\(digest) does not exist")
        }
        return StoredManifest(digest: digest, mediaType: String(decoding: typeBytes, as: UTF8.self), size: size)
    }

    /// Stores a verified manifest and links it (and its tag, and its subject's referrers list).
    /// `check` runs under the collection lock, after the manifest's blobs have been touched.
    public func putManifest(_ name: RepositoryName, bytes: [UInt8], mediaType: String, tag: String?,
                            subject: Digest?, check: () throws(RegistryError) -> Void) throws(RegistryError) -> Digest {
        try collectionLock.withReadLock { () throws(RegistryError) -> Digest in
            try check()
            let digest: Digest
            do {
                digest = try content.put(bytes)
            } catch {
                throw RegistryError(.storage, "cannot store manifest", cause: error)
            }
            try Files.writeAtomically(Array(mediaType.utf8), to: revisionLink(name, digest))
            if let subject {
                try Files.writeAtomically([], to: referrersDirectory(name, subject) + "/" + digest.encoded)
            }
            if let tag {
                try Files.writeAtomically(Array(digest.description.utf8), to: tagFile(name, tag))
            }
            return digest
        }
    }

    /// Deletes a tag, or a manifest with every tag that points at it.
    public func deleteManifest(_ name: RepositoryName, _ reference: ManifestReference) throws(RegistryError) {
        switch reference {
        case .tag(let tag):
            guard Files.exists(tagFile(name, tag)) else {
                throw RegistryError(.manifestUnknown, "manifest unknown: \(name):\(tag) does not exist")
            }
            unlink(tagFile(name, tag))
        case .digest(let digest):
            guard Files.exists(revisionLink(name, digest)) else {
                throw RegistryError(.manifestUnknown, "manifest unknown: \(name)@\(digest) does not exist")
            }
            for tag in tags(name) where (try? manifest(name, .tag(tag)))?.digest == digest {
                unlink(tagFile(name, tag))
            }
            // A referrer disappears from its subject's list with it.
            if let document = try? content.readJSON(ManifestSubjectProbe.self, digest), let subject = document.subject {
                unlink(referrersDirectory(name, subject.digest) + "/" + digest.encoded)
            }
            unlink(revisionLink(name, digest))
        }
    }

    /// Tags of a repository, sorted.
    public func tags(_ name: RepositoryName) -> [String] {
        Files.list(tagsDirectory(name)).filter { TagName.isValid($0) }.sorted()
    }

    /// Manifests whose `subject` is `digest`.
    public func referrers(_ name: RepositoryName, _ subject: Digest) -> [Digest] {
        Files.list(referrersDirectory(name, subject)).compactMap { try? Digest.sha256(hex: $0) }
            .filter { Files.exists(revisionLink(name, $0)) }
            .sorted()
    }

    /// Every repository that has content, sorted.
    public func repositories() -> [RepositoryName] {
        var result: [RepositoryName] = []
        func walk(_ relative: String) {
            let path = relative.isEmpty ? repositoriesDirectory : "\(repositoriesDirectory)/\(relative)"
            let children = Files.list(path)
            if children.contains("_manifests") || children.contains("_layers"),
               let name = try? RepositoryName(relative) {
                result.append(name)
            }
            for child in children where !child.hasPrefix("_") && !child.hasPrefix(".") {
                walk(relative.isEmpty ? child : "\(relative)/\(child)")
            }
        }
        walk("")
        return result.sorted()
    }

    /// Manifest digests linked in a repository.
    func revisions(_ name: RepositoryName) -> [(Digest, String)] {
        let directory = repositoryPath(name) + "/_manifests/revisions"
        return Files.list(directory).compactMap { hex in
            guard let digest = try? Digest.sha256(hex: hex), let type = try? Files.read("\(directory)/\(hex)") else { return nil }
            return (digest, String(decoding: type, as: UTF8.self))
        }
    }

    func layerLinks(_ name: RepositoryName) -> [Digest] {
        Files.list(repositoryPath(name) + "/_layers").compactMap { try? Digest.sha256(hex: $0) }
    }
}

/// Just enough of a manifest to find its subject.
struct ManifestSubjectProbe: Decodable {
    var subject: Descriptor?
}

/// pthread's read-write lock, for blocking threads.
final class ReadWriteLock: @unchecked Sendable {
    // pthread_rwlock_t must not move: it lives in its own allocation.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func withReadLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func withWriteLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}

/// Small POSIX helpers: atomic replacement (temp file, fsync, rename) and listing.
enum Files {
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func makeDirectory(_ path: String) throws(RegistryError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RegistryError(.storage, "cannot create directory \(path)", cause: error as NSError)
        }
    }

    static func read(_ path: String) throws(RegistryError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RegistryError(.storage, "cannot read \(path)")
        }
        return [UInt8](data)
    }

    /// The store's durable replacement (temp file, fsync, rename, directory fsync).
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(RegistryError) {
        try makeDirectory((path as NSString).deletingLastPathComponent)
        do {
            try FileSystem.writeAtomically(bytes, to: path)
        } catch {
            throw RegistryError(.storage, error.description)
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    static func list(_ path: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }

    static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Sets a file's modification time to now (blobs a push has just relied on).
    static func touch(_ path: String) {
        utimes(path, nil)
    }

    static func modificationTime(_ path: String) -> Double? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }

}
