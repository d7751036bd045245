import Foundation
import Logging
import PierAPI
import PierArchive
import PierOCI
import PierStore

/// Images in and out of the store as archives: `load` (docker-archive, OCI archive — what
/// `docker save`, `podman save` and `skopeo copy` write), `save` (Docker's `manifest.json` +
/// `repositories` together with an OCI layout), and `import` of a root filesystem tarball.
///
/// Everything streams. A load ingests each file of the archive into the content store as it
/// passes, verifies each layer against the config's diff IDs while unpacking it, and names
/// images only at the very end: an archive that fails anywhere leaves the store as it was.
public final class ImageTransfer: Sendable {
    let images: ImageService
    let scratch: String
    let logger: Logger
    var store: ImageStore { images.store }

    init(images: ImageService, scratch: String, logger: Logger) {
        self.images = images
        self.scratch = scratch
        self.logger = logger
    }

    // MARK: load

    /// Files of an archive kept in memory rather than as blobs.
    static let metadataFiles: Set<String> = ["manifest.json", "index.json", "repositories", "oci-layout"]

    /// Loads every image of an archive; returns what was loaded, as Docker prints it
    /// (`Loaded image: busybox:latest`, or `Loaded image ID: sha256:…` for an untagged one).
    public func load(from source: ArchiveSource) throws(EngineError) -> [String] {
        let token = UUID()
        defer { store.pins.release(token) }
        var session = LoadSession()
        do {
            let reader = try TarReader(source)
            while let entry = try reader.next() {
                let path = ImageTransfer.clean(entry.path)
                switch entry.kind {
                case .symlink, .hardlink:
                    if let target = entry.linkTarget { session.aliases[path] = ImageTransfer.resolve(target, from: path, hard: entry.kind == .hardlink) }
                case .file:
                    if ImageTransfer.metadataFiles.contains(path) {
                        guard entry.size <= 64 << 20 else {
                            throw EngineError(.invalidArgument, "invalid archive: \(path) is \(entry.size) bytes, too large")
                        }
                        session.metadata[path] = try ImageTransfer.readSmall(reader)
                    } else if path.hasSuffix("/json") || path.hasSuffix("/VERSION") {
                        try reader.skipData()   // legacy v1 layer metadata; the config supersedes it
                    } else {
                        let expected = ImageTransfer.blobDigest(inPath: path)
                        let digest = try ingest(reader, path: path, expected: expected, size: entry.size, session: &session)
                        store.pins.pin([digest], token: token)
                        session.blobs[path] = digest
                    }
                default:
                    continue
                }
            }
            var loaded: [String] = []
            if let manifestJSON = session.metadata["manifest.json"] {
                loaded = try loadDockerArchive(manifestJSON, session: session, token: token)
            } else if let indexJSON = session.metadata["index.json"] {
                loaded = try loadOCILayout(indexJSON, session: session, token: token)
            } else {
                throw EngineError(.invalidArgument,
                                  "invalid archive: neither manifest.json nor index.json found (is this an image archive from `save`?)")
            }
            return loaded
        } catch {
            for digest in session.newBlobs { store.content.delete(digest) }
            for chainID in session.newSnapshots { store.snapshots.remove(chainID) }
            throw ImageTransfer.engineError(error, context: "loading archive")
        }
    }

    struct LoadSession {
        var metadata: [String: [UInt8]] = [:]
        var blobs: [String: Digest] = [:]
        var aliases: [String: String] = [:]
        var newBlobs: Set<Digest> = []
        var newSnapshots: Set<Digest> = []

        func blob(_ path: String) -> Digest? {
            let clean = ImageTransfer.clean(path)
            if let digest = blobs[clean] { return digest }
            if let target = aliases[clean] { return blobs[target] }
            return nil
        }
    }

    func ingest(_ reader: TarReader, path: String, expected: Digest?, size: Int64,
                session: inout LoadSession) throws -> Digest {
        let writer = try store.content.makeWriter()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try reader.readData(into: $0) }
            if n == 0 { break }
            buffer.withUnsafeBytes { writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        let existed = expected.map { store.content.contains($0) } ?? false
        do {
            let digest = try writer.commit(expected: expected, expectedSize: size)
            if !existed, !session.newBlobs.contains(digest), expected == nil || !existed {
                session.newBlobs.insert(digest)
            }
            return digest
        } catch {
            throw EngineError(.invalidArgument, "invalid archive: \(path): \(error.message)")
        }
    }

    func loadDockerArchive(_ bytes: [UInt8], session: LoadSession, token: UUID) throws -> [String] {
        let entries: [DockerArchiveEntry]
        do {
            entries = try JSONDecoder().decode([DockerArchiveEntry].self, from: Data(bytes))
        } catch {
            throw EngineError(.invalidArgument, "invalid archive: manifest.json is not valid: \(error)")
        }
        var staged: [(ImageRecord, [ImageReference])] = []
        var sessionCopy = session
        for entry in entries {
            guard let configDigest = session.blob(entry.Config) else {
                throw EngineError(.invalidArgument, "invalid archive: config \(entry.Config) named in manifest.json is missing")
            }
            var layers: [Digest] = []
            for path in entry.Layers {
                guard let digest = session.blob(path) else {
                    throw EngineError(.invalidArgument, "invalid archive: layer \(path) named in manifest.json is missing")
                }
                layers.append(digest)
            }
            let record = try stageImage(configDigest: configDigest, layerBlobs: layers, manifest: nil,
                                        session: &sessionCopy, token: token)
            var names: [ImageReference] = []
            for tag in entry.RepoTags ?? [] {
                do { names.append(try ImageReference(parsing: tag)) } catch {
                    throw EngineError(.invalidArgument, "invalid archive: bad tag \"\(tag)\" in manifest.json: \(error.message)")
                }
            }
            staged.append((record, names))
        }
        return try commit(staged)
    }

    func loadOCILayout(_ bytes: [UInt8], session: LoadSession, token: UUID) throws -> [String] {
        let index: ImageIndex
        do {
            index = try JSONDecoder().decode(ImageIndex.self, from: Data(bytes))
        } catch {
            throw EngineError(.invalidArgument, "invalid archive: index.json is not a valid OCI index: \(error)")
        }
        var staged: [(ImageRecord, [ImageReference])] = []
        var sessionCopy = session
        for descriptor in index.manifests {
            guard let manifestDescriptor = try pickManifest(descriptor, session: session) else { continue }
            guard let manifestDigest = session.blob("blobs/sha256/\(manifestDescriptor.digest.encoded)") else {
                throw EngineError(.invalidArgument, "invalid archive: manifest \(manifestDescriptor.digest) is missing")
            }
            let manifest = try store.content.readJSON(ImageManifest.self, manifestDigest)
            var layers: [Digest] = []
            for layer in manifest.layers {
                guard let digest = session.blob("blobs/sha256/\(layer.digest.encoded)") else {
                    throw EngineError(.invalidArgument, "invalid archive: layer \(layer.digest) is missing")
                }
                layers.append(digest)
            }
            guard let configDigest = session.blob("blobs/sha256/\(manifest.config.digest.encoded)") else {
                throw EngineError(.invalidArgument, "invalid archive: config \(manifest.config.digest) is missing")
            }
            let record = try stageImage(configDigest: configDigest, layerBlobs: layers,
                                        manifest: (manifestDigest, manifestDescriptor.mediaType),
                                        session: &sessionCopy, token: token)
            var names: [ImageReference] = []
            let annotations = descriptor.annotations ?? [:]
            if let full = annotations[AnnotationKey.containerdImageName], let ref = try? ImageReference(parsing: full) {
                names.append(ref)
            } else if let name = annotations[AnnotationKey.refName], name.contains(":") || name.contains("/"),
                      let ref = try? ImageReference(parsing: name) {
                names.append(ref)
            }
            staged.append((record, names))
        }
        guard !staged.isEmpty else {
            throw EngineError(.invalidArgument, "invalid archive: index.json lists no image for \(Platform.host)")
        }
        return try commit(staged)
    }

    /// Follows a nested index to the manifest for this host's platform.
    func pickManifest(_ descriptor: Descriptor, session: LoadSession) throws -> Descriptor? {
        if MediaType.isManifest(descriptor.mediaType) { return descriptor }
        guard MediaType.isIndex(descriptor.mediaType),
              let digest = session.blob("blobs/sha256/\(descriptor.digest.encoded)") else { return nil }
        let nested = try store.content.readJSON(ImageIndex.self, digest)
        let host = Platform.host
        let match = nested.manifests.first { $0.platform?.os == host.os && $0.platform?.architecture == host.architecture }
            ?? nested.manifests.first { $0.platform == nil }
        guard let match else { return nil }
        return try pickManifest(match, session: session)
    }

    /// Publishes staged images: records first, then names, so a name never points at nothing.
    func commit(_ staged: [(ImageRecord, [ImageReference])]) throws -> [String] {
        var loaded: [String] = []
        let now = Timestamp.now()
        for (record, names) in staged {
            try store.index.put(record, tags: names, time: now)
            for name in names {
                loaded.append("Loaded image: \(name.familiarDescription)")
            }
            if names.isEmpty { loaded.append("Loaded image ID: \(record.id)") }
            logger.info("loaded image", metadata: ["id": "\(record.id)", "names": "\(names.map(\.familiarDescription))"])
        }
        return loaded
    }

    // MARK: images from blobs

    /// Checks a config against its layers, unpacks every layer into a snapshot (verifying its
    /// diff ID), and writes a manifest if the source had none. Returns the record to publish.
    func stageImage(configDigest: Digest, layerBlobs: [Digest], manifest: (Digest, String)?,
                    session: inout LoadSession, token: UUID, parent: Digest? = nil) throws -> ImageRecord {
        let configBytes = try store.content.read(configDigest)
        let config: ImageConfig
        do {
            config = try JSONDecoder().decode(ImageConfig.self, from: Data(configBytes))
        } catch {
            throw EngineError(.invalidArgument, "invalid image config \(configDigest): \(error)")
        }
        guard config.rootfs.diff_ids.count == layerBlobs.count else {
            throw EngineError(.invalidArgument,
                              "invalid image \(configDigest.shortID): the config lists \(config.rootfs.diff_ids.count) "
                              + "layers but the manifest has \(layerBlobs.count)")
        }
        let chain = chainIDs(of: config.rootfs.diff_ids)
        store.pins.pin(chain, token: token)
        var size: Int64 = 0
        var layerDescriptors: [Descriptor] = []
        for (index, blob) in layerBlobs.enumerated() {
            let expected = config.rootfs.diff_ids[index]
            let compression = try Compression.detect(path: store.content.path(for: blob))
            if !store.snapshots.contains(chain[index]) {
                let digests = try unpack(blob: blob, chainID: chain[index], expectedDiffID: expected, layer: index + 1)
                session.newSnapshots.insert(chain[index])
                size += digests.uncompressedSize
            } else {
                if compression != .none || blob != expected {
                    let digests = try LayerDigests.measure(.path(store.content.path(for: blob)))
                    guard "sha256:\(digests.diffID)" == expected.description else {
                        throw EngineError(.invalidArgument, "layer \(index + 1) (\(blob)) does not match its diff ID \(expected)")
                    }
                }
                size += store.snapshots.unpackedSize(chain[index])
            }
            layerDescriptors.append(Descriptor(mediaType: compression.ociLayerMediaType, digest: blob,
                                               size: store.content.size(of: blob) ?? 0))
        }
        let manifestDigest: Digest
        let manifestType: String
        if let (digest, type) = manifest {
            manifestDigest = digest
            manifestType = type
        } else {
            let document = ImageManifest(
                config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configBytes.count)),
                layers: layerDescriptors)
            let bytes = try ImageTransfer.encode(document)
            manifestDigest = try store.content.put(bytes)
            store.pins.pin([manifestDigest], token: token)
            manifestType = MediaType.ociManifest
        }
        return ImageRecord(id: configDigest, manifest: manifestDigest, manifestMediaType: manifestType,
                           created: config.created.flatMap(Timestamp.parse) ?? 0, size: size,
                           labels: config.config?.Labels, parent: parent)
    }

    /// Unpacks a layer blob into a new snapshot, failing if its content is not `expectedDiffID`.
    func unpack(blob: Digest, chainID: Digest, expectedDiffID: Digest, layer: Int) throws -> LayerDigests {
        let prepared = try store.snapshots.prepare()
        do {
            let digests = try LayerExtractor.extract(from: .path(store.content.path(for: blob)),
                                                     into: prepared.filesystemPath, mode: .overlay)
            guard "sha256:\(digests.diffID)" == expectedDiffID.description else {
                throw EngineError(.invalidArgument,
                                  "layer \(layer) (\(blob.shortID)) does not match its diff ID: expected \(expectedDiffID), "
                                  + "content is sha256:\(digests.diffID)")
            }
            try store.snapshots.commit(prepared, chainID: chainID, unpackedSize: digests.uncompressedSize)
            return digests
        } catch {
            store.snapshots.abort(prepared)
            throw error
        }
    }

    // MARK: helpers

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try encoder.encode(value))
    }

    static func readSmall(_ reader: TarReader) throws -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try reader.readData(into: $0) }
            if n == 0 { return result }
            result.append(contentsOf: buffer[0..<n])
        }
    }

    /// `./a//b/` → `a/b`
    static func clean(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." && !$0.isEmpty }.joined(separator: "/")
    }

    /// A link target in archive terms: hard links name archive paths; symlinks are relative to their directory.
    static func resolve(_ target: String, from path: String, hard: Bool) -> String {
        if hard || target.hasPrefix("/") { return clean(target) }
        var parts = path.split(separator: "/").dropLast().map(String.init)
        for part in target.split(separator: "/") {
            if part == ".." { _ = parts.popLast() } else if part != "." { parts.append(String(part)) }
        }
        return parts.joined(separator: "/")
    }

    /// `blobs/sha256/<hex>` names its own digest; the ingest then verifies it.
    static func blobDigest(inPath path: String) -> Digest? {
        let parts = path.split(separator: "/")
        guard parts.count == 3, parts[0] == "blobs" else { return nil }
        return try? Digest(algorithm: String(parts[1]), encoded: String(parts[2]))
    }

    static func engineError(_ error: any Error, context: String) -> EngineError {
        switch error {
        case let error as EngineError: return error
        case let error as StoreError: return EngineError.from(error)
        case let error as ArchiveError: return EngineError(.invalidArgument, "invalid archive: \(error.message)")
        case let error as OCIError: return EngineError.from(error)
        default: return EngineError(.internalError, "\(context): \(error)")
        }
    }
}

extension Compression {
    var ociLayerMediaType: String {
        switch self {
        case .none: MediaType.ociLayerTar
        case .gzip: MediaType.ociLayerGzip
        case .zstd: MediaType.ociLayerZstd
        }
    }

    /// Sniffs the compression of a file from its first bytes.
    static func detect(path: String) throws -> Compression {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw EngineError(.internalError, "cannot open \(path)")
        }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        return Compression.detect(magic: [UInt8](head))
    }
}
