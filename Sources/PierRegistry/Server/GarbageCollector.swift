import Foundation
import Logging
import PierOCI

/// Mark and sweep over the registry's storage: a blob stays if a manifest of some repository
/// names it (or is it); everything else older than the grace period goes, and links to blobs
/// that are gone are dropped. The grace period protects a push in progress, whose layers are
/// uploaded before the manifest that names them.
///
/// Runs under the storage's collection lock, so a manifest being pushed at the same moment
/// either is seen by the mark or sees the sweep's result, never half of each.
public struct GarbageCollector: Sendable {
    let storage: RegistryStorage
    let logger: Logger

    public init(storage: RegistryStorage, logger: Logger) {
        self.storage = storage
        self.logger = logger
    }

    public struct Report: Sendable {
        public var removedBlobs: [Digest] = []
        public var removedManifests: [String] = []
        public var reclaimedBytes: Int64 = 0
    }

    /// - Parameter untagged: also remove manifests no tag reaches (directly, through an index,
    ///   or as a referrer of one that is reached).
    public func collect(grace: Duration, dryRun: Bool, untagged: Bool = false) -> Report {
        storage.collectionLock.withWriteLock {
            var report = Report()
            var marked = Set<Digest>()
            for name in storage.repositories() {
                let revisions = storage.revisions(name)
                var keep = Set(revisions.map(\.0))
                if untagged {
                    keep = reachable(name, revisions: revisions)
                    for (digest, _) in revisions where !keep.contains(digest) {
                        report.removedManifests.append("\(name)@\(digest)")
                        if !dryRun { try? storage.deleteManifest(name, .digest(digest)) }
                    }
                }
                for digest in keep {
                    marked.insert(digest)
                    guard let document = try? storage.content.readJSON(ManifestValidation.Document.self, digest) else { continue }
                    if let config = document.config { marked.insert(config.digest) }
                    for layer in document.layers ?? [] { marked.insert(layer.digest) }
                }
            }
            let now = Date().timeIntervalSince1970
            let graceSeconds = Double(grace.components.seconds)
            for digest in storage.content.allDigests() where !marked.contains(digest) {
                let path = storage.blobPath(digest)
                guard let modified = Files.modificationTime(path), now - modified >= graceSeconds else { continue }
                report.removedBlobs.append(digest)
                report.reclaimedBytes += storage.blobSize(digest) ?? 0
                if !dryRun {
                    storage.content.delete(digest)
                    logger.debug("removed unreferenced blob", metadata: ["digest": "\(digest)"])
                }
            }
            if !dryRun {
                for name in storage.repositories() {
                    for digest in storage.layerLinks(name) where !storage.content.contains(digest) {
                        unlink(storage.layerLink(name, digest))
                    }
                }
            }
            return report
        }
    }

    /// Manifests reachable from the tags of a repository.
    func reachable(_ name: RepositoryName, revisions: [(Digest, String)]) -> Set<Digest> {
        var result = Set<Digest>()
        var queue = storage.tags(name).compactMap { try? storage.manifest(name, .tag($0)).digest }
        while let digest = queue.popLast() {
            guard result.insert(digest).inserted else { continue }
            if let document = try? storage.content.readJSON(ManifestValidation.Document.self, digest) {
                queue += (document.manifests ?? []).map(\.digest)
            }
            queue += storage.referrers(name, digest)
        }
        return result.intersection(revisions.map(\.0))
    }
}
