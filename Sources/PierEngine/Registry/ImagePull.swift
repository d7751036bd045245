import Foundation
import PierArchive
import PierOCI
import PierRegistry
import PierStore
import Synchronization

/// `pull`: manifest (choosing this host's platform from an index), config, then the layers,
/// three at a time. Each layer streams from the network into a thread that writes the blob to
/// the content store *and* unpacks it into a new snapshot in the same pass, hashing both the
/// compressed bytes (the blob digest) and the uncompressed ones (the diff ID). The blob is
/// published only if its digest matches the manifest, the snapshot only if its diff ID matches
/// the config, and the image is named only after all of them exist — an interrupted or
/// corrupt pull leaves nothing half-made that anything points at.
extension RegistryService {
    /// `POST /images/create?fromImage=…&tag=…`: `tag` may be a tag or a digest; with neither
    /// there nor in `fromImage`, every tag of the repository is pulled (`pull -a`).
    public func pull(fromImage: String, tag: String?, platform: String?, auth: RegistryAuthConfig?,
                     progress: @escaping ProgressHandler) async throws {
        var text = fromImage
        if let tag, !tag.isEmpty { text += tag.contains(":") ? "@\(tag)" : ":\(tag)" }
        let reference: ImageReference
        do {
            reference = try ImageReference(parsingWithoutDefaultTag: text)
        } catch {
            throw EngineError.from(error)
        }
        do {
            try await pull(reference, platform: platform, auth: auth, progress: progress)
        } catch {
            // Blobs and snapshots a failed pull wrote are referenced by nothing: drop them now
            // rather than at the next collection (content other work has pinned stays).
            let images = transfer.images
            _ = try? await Offload.pool { images.collectGarbage() }
            if let error = error as? RegistryError, [.unauthorized, .denied, .nameUnknown].contains(error.code) {
                // What Docker's daemon says (and a 404, so the docker CLI does not start a login prompt).
                throw EngineError(.notFound, "pull access denied for \(reference.familiarRepository), repository does not "
                                  + "exist or may require 'docker login': \(error.message)")
            }
            throw error
        }
    }

    func pull(_ reference: ImageReference, platform: String?, auth: RegistryAuthConfig?,
              progress: @escaping ProgressHandler) async throws {
        let wanted = try platform.flatMap { $0.isEmpty ? nil : $0 }.map(RegistryService.platform)
        let session = client.repository(host: reference.domain, path: reference.path, credentials: auth?.credentials,
                                        actions: ["pull"])
        if reference.tag == nil && reference.digest == nil {
            let tags = try await session.tags()
            guard !tags.isEmpty else {
                throw RegistryError(.manifestUnknown, "\(reference.familiarRepository) has no tags to pull", status: 404)
            }
            for tag in tags.sorted() {
                try await pullOne(reference.withTag(tag), session: session, platform: wanted, allTags: true, progress: progress)
            }
            progress(TransferProgress(status: "Status: Downloaded newer image for \(reference.familiarRepository)"))
            return
        }
        try await pullOne(reference, session: session, platform: wanted, allTags: false, progress: progress)
    }

    func pullOne(_ reference: ImageReference, session: RepositorySession, platform: Platform?, allTags: Bool,
                 progress: @escaping ProgressHandler) async throws {
        let name = reference.digest.map(\.description) ?? reference.tag ?? "latest"
        let top = try await session.manifest(name)
        var heading = TransferProgress(id: reference.digest == nil ? reference.tag : reference.digest?.shortID,
                                       status: "Pulling from \(reference.path)")
        heading.isLayer = false
        progress(heading)
        let manifestFetched: RepositorySession.FetchedManifest
        if MediaType.isIndex(top.mediaType) {
            manifestFetched = try await session.manifest(try choose(from: top, platform: platform, reference: reference).description)
        } else {
            manifestFetched = top
        }
        let manifest: ImageManifest
        do {
            manifest = try JSONDecoder().decode(ImageManifest.self, from: Data(manifestFetched.bytes))
        } catch {
            throw RegistryError(.manifestInvalid, "the manifest of \(reference.familiarDescription) is not valid: \(error)")
        }
        let configType = manifest.config.mediaType
        guard configType == MediaType.ociConfig || configType == MediaType.dockerConfig else {
            throw RegistryError(.unusableImage,
                                "\(reference.familiarDescription) is not a container image (its config is \(configType))")
        }
        let before = store.index.resolve(reference.description)?.id

        let token = UUID()
        defer { store.pins.release(token) }
        store.pins.pin([manifest.config.digest, manifestFetched.digest] + manifest.layers.map(\.digest), token: token)

        // The config: small, fetched whole and verified.
        let store = self.store
        let configBytes: [UInt8]
        if store.content.contains(manifest.config.digest) {
            configBytes = try await Offload.pool { try store.content.read(manifest.config.digest) }
        } else {
            let fetched = try await session.blobBytes(manifest.config.digest)
            try await Offload.pool { _ = try store.content.put(fetched, expected: manifest.config.digest) }
            configBytes = fetched
        }
        let config: ImageConfig
        do {
            config = try JSONDecoder().decode(ImageConfig.self, from: Data(configBytes))
        } catch {
            throw RegistryError(.manifestInvalid, "the image config of \(reference.familiarDescription) is not valid: \(error)")
        }
        if let platform, config.os != platform.os || config.architecture != platform.architecture {
            throw RegistryError(.unusableImage,
                                "image with reference \(reference.familiarDescription) was found but does not match the "
                                + "specified platform: wanted \(platform), actual: \(config.os)/\(config.architecture)")
        }
        let diffIDs = config.rootfs.diff_ids
        guard diffIDs.count == manifest.layers.count else {
            throw RegistryError(.manifestInvalid,
                                "\(reference.familiarDescription): the config lists \(diffIDs.count) layers, the manifest "
                                + "\(manifest.layers.count)")
        }
        let chain = chainIDs(of: diffIDs)
        store.pins.pin(chain, token: token)

        struct LayerJob: Sendable {
            let descriptor: Descriptor
            let diffID: Digest
            let chainID: Digest
        }
        let jobs = manifest.layers.indices.map { LayerJob(descriptor: manifest.layers[$0], diffID: diffIDs[$0], chainID: chain[$0]) }
        for job in jobs { progress(TransferProgress(id: job.descriptor.digest.shortID, status: "Pulling fs layer")) }
        let sizes = Mutex<[Int: Int64]>([:])
        try await RegistryService.forEach(jobs, limit: concurrentDownloads) { index, job in
            let size = try await self.fetchLayer(job.descriptor, diffID: job.diffID, chainID: job.chainID, session: session,
                                                 progress: progress)
            sizes.withLock { $0[index] = size }
        }
        let record = ImageRecord(
            id: manifest.config.digest, manifest: manifestFetched.digest, manifestMediaType: manifestFetched.mediaType,
            created: config.created.flatMap(Timestamp.parse) ?? 0,
            size: sizes.withLock { $0.values.reduce(0, +) }, labels: config.config?.Labels)
        let metadata = self.metadata
        // Everything is in the store: now the image, then its names.
        try await Offload.pool {
            try store.content.put(manifestFetched.bytes, expected: manifestFetched.digest)
            for job in jobs { metadata.addSource(job.descriptor.digest, host: session.host, repository: session.repository) }
            try store.index.put(record)
            if let tag = reference.tag, reference.digest == nil {
                try store.index.tag(reference.withTag(tag), to: record.id, time: Timestamp.now())
            }
            try store.index.addRepoDigest(ImageReference(domain: reference.domain, path: reference.path, tag: nil,
                                                         digest: top.digest), to: record.id)
        }
        logger.info("pulled image", metadata: ["reference": "\(reference)", "id": "\(record.id)"])
        progress(TransferProgress(status: "Digest: \(top.digest)"))
        if !allTags {
            let outcome = before == record.id ? "Image is up to date for" : "Downloaded newer image for"
            progress(TransferProgress(status: "Status: \(outcome) \(reference.familiarDescription)"))
        }
    }

    /// The manifest of an index for `platform` (default: this host), skipping attestations.
    func choose(from index: RepositorySession.FetchedManifest, platform: Platform?, reference: ImageReference) throws -> Digest {
        let document: ImageIndex
        do {
            document = try JSONDecoder().decode(ImageIndex.self, from: Data(index.bytes))
        } catch {
            throw RegistryError(.manifestInvalid, "the index of \(reference.familiarDescription) is not valid: \(error)")
        }
        let wanted = platform ?? Platform.host
        let candidates = document.manifests.filter { descriptor in
            guard MediaType.isManifest(descriptor.mediaType), let p = descriptor.platform else { return false }
            return p.os == wanted.os && p.architecture == wanted.architecture
        }
        let exact = candidates.first { $0.platform?.variant == wanted.variant }
        let relaxed = candidates.first { wanted.variant == nil || $0.platform?.variant == nil } ?? candidates.first
        guard let chosen = exact ?? relaxed else {
            let available = document.manifests.compactMap { $0.platform?.description }.filter { !$0.hasPrefix("unknown") }
            throw RegistryError(.unusableImage,
                                "no matching manifest for \(wanted) in the manifest list entries of "
                                + "\(reference.familiarDescription) (available: \(available.joined(separator: ", ")))",
                                status: 404)
        }
        return chosen.digest
    }

    /// Brings one layer in: skipped if blob and snapshot exist, unpacked from the store if only
    /// the blob does, else downloaded and unpacked in one pass. Returns its unpacked size.
    func fetchLayer(_ layer: Descriptor, diffID: Digest, chainID: Digest, session: RepositorySession,
                    progress: @escaping ProgressHandler) async throws -> Int64 {
        let id = layer.digest.shortID
        let haveBlob = store.content.contains(layer.digest)
        let haveSnapshot = store.snapshots.contains(chainID)
        if haveBlob && haveSnapshot {
            progress(TransferProgress(id: id, status: "Already exists"))
            return store.snapshots.unpackedSize(chainID)
        }
        if haveBlob {
            progress(TransferProgress(id: id, status: "Extracting", current: 0, total: layer.size))
            let transfer = self.transfer
            let digests = try await Offload.thread(name: "pier-unpack") {
                try transfer.unpack(blob: layer.digest, chainID: chainID, expectedDiffID: diffID, layer: 1)
            }
            progress(TransferProgress(id: id, status: "Pull complete"))
            return digests.uncompressedSize
        }
        guard MediaType.isLayer(layer.mediaType) || layer.mediaType == "application/octet-stream" else {
            throw RegistryError(.unusableImage, "layer \(layer.digest) has media type \(layer.mediaType), not a layer")
        }
        if let urls = layer.urls, !urls.isEmpty {
            throw RegistryError(.unusableImage, "layer \(layer.digest) is a foreign layer (\(urls[0])); Pier only pulls "
                                + "layers the registry serves")
        }
        let pipe = BlobPipe()
        let store = self.store
        let unpack = !haveSnapshot
        let throttle = Throttle()
        let consumer = Task {
            try await Offload.thread(name: "pier-pull-\(id)") { () throws -> Int64 in
                defer { pipe.close() }
                return try RegistryService.storeLayer(from: pipe, layer: layer, diffID: diffID, chainID: chainID,
                                                      unpack: unpack, store: store)
            }
        }
        do {
            try await session.download(layer.digest, size: layer.size, into: pipe) { received in
                if throttle.due(final: received == layer.size) {
                    progress(TransferProgress(id: id, status: "Downloading", current: received, total: layer.size))
                }
            }
        } catch {
            // The consumer's own failure (bad content) says more than "the pipe was closed".
            if let consumerError = await consumer.result.error { throw RegistryService.layerFailure(id, consumerError) }
            throw error
        }
        progress(TransferProgress(id: id, status: "Verifying Checksum"))
        progress(TransferProgress(id: id, status: "Download complete"))
        let size: Int64
        do {
            size = try await consumer.value
        } catch {
            throw RegistryService.layerFailure(id, error)
        }
        progress(TransferProgress(id: id, status: "Extracting", current: layer.size, total: layer.size))
        progress(TransferProgress(id: id, status: "Pull complete"))
        return unpack ? size : store.snapshots.unpackedSize(chainID)
    }

    /// Blocking, on the layer's own thread: writes what arrives to a blob and (with `unpack`)
    /// extracts it into a prepared snapshot at the same time; publishes both only when verified.
    static func storeLayer(from pipe: BlobPipe, layer: Descriptor, diffID: Digest, chainID: Digest, unpack: Bool,
                           store: ImageStore) throws -> Int64 {
        let writer = try store.content.makeWriter()
        let prepared = unpack ? try store.snapshots.prepare() : nil
        do {
            let source = ArchiveSource.pull { buffer in
                let count = try pipe.read(into: buffer)
                if count > 0 { writer.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) }
                return count
            }
            var unpacked: Int64 = 0
            if let prepared {
                let digests = try LayerExtractor.extract(from: source, into: prepared.filesystemPath, mode: .overlay)
                try commitBlob(writer, layer)
                guard "sha256:\(digests.diffID)" == diffID.description else {
                    throw RegistryError(.digestInvalid, "layer \(layer.digest.shortID) does not match its diff ID: expected "
                                        + "\(diffID), content is sha256:\(digests.diffID)")
                }
                try store.snapshots.commit(prepared, chainID: chainID, unpackedSize: digests.uncompressedSize)
                unpacked = digests.uncompressedSize
            } else {
                var buffer = [UInt8](repeating: 0, count: 1 << 20)
                while true {
                    let count = try buffer.withUnsafeMutableBytes { try pipe.read(into: $0) }
                    if count == 0 { break }
                    buffer.withUnsafeBytes { writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                }
                try commitBlob(writer, layer)
            }
            return unpacked
        } catch {
            writer.abort()
            if let prepared { store.snapshots.abort(prepared) }
            throw error
        }
    }

    /// A layer's failure, naming the layer.
    static func layerFailure(_ id: String, _ error: any Error) -> any Error {
        let text = (error as? RegistryError)?.message ?? (error as? EngineError)?.message ?? "\(error)"
        if text.contains(id) { return error }
        return RegistryError(.digestInvalid, "failed to pull layer \(id): \(text)")
    }

    static func commitBlob(_ writer: BlobWriter, _ layer: Descriptor) throws {
        do {
            try writer.commit(expected: layer.digest, expectedSize: layer.size)
        } catch {
            throw RegistryError(.digestInvalid, "layer \(layer.digest.shortID) is corrupt: \(error.message)")
        }
    }
}

extension Result {
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
