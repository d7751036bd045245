import Foundation
import PierArchive
import PierOCI
import PierRegistry
import PierStore
import Synchronization

/// `push`: for each layer, the blob as the manifest names it if it is compressed (a pulled
/// layer goes back byte for byte), or a gzip of it made once and kept (layers Pier built or
/// loaded are stored uncompressed). Blobs the registry has are skipped (`HEAD`), blobs another
/// repository of the same registry has are mounted, the rest upload five at a time; then the
/// config, then the manifest under the tag.
extension RegistryService {
    /// `POST /images/{name}/push?tag=`: an empty tag on an untagged name pushes every tag of the repository.
    public func push(name: String, tag: String?, auth: RegistryAuthConfig?, progress: @escaping ProgressHandler) async throws {
        let repository: ImageReference
        do {
            repository = try ImageReference(parsingWithoutDefaultTag: name)
        } catch {
            throw EngineError.from(error)
        }
        var targets: [ImageReference]
        if let tag, !tag.isEmpty {
            targets = [repository.withTag(tag)]
        } else if let own = repository.tag {
            targets = [repository.withTag(own)]
        } else {
            targets = store.index.tagsByImage().values.flatMap { $0 }
                .filter { $0.repository == repository.repository && $0.tag != nil }
                .sorted { $0.description < $1.description }
        }
        guard !targets.isEmpty else {
            throw EngineError(.notFound, "An image does not exist locally with the tag: \(repository.familiarRepository)")
        }
        for target in targets where store.index.resolve(target.description) == nil {
            throw EngineError(.notFound, "An image does not exist locally with the tag: \(target.familiarDescription)")
        }
        let session = client.repository(host: repository.domain, path: repository.path, credentials: auth?.credentials,
                                        actions: ["pull", "push"])
        try await session.connect()
        progress(TransferProgress(status: "The push refers to repository [\(repository.repository)]"))
        for target in targets {
            try await pushOne(target, session: session, progress: progress)
        }
    }

    func pushOne(_ reference: ImageReference, session: RepositorySession, progress: @escaping ProgressHandler) async throws {
        guard let image = store.index.resolve(reference.description) else {
            throw EngineError(.notFound, "An image does not exist locally with the tag: \(reference.familiarDescription)")
        }
        let store = self.store
        let (manifestBytes, config) = try await Offload.pool { (try store.content.read(image.manifest), try store.config(of: image)) }
        var manifest: ImageManifest
        do {
            manifest = try JSONDecoder().decode(ImageManifest.self, from: Data(manifestBytes))
        } catch {
            throw EngineError(.internalError, "the stored manifest of \(reference.familiarDescription) is not valid: \(error)")
        }
        let diffIDs = config.rootfs.diff_ids
        guard diffIDs.count == manifest.layers.count else {
            throw EngineError(.internalError, "image \(image.id.shortID) has \(diffIDs.count) diff IDs for \(manifest.layers.count) layers")
        }
        let token = UUID()
        defer { store.pins.release(token) }
        store.pins.pin([image.id, image.manifest] + manifest.layers.map(\.digest), token: token)

        let docker = manifest.mediaType == MediaType.dockerManifest || image.manifestMediaType == MediaType.dockerManifest
        struct LayerJob: Sendable {
            let descriptor: Descriptor
            let diffID: Digest
        }
        let jobs = manifest.layers.indices.map { LayerJob(descriptor: manifest.layers[$0], diffID: diffIDs[$0]) }
        for job in jobs { progress(TransferProgress(id: job.diffID.shortID, status: "Preparing")) }
        let pushed = Mutex<[Int: Descriptor]>([:])
        try await RegistryService.forEach(jobs, limit: concurrentUploads) { index, job in
            let descriptor = try await self.pushLayer(job.descriptor, diffID: job.diffID, docker: docker, token: token,
                                                      session: session, progress: progress)
            pushed.withLock { $0[index] = descriptor }
        }
        let configSize = store.content.size(of: image.id) ?? manifest.config.size
        _ = try await session.pushBlob(image.id, size: configSize, file: store.content.path(for: image.id),
                                       mountSources: metadata.sources(of: image.id, on: session.host))
        metadata.addSource(image.id, host: session.host, repository: session.repository)

        let layers = pushed.withLock { state in jobs.indices.compactMap { state[$0] } }
        var bytes = manifestBytes
        var mediaType = image.manifestMediaType
        if layers != manifest.layers {
            manifest.layers = layers
            if manifest.mediaType == nil { manifest.mediaType = MediaType.ociManifest }
            mediaType = manifest.mediaType ?? MediaType.ociManifest
            bytes = try ImageTransfer.encode(manifest)
        }
        let tag = reference.tag ?? "latest"
        let digest = try await session.putManifest(bytes, mediaType: mediaType, reference: tag)
        let pushedBytes = bytes
        let pushedType = mediaType
        try await Offload.pool {
            try store.index.addRepoDigest(ImageReference(domain: reference.domain, path: reference.path, tag: nil,
                                                         digest: digest), to: image.id)
            guard pushedBytes != manifestBytes else { return }
            // The image now goes by the manifest it was pushed as: its blobs are all here, and the
            // compressed layers stay referenced (kept for the next push) instead of the raw ones.
            let stored = try store.content.put(pushedBytes, expected: digest)
            var record = image
            record.manifest = stored
            record.manifestMediaType = pushedType
            if let current = store.index.image(id: image.id), current.manifest == image.manifest {
                try store.index.put(record)
            }
        }
        logger.info("pushed image", metadata: ["reference": "\(reference)", "digest": "\(digest)"])
        progress(TransferProgress(status: "\(tag): digest: \(digest) size: \(bytes.count)"))
        var done = TransferProgress(status: "")
        done.pushed = PushResult(Tag: tag, Digest: digest.description, Size: bytes.count)
        progress(done)
    }

    /// Pushes one layer; returns its descriptor as the pushed manifest lists it.
    func pushLayer(_ layer: Descriptor, diffID: Digest, docker: Bool, token: UUID, session: RepositorySession,
                   progress: @escaping ProgressHandler) async throws -> Descriptor {
        let id = diffID.shortID
        let blob: Descriptor
        let outcome: RepositorySession.BlobPushOutcome
        if let ready = try readyBlob(for: layer, diffID: diffID, docker: docker, token: token) {
            blob = ready
            let throttle = Throttle()
            outcome = try await session.pushBlob(blob.digest, size: blob.size, file: store.content.path(for: blob.digest),
                                                 mountSources: metadata.sources(of: blob.digest, on: session.host)) { sent in
                if throttle.due(final: sent == ready.size) {
                    progress(TransferProgress(id: id, status: "Pushing", current: sent, total: ready.size))
                }
            }
        } else {
            (blob, outcome) = try await compressAndPush(layer, diffID: diffID, docker: docker, token: token,
                                                        session: session) { done, total in
                progress(TransferProgress(id: id, status: "Pushing", current: done, total: total))
            }
        }
        metadata.addSource(blob.digest, host: session.host, repository: session.repository)
        switch outcome {
        case .exists: progress(TransferProgress(id: id, status: "Layer already exists"))
        case .mounted(let from): progress(TransferProgress(id: id, status: "Mounted from \(from)"))
        case .uploaded: progress(TransferProgress(id: id, status: "Pushed"))
        }
        return blob
    }

    /// The layer as it goes to a registry when that needs no work: itself if compressed, or the
    /// gzip of it an earlier push made. Nil when it has to be compressed.
    func readyBlob(for layer: Descriptor, diffID: Digest, docker: Bool, token: UUID) throws -> Descriptor? {
        let compression = try Compression.detect(path: store.content.path(for: layer.digest))
        if compression != .none { return layer }
        guard let cached = metadata.gzipBlob(for: diffID), store.content.contains(cached),
              let size = store.content.size(of: cached) else { return nil }
        store.pins.pin([cached], token: token)
        return Descriptor(mediaType: docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip, digest: cached, size: size)
    }

    /// Compresses an uncompressed layer into the content store and uploads it at the same time
    /// (one streamed `PATCH`, then the digest). If the streamed upload fails, the finished gzip
    /// is pushed from its file instead, with the usual checks and retries.
    func compressAndPush(_ layer: Descriptor, diffID: Digest, docker: Bool, token: UUID, session: RepositorySession,
                         progress: @escaping @Sendable (Int64, Int64) -> Void)
        async throws -> (Descriptor, RepositorySession.BlobPushOutcome) {
        let store = self.store
        let level = gzipLevel
        let path = store.content.path(for: layer.digest)
        let total = store.content.size(of: layer.digest) ?? layer.size
        let throttle = Throttle()
        let pipe = UploadPipe()
        let started = ContinuousClock.now
        let compression = Task {
            do {
                let result = try await Offload.thread(name: "pier-gzip") {
                    try LayerCompressor.gzip(path: path, size: total, level: level, into: store.content,
                                             output: { pipe.push($0) }) { done in
                        if throttle.due(final: done == total) { progress(done, total) }
                    }
                }
                store.pins.pin([result.digest], token: token)
                pipe.finish()
                return result
            } catch {
                pipe.fail(error)
                throw error
            }
        }
        var outcome = RepositorySession.BlobPushOutcome.uploaded
        do {
            try await session.pushStreamed(pipe) { try await compression.value.digest }
        } catch {
            let result = try await compression.value   // a compression failure is the one to report
            logger.info("streamed layer upload failed; pushing the finished gzip", metadata: ["error": "\(error)"])
            outcome = try await session.pushBlob(result.digest, size: result.size, file: store.content.path(for: result.digest))
        }
        let result = try await compression.value
        metadata.recordGzip(result.digest, for: diffID)
        logger.debug("compressed layer for push", metadata: [
            "diffID": "\(diffID)", "blob": "\(result.digest)", "bytes": "\(total)", "gzipBytes": "\(result.size)",
            "storedPieces": "\(result.storedPieces)", "ms": "\(RegistryService.milliseconds(since: started))"])
        let descriptor = Descriptor(mediaType: docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip,
                                    digest: result.digest, size: result.size)
        return (descriptor, outcome)
    }
}
