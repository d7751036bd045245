import Foundation
import PierOCI

/// Unpacked layers, one directory per layer keyed by its chain ID, ready to be stacked as
/// overlayfs lower dirs: `<root>/<chain-id-hex>/fs`. Each holds only its own layer's
/// changes, with whiteouts in overlayfs form (see PierArchive's `WhiteoutMode.overlay`).
///
/// A snapshot is unpacked into `<root>/.prepare-*` and renamed into place when complete,
/// so a snapshot directory that exists is whole.
public final class SnapshotStore: Sendable {
    public let root: String

    public init(root: String) throws(StoreError) {
        self.root = root
        try FileSystem.makeDirectory(root)
    }

    /// The directory to use as an overlay lower dir.
    public func filesystemPath(_ chainID: Digest) -> String {
        "\(root)/\(chainID.encoded)/fs"
    }

    public func contains(_ chainID: Digest) -> Bool {
        FileSystem.exists("\(root)/\(chainID.encoded)/fs")
    }

    /// A fresh, empty directory to unpack into; pass it to `commit` or `abort`.
    public func prepare() throws(StoreError) -> PreparedSnapshot {
        let directory = "\(root)/.prepare-\(UUID().uuidString)"
        try FileSystem.makeDirectory(directory + "/fs")
        return PreparedSnapshot(directory: directory)
    }

    /// Publishes a prepared snapshot under its chain ID. If another writer got there first,
    /// the existing one is kept and this one discarded.
    public func commit(_ prepared: PreparedSnapshot, chainID: Digest, unpackedSize: Int64) throws(StoreError) {
        let target = "\(root)/\(chainID.encoded)"
        try FileSystem.writeAtomically(Array("\(unpackedSize)".utf8), to: prepared.directory + "/size")
        if rename(prepared.directory, target) != 0 {
            let code = errno
            FileSystem.removeTree(prepared.directory)
            if code == EEXIST || code == ENOTEMPTY { return }
            throw StoreError(.io, "cannot commit snapshot \(chainID): \(String(cString: strerror(code)))")
        }
        FileSystem.syncDirectory(containing: target)
    }

    public func abort(_ prepared: PreparedSnapshot) {
        FileSystem.removeTree(prepared.directory)
    }

    /// The unpacked size recorded when the snapshot was made.
    public func unpackedSize(_ chainID: Digest) -> Int64 {
        guard let bytes = try? FileSystem.readAll("\(root)/\(chainID.encoded)/size"),
              let size = Int64(String(decoding: bytes, as: UTF8.self)) else { return 0 }
        return size
    }

    public func remove(_ chainID: Digest) {
        // Rename first so a crash mid-delete never leaves a half snapshot under a valid name.
        let doomed = "\(root)/.remove-\(UUID().uuidString)"
        if rename("\(root)/\(chainID.encoded)", doomed) == 0 {
            FileSystem.removeTree(doomed)
        }
    }

    public func allChainIDs() -> [Digest] {
        FileSystem.listDirectory(root).compactMap { try? Digest.sha256(hex: $0) }
    }

    /// Removes half-made snapshots left by a process that died while unpacking or deleting.
    public func removeAbandoned() {
        for name in FileSystem.listDirectory(root) where name.hasPrefix(".") {
            FileSystem.removeTree("\(root)/\(name)")
        }
    }
}

public struct PreparedSnapshot: Sendable {
    public let directory: String
    public var filesystemPath: String { directory + "/fs" }
}

/// Chain IDs per the OCI image-spec (config.md#layer-chainid):
/// ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
public func chainIDs(of diffIDs: [Digest]) -> [Digest] {
    var result: [Digest] = []
    result.reserveCapacity(diffIDs.count)
    for diffID in diffIDs {
        if let parent = result.last {
            result.append(Digest.sha256(of: Array("\(parent) \(diffID)".utf8)))
        } else {
            result.append(diffID)
        }
    }
    return result
}
