import Foundation
import PierAPI
import PierArchive
import PierOCI
import PierStore

/// Making new images from directories: used by `bootstrap` now and by the builder later.
extension ImageTransfer {
    /// A layer that has been written to the content store and unpacked as a snapshot.
    public struct CommittedLayer: Sendable {
        public let descriptor: Descriptor
        public let diffID: Digest
        public let chainID: Digest
        public let unpackedSize: Int64
    }

    /// Tars `directory` into an uncompressed layer blob and unpacks it as the snapshot that
    /// follows `parentChainID`. With `overlayUpper`, overlayfs whiteouts become OCI whiteouts.
    /// With `sourceDateEpoch`, later modification times are clamped to it (reproducible layers).
    public func commitLayer(directory: String, parentChainID: Digest?, overlayUpper: Bool,
                            token: UUID, sourceDateEpoch: Int64? = nil) throws(EngineError) -> CommittedLayer {
        do {
            let writer = try store.content.makeWriter()
            let digests: LayerDigests
            do {
                digests = try LayerWriter.write(directory: directory, to: .push { writer.write($0) }, compression: .none,
                                                whiteoutsFromOverlay: overlayUpper, sourceDateEpoch: sourceDateEpoch)
            } catch {
                writer.abort()
                throw error
            }
            let diffID = try Digest.sha256(hex: digests.diffID)
            let blob = try writer.commit(expected: diffID)
            let chainID = parentChainID.map { Digest.sha256(of: Array("\($0) \(diffID)".utf8)) } ?? diffID
            store.pins.pin([blob, chainID], token: token)
            if !store.snapshots.contains(chainID) {
                _ = try unpack(blob: blob, chainID: chainID, expectedDiffID: diffID, layer: 1)
            }
            return CommittedLayer(
                descriptor: Descriptor(mediaType: MediaType.ociLayerTar, digest: blob, size: store.content.size(of: blob) ?? 0),
                diffID: diffID, chainID: chainID, unpackedSize: digests.uncompressedSize)
        } catch {
            throw ImageTransfer.engineError(error, context: "committing layer")
        }
    }

    /// Writes config and manifest for layers already committed, records the image and names it.
    public func commitImage(config: ImageConfig, layers: [CommittedLayer], names: [ImageReference],
                            token: UUID) throws(EngineError) -> ImageRecord {
        do {
            let configBytes = try ImageTransfer.encode(config)
            let configDigest = try store.content.put(configBytes)
            let manifest = ImageManifest(
                config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configBytes.count)),
                layers: layers.map(\.descriptor))
            let manifestDigest = try store.content.put(try ImageTransfer.encode(manifest))
            store.pins.pin([configDigest, manifestDigest], token: token)
            let record = ImageRecord(
                id: configDigest, manifest: manifestDigest, manifestMediaType: MediaType.ociManifest,
                created: config.created.flatMap(Timestamp.parse) ?? 0,
                size: layers.reduce(Int64(0)) { $0 + $1.unpackedSize }, labels: config.config?.Labels)
            try store.index.put(record)
            let now = Timestamp.now()
            for name in names { try store.index.tag(name, to: configDigest, time: now) }
            return record
        } catch {
            throw ImageTransfer.engineError(error, context: "committing image")
        }
    }
}
