import Foundation
import PierOCI
import PierStore
import Synchronization

/// Blob uploads in progress (spec.md "Pushing blobs"): each is a `BlobWriter` into the content
/// store's ingest directory, hashing as it goes, so finishing an upload costs no second read.
///
/// One request at a time may use an upload; a second one that arrives meanwhile is refused
/// rather than interleaved. Uploads idle for longer than `idleLimit` are dropped (their
/// partial file with them), as are all uploads of a registry that restarts.
public final class UploadSessions: Sendable {
    public final class Upload: @unchecked Sendable {
        // Touched only by the request that has checked it out (see `checkOut`).
        public let id: String
        public let repository: RepositoryName
        let writer: BlobWriter
        var lastActivity: ContinuousClock.Instant
        var checkedOut = false

        init(id: String, repository: RepositoryName, writer: BlobWriter) {
            self.id = id
            self.repository = repository
            self.writer = writer
            self.lastActivity = .now
        }

        /// Bytes received so far.
        public var offset: Int64 { writer.bytesWritten }

        public func write(_ bytes: UnsafeRawBufferPointer) { writer.write(bytes) }
    }

    let storage: RegistryStorage
    let idleLimit: Duration
    let uploads = Mutex<[String: Upload]>([:])

    public init(storage: RegistryStorage, idleLimit: Duration = .seconds(3600)) {
        self.storage = storage
        self.idleLimit = idleLimit
    }

    /// Starts an upload into `repository`.
    public func start(_ repository: RepositoryName) throws(RegistryError) -> Upload {
        expireIdle()
        let writer: BlobWriter
        do {
            writer = try storage.content.makeWriter()
        } catch {
            throw RegistryError(.storage, "cannot start an upload", cause: error)
        }
        let upload = Upload(id: UUID().uuidString.lowercased(), repository: repository, writer: writer)
        uploads.withLock { $0[upload.id] = upload }
        return upload
    }

    /// Takes an upload for the length of one request; give it back with `checkIn`.
    public func checkOut(_ id: String, repository: RepositoryName) throws(RegistryError) -> Upload {
        let result: Result<Upload, RegistryError> = uploads.withLock { uploads in
            guard let upload = uploads[id], upload.repository == repository else {
                return .failure(RegistryError(.blobUploadUnknown, "blob upload unknown: \(id)"))
            }
            guard !upload.checkedOut else {
                return .failure(RegistryError(.blobUploadInvalid,
                                              "upload \(id) is in use by another request; wait for it to finish",
                                              status: 416))
            }
            upload.checkedOut = true
            return .success(upload)
        }
        return try result.get()
    }

    public func checkIn(_ upload: Upload) {
        uploads.withLock { _ in
            upload.checkedOut = false
            upload.lastActivity = .now
        }
    }

    /// Verifies what was uploaded against `digest` and publishes it; the upload ends either way.
    public func finish(_ upload: Upload, digest: Digest) throws(RegistryError) {
        remove(upload)
        do {
            guard digest.algorithm == "sha256" else {
                upload.writer.abort()
                throw RegistryError(.digestInvalid, "unsupported digest algorithm \(digest.algorithm): use sha256")
            }
            try upload.writer.commit(expected: digest)
        } catch let error as RegistryError {
            throw error
        } catch let error as StoreError {
            switch error.code {
            case .digestMismatch, .sizeMismatch:
                throw RegistryError(.digestInvalid, "provided digest did not match uploaded content: \(error.message)")
            default:
                throw RegistryError(.storage, "cannot store blob \(digest)", cause: error)
            }
        } catch {
            throw RegistryError(.storage, "cannot store blob \(digest)")
        }
        try storage.linkBlob(upload.repository, digest)
    }

    /// Abandons an upload and its partial data.
    public func cancel(_ upload: Upload) {
        remove(upload)
        upload.writer.abort()
    }

    public var count: Int { uploads.withLock { $0.count } }

    func remove(_ upload: Upload) {
        _ = uploads.withLock { $0.removeValue(forKey: upload.id) }
    }

    func expireIdle() {
        let now = ContinuousClock.now
        let expired: [Upload] = uploads.withLock { uploads in
            let old = uploads.values.filter { !$0.checkedOut && now - $0.lastActivity > idleLimit }
            for upload in old { uploads.removeValue(forKey: upload.id) }
            return old
        }
        for upload in expired { upload.writer.abort() }
    }
}
