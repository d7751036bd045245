import Foundation
import Logging
import PierAPI
import PierOCI
import PierStore

/// Images as Docker users see them: list, inspect, tag, remove, history, prune.
public final class ImageService: Sendable {
    public let store: ImageStore
    let logger: Logger
    /// Containers that use an image (IDs); the container service installs the real answer.
    let usage: ImageUsage

    public init(store: ImageStore, usage: ImageUsage, logger: Logger) {
        self.store = store
        self.usage = usage
        self.logger = logger
    }

    // MARK: lookup

    /// The image a user means by `name` (ID, short ID, `name[:tag]`, `name@digest`).
    public func resolve(_ name: String) throws(EngineError) -> ImageRecord {
        guard let image = store.index.resolve(name) else {
            if (try? ImageReference(parsingWithoutDefaultTag: name)) == nil, !name.hasPrefix("sha256:"),
               !name.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) {
                do { _ = try ImageReference(parsing: name) } catch { throw EngineError.from(error) }
            }
            throw EngineError.noSuchImage(name)
        }
        return image
    }

    // MARK: list

    public func list(all: Bool, filters: [String: [String]]) throws(EngineError) -> [ImageSummary] {
        let tags = store.index.tagsByImage()
        let digests = store.index.repoDigestsByImage()
        let images = store.index.allImages()
        let filter = try ImageFilter(filters, resolve: { try? self.resolve($0) })
        let parents = Set(images.lazy.compactMap(\.parent))
        // Positions, not records, are filtered and sorted: a record is large, and 1,000 of them
        // moved about by a sort were most of this answer's time.
        var kept: [Int] = []
        kept.reserveCapacity(images.count)
        for index in images.indices {
            let image = images[index]
            let imageTags = tags[image.id] ?? []
            // Docker hides untagged build parents unless -a; dangling (untagged, not a parent) are shown.
            if !all, imageTags.isEmpty, image.parent == nil, parents.contains(image.id) { continue }
            if filter.matches(image, tags: imageTags) { kept.append(index) }
        }
        kept.sort { a, b in
            let (first, second) = (images[a], images[b])
            return first.created != second.created ? first.created > second.created : first.id.encoded < second.id.encoded
        }
        return kept.map { summary(of: images[$0], tags: tags[images[$0].id] ?? [], digests: digests[images[$0].id] ?? []) }
    }

    func summary(of image: ImageRecord, tags: [ImageReference], digests: [ImageReference]) -> ImageSummary {
        ImageSummary(
            Id: image.id.description,
            ParentId: image.parent?.description ?? "",
            RepoTags: tags.map(\.familiarDescription),
            RepoDigests: digests.map(\.familiarDescription),
            Created: image.created,
            Size: image.size,
            Labels: image.labels ?? [:],
            Containers: -1)
    }

    // MARK: inspect

    public func inspect(_ name: String) throws(EngineError) -> ImageInspect {
        let image = try resolve(name)
        let config: ImageConfig
        do { config = try store.config(of: image) } catch { throw EngineError.from(error) }
        let tags = store.index.tags(of: image.id)
        let digests = store.index.repoDigests(of: image.id)
        let chain = chainIDs(of: config.rootfs.diff_ids)
        let lower = chain.reversed().map { store.snapshots.filesystemPath($0) }
        var graphData: [String: String] = [:]
        if let top = lower.first {
            graphData["LowerDir"] = lower.dropFirst().joined(separator: ":")
            graphData["UpperDir"] = top
            graphData["MergedDir"] = ""
            graphData["WorkDir"] = ""
            if graphData["LowerDir"] == "" { graphData["LowerDir"] = nil }
        }
        let comment = config.history?.last?.comment ?? ""
        return ImageInspect(
            Id: image.id.description,
            RepoTags: tags.map(\.familiarDescription),
            RepoDigests: digests.map(\.familiarDescription),
            Parent: image.parent?.description ?? "",
            Comment: comment,
            Created: config.created ?? Timestamp.format(seconds: image.created),
            Author: config.author ?? "",
            Config: config.config,
            Architecture: config.architecture,
            Variant: config.variant,
            Os: config.os,
            Size: image.size,
            GraphDriver: GraphDriverData(Name: "overlay2", Data: graphData),
            RootFS: RootFSInfo(Layers: config.rootfs.diff_ids.map(\.description)),
            Metadata: ImageMetadata(LastTagTime: image.lastTagTime ?? "0001-01-01T00:00:00Z"))
    }

    // MARK: history

    public func history(_ name: String) throws(EngineError) -> [HistoryItem] {
        let image = try resolve(name)
        let config: ImageConfig
        do { config = try store.config(of: image) } catch { throw EngineError.from(error) }
        let chain = chainIDs(of: config.rootfs.diff_ids)
        let entries = config.history ?? []
        var items: [HistoryItem] = []
        var layerIndex = 0
        for entry in entries {
            var size: Int64 = 0
            if entry.empty_layer != true, layerIndex < chain.count {
                size = store.snapshots.unpackedSize(chain[layerIndex])
                layerIndex += 1
            }
            items.append(HistoryItem(
                Id: "<missing>",
                Created: entry.created.flatMap(Timestamp.parse) ?? 0,
                CreatedBy: entry.created_by ?? "",
                Tags: nil,
                Size: size,
                Comment: entry.comment ?? ""))
        }
        if entries.isEmpty {
            // An image without history still has layers; show one line per layer.
            for chainID in chain {
                items.append(HistoryItem(Id: "<missing>", Created: image.created, CreatedBy: "", Tags: nil,
                                         Size: store.snapshots.unpackedSize(chainID), Comment: ""))
            }
        }
        items.reverse()
        if !items.isEmpty {
            items[0].Id = image.id.description
            let tags = store.index.tags(of: image.id).map(\.familiarDescription)
            items[0].Tags = tags.isEmpty ? nil : tags
        }
        return items
    }

    // MARK: tag

    public func tag(_ source: String, repository: String, tag: String?) throws(EngineError) {
        let image = try resolve(source)
        let target: ImageReference
        do {
            let text = tag.map { $0.isEmpty ? repository : "\(repository):\($0)" } ?? repository
            target = try ImageReference(parsing: text)
        } catch {
            throw EngineError.from(error)
        }
        guard target.digest == nil else {
            throw EngineError(.invalidArgument, "refusing to create a tag with a digest reference")
        }
        do { try store.index.tag(target, to: image.id, time: Timestamp.now()) } catch { throw EngineError.from(error) }
    }

    // MARK: remove

    public func remove(_ name: String, force: Bool) throws(EngineError) -> [ImageDeleteItem] {
        let image = try resolve(name)
        let names = store.index.tags(of: image.id) + store.index.repoDigests(of: image.id)
        let users = usage.containers(image.id)
        // Named by a tag or digest that exists (not by ID): Docker removes that name first.
        let byReference = (try? ImageReference(parsing: name)).flatMap { ref in
            names.contains(ref) ? ref : nil
        }
        var result: [ImageDeleteItem] = []
        do {
            if let ref = byReference {
                if names.count > 1 || (!users.isEmpty && force) {
                    try store.index.untag(ref)
                    return [ImageDeleteItem(Untagged: ref.familiarDescription)]
                }
                if !users.isEmpty {
                    throw EngineError(.conflict,
                                      "conflict: unable to remove repository reference \"\(name)\" (must force) - container "
                                      + "\(users[0].prefix(12)) is using its referenced image \(image.id.shortID)")
                }
            } else {
                if !users.isEmpty {
                    guard force else {
                        throw EngineError(.conflict,
                                          "conflict: unable to delete \(image.id.shortID) (must be forced) - image is being "
                                          + "used by container \(users[0].prefix(12))")
                    }
                    // Forced while a container uses it: drop the names, keep the image for the container.
                    for ref in names { try store.index.untag(ref) }
                    return names.map { ImageDeleteItem(Untagged: $0.familiarDescription) }
                }
                if names.count > 1, !force {
                    throw EngineError(.conflict,
                                      "conflict: unable to delete \(image.id.shortID) (must be forced) - image is referenced "
                                      + "in multiple repositories")
                }
            }
            result = names.map { ImageDeleteItem(Untagged: $0.familiarDescription) }
            try store.index.remove(id: image.id)
        } catch let error as StoreError {
            throw EngineError.from(error)
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.internalError, "\(error)")
        }
        result.append(ImageDeleteItem(Deleted: image.id.description))
        collectGarbage()
        logger.info("removed image", metadata: ["id": "\(image.id)"])
        return result
    }

    // MARK: prune

    public func prune(all: Bool, filters: [String: [String]]) throws(EngineError) -> ImagePruneReport {
        let tags = store.index.tagsByImage()
        let filter = try ImageFilter(filters.filter { $0.key == "label" || $0.key == "until" }, resolve: { _ in nil })
        var deleted: [ImageDeleteItem] = []
        for image in store.index.allImages() {
            let imageTags = tags[image.id] ?? []
            guard all || imageTags.isEmpty, usage.containers(image.id).isEmpty,
                  filter.matches(image, tags: imageTags) else { continue }
            do { try store.index.remove(id: image.id) } catch { throw EngineError.from(error) }
            deleted += imageTags.map { ImageDeleteItem(Untagged: $0.familiarDescription) }
            deleted.append(ImageDeleteItem(Deleted: image.id.description))
        }
        let reclaimed = deleted.isEmpty ? 0 : collectGarbage()
        return ImagePruneReport(ImagesDeleted: deleted.isEmpty ? nil : deleted, SpaceReclaimed: reclaimed)
    }

    /// Frees blobs and snapshots nothing references any more.
    @discardableResult
    public func collectGarbage() -> Int64 {
        store.collectGarbage(keepingChainIDs: usage.pinnedChainIDs(), logger: logger)
    }
}

/// What the image service must ask the rest of the engine before deleting: which containers use
/// an image, and which snapshots running work holds (a build in progress, a container's lower dirs).
public struct ImageUsage: Sendable {
    public var containers: @Sendable (Digest) -> [String]
    public var pinnedChainIDs: @Sendable () -> Set<Digest>

    public init(containers: @escaping @Sendable (Digest) -> [String] = { _ in [] },
                pinnedChainIDs: @escaping @Sendable () -> Set<Digest> = { [] }) {
        self.containers = containers
        self.pinnedChainIDs = pinnedChainIDs
    }
}
