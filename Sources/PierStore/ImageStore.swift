import Foundation
import Logging
import PierOCI
import Synchronization

/// The on-disk image store under one root:
///
///     <root>/content/blobs/sha256/<hex>   manifests, configs, compressed layers
///     <root>/content/ingest/              in-progress blob writes
///     <root>/snapshots/<chain-id>/fs      unpacked layers (overlay lower dirs)
///     <root>/images.json                  names → images
public final class ImageStore: Sendable {
    public let root: String
    public let content: ContentStore
    public let snapshots: SnapshotStore
    public let index: ImageCatalog
    /// Content held by work in progress; never collected.
    public let pins = Pins()
    /// Other holders of content that no image names (the build cache): each answers with the
    /// blob digests and chain IDs it keeps, and garbage collection leaves those alone.
    let retainers = Mutex<[@Sendable () -> Set<Digest>]>([])
    /// Decoded image configs by digest. A config blob never changes (its name is its hash), so
    /// an entry is never stale; `create` and `start` each read the config more than once.
    let configs = Mutex<[Digest: ImageConfig]>([:])

    /// Registers a holder of content (see `retainers`).
    public func addRetainer(_ retained: @escaping @Sendable () -> Set<Digest>) {
        retainers.withLock { $0.append(retained) }
    }

    public init(root: String) throws(StoreError) {
        self.root = root
        content = try ContentStore(root: root + "/content")
        snapshots = try SnapshotStore(root: root + "/snapshots")
        index = try ImageCatalog(file: root + "/images.json")
    }

    /// Cleans what a crash may have left half-done. Safe to call at daemon start.
    public func recover() {
        content.removeAbandonedIngests()
        snapshots.removeAbandoned()
    }

    /// The manifest and config of an image.
    public func manifest(of image: ImageRecord) throws(StoreError) -> ImageManifest {
        try content.readJSON(ImageManifest.self, image.manifest)
    }

    public func config(of image: ImageRecord) throws(StoreError) -> ImageConfig {
        if let cached = configs.withLock({ $0[image.id] }) { return cached }
        let config = try content.readJSON(ImageConfig.self, image.id)
        configs.withLock { cache in
            if cache.count >= 64 { cache.removeAll(keepingCapacity: true) }
            cache[image.id] = config
        }
        return config
    }

    /// The overlay lower dirs of an image, top layer first (overlayfs `lowerdir=` order).
    public func lowerDirectories(of image: ImageRecord) throws(StoreError) -> [String] {
        let config = try config(of: image)
        return chainIDs(of: config.rootfs.diff_ids).reversed().map { chainID in
            snapshots.filesystemPath(chainID)
        }
    }

    /// Deletes every blob and snapshot that no image references (nor `keep` names).
    /// Returns the bytes reclaimed.
    @discardableResult
    public func collectGarbage(keepingChainIDs keep: Set<Digest> = [], logger: Logger) -> Int64 {
        let pinned = pins.all().union(retainers.withLock { $0 }.reduce(into: Set<Digest>()) { $0.formUnion($1()) })
        var liveBlobs = pinned
        var liveSnapshots = keep.union(pinned)
        for image in index.allImages() {
            liveBlobs.insert(image.id)
            liveBlobs.insert(image.manifest)
            if let manifest = try? manifest(of: image) {
                for layer in manifest.layers { liveBlobs.insert(layer.digest) }
            }
            if let config = try? config(of: image) {
                liveSnapshots.formUnion(chainIDs(of: config.rootfs.diff_ids))
            }
        }
        var reclaimed: Int64 = 0
        for digest in content.allDigests() where !liveBlobs.contains(digest) {
            reclaimed += content.size(of: digest) ?? 0
            content.delete(digest)
            logger.debug("removed unreferenced blob", metadata: ["digest": "\(digest)"])
        }
        for chainID in snapshots.allChainIDs() where !liveSnapshots.contains(chainID) {
            reclaimed += snapshots.unpackedSize(chainID)
            snapshots.remove(chainID)
            logger.debug("removed unreferenced snapshot", metadata: ["chainID": "\(chainID)"])
        }
        return reclaimed
    }
}

/// Content that work in progress (a load, an import, a build) has written but no image
/// references yet; garbage collection leaves it alone until the work releases it.
public final class Pins: Sendable {
    let pinned = Mutex<[UUID: Set<Digest>]>([:])

    public init() {}

    /// Pins digests (blobs or chain IDs) under a token; release the token when done.
    public func pin(_ digests: some Sequence<Digest>, token: UUID) {
        pinned.withLock { $0[token, default: []].formUnion(digests) }
    }

    public func release(_ token: UUID) {
        _ = pinned.withLock { $0.removeValue(forKey: token) }
    }

    public func all() -> Set<Digest> {
        pinned.withLock { $0.values.reduce(into: Set<Digest>()) { $0.formUnion($1) } }
    }
}
