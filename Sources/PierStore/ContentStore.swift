import struct Crypto.SHA256
import Foundation
import PierOCI

/// Content-addressed blobs under `<root>/blobs/sha256/<hex>`.
///
/// New content is written to `<root>/ingest/`, hashed while it streams in, and renamed into
/// place only once its digest (and size, when known) match what was promised, so a blob
/// that exists is always complete and correct — also after a crash mid-write.
public final class ContentStore: Sendable {
    public let root: String
    let blobsDirectory: String
    let ingestDirectory: String

    public init(root: String) throws(StoreError) {
        self.root = root
        self.blobsDirectory = root + "/blobs/sha256"
        self.ingestDirectory = root + "/ingest"
        try FileSystem.makeDirectory(blobsDirectory)
        try FileSystem.makeDirectory(ingestDirectory)
    }

    public func path(for digest: Digest) -> String {
        "\(blobsDirectory)/\(digest.encoded)"
    }

    public func contains(_ digest: Digest) -> Bool {
        digest.algorithm == "sha256" && FileSystem.exists(path(for: digest))
    }

    public func size(of digest: Digest) -> Int64? {
        FileSystem.fileSize(path(for: digest))
    }

    /// Reads a small blob (a manifest, index or config) whole.
    public func read(_ digest: Digest) throws(StoreError) -> [UInt8] {
        guard contains(digest) else {
            throw StoreError(.notFound, "blob \(digest) not found in the content store")
        }
        return try FileSystem.readAll(path(for: digest))
    }

    /// Decodes a JSON blob.
    public func readJSON<T: Decodable>(_ type: T.Type, _ digest: Digest) throws(StoreError) -> T {
        let bytes = try read(digest)
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw StoreError(.invalidContent, "blob \(digest) is not a valid \(T.self): \(error)")
        }
    }

    /// Starts a new streaming write.
    public func makeWriter() throws(StoreError) -> BlobWriter {
        try BlobWriter(store: self)
    }

    /// Stores small bytes (JSON documents) and returns their digest.
    @discardableResult
    public func put(_ bytes: [UInt8], expected: Digest? = nil) throws(StoreError) -> Digest {
        let writer = try makeWriter()
        bytes.withUnsafeBytes { writer.write($0) }
        return try writer.commit(expected: expected, expectedSize: expected == nil ? nil : Int64(bytes.count))
    }

    public func delete(_ digest: Digest) {
        unlink(path(for: digest))
    }

    public func allDigests() -> [Digest] {
        FileSystem.listDirectory(blobsDirectory).compactMap { try? Digest.sha256(hex: $0) }
    }

    /// Removes in-progress writes left by a process that died mid-ingest.
    public func removeAbandonedIngests() {
        for name in FileSystem.listDirectory(ingestDirectory) {
            FileSystem.removeTree("\(ingestDirectory)/\(name)")
        }
    }
}

/// One in-progress blob write. Used from a single thread; commit or abort exactly once.
public final class BlobWriter {
    let store: ContentStore
    let tempPath: String
    let fd: Int32
    var hasher = SHA256()
    public private(set) var bytesWritten: Int64 = 0
    var failure: String?
    var finished = false

    init(store: ContentStore) throws(StoreError) {
        self.store = store
        self.tempPath = "\(store.ingestDirectory)/\(UUID().uuidString)"
        self.fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError(.io, "cannot create \(tempPath): \(FileSystem.errnoText())")
        }
    }

    deinit {
        if !finished { abort() }
    }

    public func write(_ buffer: UnsafeRawBufferPointer) {
        guard failure == nil, buffer.count > 0, let base = buffer.baseAddress else { return }
        hasher.update(bufferPointer: buffer)
        var offset = 0
        while offset < buffer.count {
            let n = Foundation.write(fd, base + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                failure = FileSystem.errnoText()
                return
            }
            offset += n
        }
        bytesWritten += Int64(buffer.count)
    }

    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Verifies and publishes the blob. On any mismatch the temp file is removed and nothing is published.
    @discardableResult
    public func commit(expected: Digest? = nil, expectedSize: Int64? = nil) throws(StoreError) -> Digest {
        finished = true
        defer { close(fd) }
        if let failure {
            unlink(tempPath)
            throw StoreError(.io, "writing blob failed: \(failure)")
        }
        let digest = Digest(sha256Bytes: Array(hasher.finalize()))
        if let expectedSize, expectedSize != bytesWritten {
            unlink(tempPath)
            throw StoreError(.sizeMismatch,
                             "size mismatch for \(expected.map { "\($0)" } ?? digest.description): expected \(expectedSize) bytes, got \(bytesWritten)")
        }
        if let expected, expected != digest {
            unlink(tempPath)
            throw StoreError(.digestMismatch, "digest mismatch: expected \(expected), content hashes to \(digest)")
        }
        guard fsync(fd) == 0, rename(tempPath, store.path(for: digest)) == 0 else {
            let text = FileSystem.errnoText()
            unlink(tempPath)
            throw StoreError(.io, "cannot commit blob \(digest): \(text)")
        }
        FileSystem.syncDirectory(containing: store.path(for: digest))
        return digest
    }

    public func abort() {
        guard !finished else { return }
        finished = true
        close(fd)
        unlink(tempPath)
    }
}

extension Digest {
    /// The sha256 digest of bytes in memory (manifests and configs).
    public static func sha256(of bytes: [UInt8]) -> Digest {
        Digest(sha256Bytes: Array(SHA256.hash(data: bytes)))
    }
}
