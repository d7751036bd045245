import Foundation
import PierOCI
import Synchronization

/// What the store knows about one image without opening its blobs (so listing is cheap).
public struct ImageRecord: Codable, Hashable, Sendable {
    /// Docker's image ID: the digest of the config blob.
    public var id: Digest
    public var manifest: Digest
    public var manifestMediaType: String
    /// Creation time from the config, in seconds since the epoch.
    public var created: Int64
    /// Sum of the unpacked sizes of the layers.
    public var size: Int64
    public var labels: [String: String]?
    /// Build parent, for intermediate images (`images -a`).
    public var parent: Digest?
    public var lastTagTime: String?

    public init(id: Digest, manifest: Digest, manifestMediaType: String, created: Int64, size: Int64,
                labels: [String: String]? = nil, parent: Digest? = nil) {
        self.id = id
        self.manifest = manifest
        self.manifestMediaType = manifestMediaType
        self.created = created
        self.size = size
        self.labels = labels
        self.parent = parent
    }
}

/// Names → images: the mutable part of the image store, kept in memory and persisted
/// atomically to `images.json` on every change.
public final class ImageCatalog: Sendable {
    struct State: Codable {
        var images: [String: ImageRecord] = [:]
        /// Normalised `domain/path:tag` → image ID.
        var tags: [String: String] = [:]
        /// Normalised `domain/path@digest` → image ID.
        var digests: [String: String] = [:]
    }

    let file: String
    let state: Mutex<State>
    /// Parsed names by image, rebuilt lazily after a change (listing 1,000 images must not
    /// re-parse 1,000 references each time).
    let derived = Mutex<(tags: [Digest: [ImageReference]], digests: [Digest: [ImageReference]])?>(nil)

    public init(file: String) throws(StoreError) {
        self.file = file
        if FileSystem.exists(file) {
            let bytes = try FileSystem.readAll(file)
            do {
                state = Mutex(try JSONDecoder().decode(State.self, from: Data(bytes)))
            } catch {
                throw StoreError(.invalidContent, "image index \(file) is corrupt: \(error)")
            }
        } else {
            state = Mutex(State())
        }
    }

    // MARK: reading

    public func allImages() -> [ImageRecord] {
        state.withLock { Array($0.images.values) }
    }

    public func image(id: Digest) -> ImageRecord? {
        state.withLock { $0.images[id.description] }
    }

    /// Tags pointing at each image, as normalised references.
    public func tagsByImage() -> [Digest: [ImageReference]] {
        names().tags
    }

    public func repoDigestsByImage() -> [Digest: [ImageReference]] {
        names().digests
    }

    func names() -> (tags: [Digest: [ImageReference]], digests: [Digest: [ImageReference]]) {
        // Locks in the same order as `mutate` (state, then derived), so a cache is never stale.
        state.withLock { state in
            if let cached = derived.withLock({ $0 }) { return cached }
            func group(_ map: [String: String]) -> [Digest: [ImageReference]] {
                var result: [Digest: [ImageReference]] = [:]
                for (name, id) in map {
                    guard let ref = try? ImageReference(parsing: name), let digest = try? Digest(parsing: id) else { continue }
                    result[digest, default: []].append(ref)
                }
                return result.mapValues { $0.sorted { $0.description < $1.description } }
            }
            let computed = (tags: group(state.tags), digests: group(state.digests))
            derived.withLock { $0 = computed }
            return computed
        }
    }

    public func tags(of id: Digest) -> [ImageReference] {
        tagsByImage()[id] ?? []
    }

    public func repoDigests(of id: Digest) -> [ImageReference] {
        repoDigestsByImage()[id] ?? []
    }

    /// Finds an image the way Docker does: by full or short ID (`sha256:` optional), by
    /// `name:tag` (tag defaults to latest), or by `name@digest`.
    public func resolve(_ text: String) -> ImageRecord? {
        state.withLock { state in
            if let ref = try? ImageReference(parsing: text) {
                if ref.digest != nil, let id = state.digests["\(ref.repository)@\(ref.digest!)"] {
                    return state.images[id]
                }
                if let digest = ref.digest, let image = state.images[digest.description] {
                    return image
                }
                if ref.tag != nil, ref.digest == nil, let id = state.tags[ref.description] {
                    return state.images[id]
                }
            }
            var hex = Substring(text)
            if hex.hasPrefix("sha256:") { hex = hex.dropFirst(7) }
            guard !hex.isEmpty, hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
                return nil
            }
            // A whole ID is a lookup (every container start asks for its image this way).
            if hex.utf8.count == 64, let image = state.images["sha256:" + hex] { return image }
            let matches = state.images.values.filter { $0.id.encoded.hasPrefix(hex) }
            return matches.count == 1 ? matches[0] : nil
        }
    }

    // MARK: writing

    /// Adds (or replaces) an image record.
    public func put(_ record: ImageRecord) throws(StoreError) {
        try mutate { $0.images[record.id.description] = record }
    }

    /// Adds an image and points names at it in one durable write (a load or a build names what it made).
    public func put(_ record: ImageRecord, tags: [ImageReference], time: String) throws(StoreError) {
        var record = record
        if !tags.isEmpty { record.lastTagTime = time }
        try mutate { state in
            state.images[record.id.description] = record
            for reference in tags { state.tags[reference.description] = record.id.description }
        }
    }

    /// Points `reference` at `id`, returning the image the tag used to point at, if another.
    @discardableResult
    public func tag(_ reference: ImageReference, to id: Digest, time: String) throws(StoreError) -> Digest? {
        try mutate { state in
            let previous = state.tags[reference.description].flatMap { try? Digest(parsing: $0) }
            state.tags[reference.description] = id.description
            state.images[id.description]?.lastTagTime = time
            return previous == id ? nil : previous
        }
    }

    public func addRepoDigest(_ reference: ImageReference, to id: Digest) throws(StoreError) {
        guard let digest = reference.digest else { return }
        try mutate { $0.digests["\(reference.repository)@\(digest)"] = id.description }
    }

    /// Removes a tag; returns whether it existed.
    @discardableResult
    public func untag(_ reference: ImageReference) throws(StoreError) -> Bool {
        try mutate { state in
            if reference.digest != nil, reference.tag == nil {
                return state.digests.removeValue(forKey: reference.description) != nil
            }
            return state.tags.removeValue(forKey: reference.description) != nil
        }
    }

    /// Forgets an image and every name pointing at it.
    public func remove(id: Digest) throws(StoreError) {
        try mutate { state in
            let key = id.description
            state.images.removeValue(forKey: key)
            state.tags = state.tags.filter { $0.value != key }
            state.digests = state.digests.filter { $0.value != key }
        }
    }

    func mutate<T>(_ body: (inout State) -> T) throws(StoreError) -> T {
        // The lock is held across the write so concurrent changes are persisted in order.
        let result: Result<T, StoreError> = state.withLock { state in
            var copy = state
            let value = body(&copy)
            do {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                let bytes = [UInt8](try encoder.encode(copy))
                try FileSystem.writeAtomically(bytes, to: file)
            } catch let error as StoreError {
                return .failure(error)
            } catch {
                return .failure(StoreError(.io, "cannot save image index: \(error)"))
            }
            state = copy
            derived.withLock { $0 = nil }
            return .success(value)
        }
        return try result.get()
    }
}
