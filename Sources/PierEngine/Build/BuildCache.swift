import Foundation
import PierOCI
import PierStore

/// One layer of an image being built: where its blob is and which snapshot unpacks it.
struct BuildLayer: Codable, Sendable, Hashable {
    var descriptor: Descriptor
    var diffID: Digest
    var chainID: Digest
    var unpackedSize: Int64
}

/// An image being built, between two steps: its config and its layers. Its ID (the digest of
/// the config as it would be stored) names it in the cache.
struct BuildState: Codable, Sendable {
    var config: ImageConfig
    var layers: [BuildLayer]

    /// The image ID this state would have if committed now.
    func imageID() throws -> Digest {
        Digest.sha256(of: try ImageTransfer.encode(config))
    }

    static var scratch: BuildState {
        BuildState(config: ImageConfig(config: ContainerConfig(), rootfs: RootFS(diffIDs: []), history: []), layers: [])
    }
}

/// The build cache: step key → the state after that step.
///
/// A key is the digest of the parent state's image ID and the step's full description (its
/// fully expanded instruction, the build arguments it sees, and for COPY/ADD the digest of
/// its sources' content and metadata), so it names exactly one outcome. Entries are written
/// to a temporary file and renamed into place: an interrupted build leaves either a whole
/// entry or none. An entry is used only when every blob and snapshot it names still exists;
/// otherwise it is a miss, never a wrong image.
struct BuildCache: Sendable {
    let directory: String
    let store: ImageStore

    init(directory: String, store: ImageStore) throws {
        self.directory = directory
        self.store = store
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    static func key(parent: Digest, step: String) -> Digest {
        Digest.sha256(of: Array("\(parent)\n\(step)".utf8))
    }

    func lookup(_ key: Digest) -> BuildState? {
        guard let data = FileManager.default.contents(atPath: path(key)),
              let state = try? JSONDecoder().decode(BuildState.self, from: data) else { return nil }
        for layer in state.layers {
            guard store.content.contains(layer.descriptor.digest), store.snapshots.contains(layer.chainID) else { return nil }
        }
        return state
    }

    func record(_ key: Digest, _ state: BuildState) {
        guard let bytes = try? ImageTransfer.encode(state) else { return }
        let temporary = directory + "/.tmp-" + UUID().uuidString
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else { return }
        if rename(temporary, path(key)) != 0 { unlink(temporary) }
    }

    /// The blobs and snapshots the entries name: the cache keeps them from garbage collection
    /// until `builder prune` forgets the entries (Docker keeps its build cache the same way).
    func referencedDigests() -> Set<Digest> {
        var digests: Set<Digest> = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where !name.hasPrefix(".") {
            guard let data = FileManager.default.contents(atPath: directory + "/" + name),
                  let state = try? JSONDecoder().decode(BuildState.self, from: data) else { continue }
            for layer in state.layers {
                digests.insert(layer.descriptor.digest)
                digests.insert(layer.chainID)
            }
        }
        return digests
    }

    /// Forgets every entry; returns their keys. (Their layers go with the next image GC unless an
    /// image uses them.)
    func prune() -> [String] {
        var removed: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where unlink(directory + "/" + name) == 0 {
            if !name.hasPrefix(".") { removed.append(name) }
        }
        return removed
    }

    /// Removes temporary files an interrupted build left.
    func removeAbandoned() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(".tmp-") {
            unlink(directory + "/" + name)
        }
    }

    func path(_ key: Digest) -> String { directory + "/" + key.encoded }
}
