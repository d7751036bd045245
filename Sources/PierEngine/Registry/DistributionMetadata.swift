import Foundation
import PierOCI
import Synchronization

/// What Pier remembers about layers and registries between transfers (Docker keeps the same
/// in its `distribution/` metadata):
/// - the gzip blob it made from an uncompressed layer when pushing, so the next push of the
///   same layer uploads that blob instead of compressing again;
/// - which repositories of which registry hold a blob, so a push to another repository of the
///   same registry can mount it instead of uploading it.
///
/// Kept in `<root>/registry/metadata.json`, replaced atomically. It is only a cache: an entry
/// whose blob has been collected is ignored.
final class DistributionMetadata: Sendable {
    struct State: Codable {
        /// diffID → gzip blob digest.
        var gzip: [String: String] = [:]
        /// blob digest → `host/repository` that hold it.
        var sources: [String: [String]] = [:]
    }

    let file: String
    let state: Mutex<State>

    init(directory: String) {
        file = directory + "/metadata.json"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let loaded = FileManager.default.contents(atPath: file).flatMap { try? JSONDecoder().decode(State.self, from: $0) }
        state = Mutex(loaded ?? State())
    }

    func gzipBlob(for diffID: Digest) -> Digest? {
        state.withLock { $0.gzip[diffID.description] }.flatMap { try? Digest(parsing: $0) }
    }

    func recordGzip(_ blob: Digest, for diffID: Digest) {
        update { $0.gzip[diffID.description] = blob.description }
    }

    /// Repositories of `host` known to hold `blob`.
    func sources(of blob: Digest, on host: String) -> [String] {
        let prefix = host + "/"
        return (state.withLock { $0.sources[blob.description] } ?? [])
            .filter { $0.hasPrefix(prefix) }
            .map { String($0.dropFirst(prefix.count)) }
    }

    func addSource(_ blob: Digest, host: String, repository: String) {
        let entry = "\(host)/\(repository)"
        guard !(state.withLock { $0.sources[blob.description]?.contains(entry) ?? false }) else { return }
        update { state in
            var list = state.sources[blob.description] ?? []
            list.append(entry)
            state.sources[blob.description] = Array(list.suffix(8))
        }
    }

    func update(_ body: (inout State) -> Void) {
        state.withLock { state in
            body(&state)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            if let data = try? encoder.encode(state) {
                try? data.write(to: URL(fileURLWithPath: file), options: .atomic)
            }
        }
    }
}
