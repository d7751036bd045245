import Foundation
import PierAPI
import PierArchive
import PierOCI
import PierStore

extension ImageTransfer {
    /// What `save` will write, resolved up front so a bad name fails before any byte is sent.
    public struct SavePlan: Sendable {
        struct Item: Sendable {
            let image: ImageRecord
            let names: [ImageReference]
            let manifest: ImageManifest
        }
        let items: [Item]
    }

    public func planSave(_ names: [String]) throws(EngineError) -> SavePlan {
        guard !names.isEmpty else { throw EngineError(.invalidArgument, "save needs at least one image name") }
        var items: [SavePlan.Item] = []
        var seen: [Digest: Int] = [:]
        for name in names {
            let image = try images.resolve(name)
            let manifest: ImageManifest
            do { manifest = try store.manifest(of: image) } catch { throw EngineError.from(error) }
            // Saved by a tag, the archive carries that tag; saved by ID, it carries no name (as Docker does).
            var refs: [ImageReference] = []
            if let ref = try? ImageReference(parsing: name), store.index.tags(of: image.id).contains(ref) {
                refs = [ref]
            } else if (try? ImageReference(parsingWithoutDefaultTag: name))?.tag == nil,
                      let ref = try? ImageReference(parsingWithoutDefaultTag: name), ref.digest == nil {
                // `save busybox` with several tags of busybox: every tag of that repository.
                refs = store.index.tags(of: image.id).filter { $0.repository == ref.repository }
            }
            if let index = seen[image.id] {
                let merged = items[index].names + refs.filter { !items[index].names.contains($0) }
                items[index] = SavePlan.Item(image: image, names: merged, manifest: manifest)
            } else {
                seen[image.id] = items.count
                items.append(SavePlan.Item(image: image, names: refs, manifest: manifest))
            }
        }
        return SavePlan(items: items)
    }

    /// Writes the plan as one uncompressed tar: an OCI image layout (`oci-layout`, `index.json`,
    /// `blobs/sha256/…`) that also carries Docker's `manifest.json` and `repositories`, the
    /// format Docker 25+ writes and that `docker load`, `podman load` and skopeo read.
    public func save(_ plan: SavePlan, to sink: ArchiveSink) throws(EngineError) {
        do {
            let writer = try TarWriter(to: sink, compression: .none, digesting: false)
            var written = Set<Digest>()
            var indexEntries: [Descriptor] = []
            var dockerEntries: [DockerArchiveEntry] = []
            var repositories: [String: [String: String]] = [:]
            for item in plan.items {
                let blobs = [item.image.id] + item.manifest.layers.map(\.digest) + [item.image.manifest]
                for blob in blobs where written.insert(blob).inserted {
                    try writer.writeFile(atPath: store.content.path(for: blob), as: "blobs/sha256/\(blob.encoded)")
                }
                let manifestSize = store.content.size(of: item.image.manifest) ?? 0
                if item.names.isEmpty {
                    indexEntries.append(Descriptor(mediaType: item.image.manifestMediaType, digest: item.image.manifest,
                                                   size: manifestSize))
                }
                for name in item.names {
                    indexEntries.append(Descriptor(
                        mediaType: item.image.manifestMediaType, digest: item.image.manifest, size: manifestSize,
                        annotations: [AnnotationKey.containerdImageName: name.description,
                                      AnnotationKey.refName: name.tag ?? ImageReference.defaultTag]))
                    if let top = item.manifest.layers.last {
                        repositories[name.familiarRepository, default: [:]][name.tag ?? "latest"] = top.digest.encoded
                    }
                }
                dockerEntries.append(DockerArchiveEntry(
                    config: "blobs/sha256/\(item.image.id.encoded)",
                    repoTags: item.names.isEmpty ? nil : item.names.map(\.familiarDescription),
                    layers: item.manifest.layers.map { "blobs/sha256/\($0.digest.encoded)" }))
            }
            try writer.writeBytes(try ImageTransfer.encode(PierOCI.ImageIndex(manifests: indexEntries)), as: "index.json")
            try writer.writeBytes(try ImageTransfer.encode(dockerEntries), as: "manifest.json")
            try writer.writeBytes(try ImageTransfer.encode(ImageLayoutHeader()), as: "oci-layout")
            if !repositories.isEmpty {
                try writer.writeBytes(try ImageTransfer.encode(repositories), as: "repositories")
            }
            try writer.finish()
        } catch {
            throw ImageTransfer.engineError(error, context: "saving images")
        }
    }
}
