import Foundation
import PierAPI
import PierOCI
import Synchronization

/// What pierd keeps about one container, persisted as `<root>/containers/<id>/config.v2.json`.
public struct ContainerRecord: Codable, Sendable {
    public enum Status: String, Codable, Sendable {
        case created, running, paused, restarting, exited, dead
    }

    public struct State: Codable, Sendable {
        public var status: Status = .created
        public var pid: Int32 = 0
        public var shimPid: Int32 = 0
        public var exitCode: Int32 = 0
        public var error: String = ""
        public var oomKilled = false
        public var startedAt = "0001-01-01T00:00:00Z"
        public var finishedAt = "0001-01-01T00:00:00Z"
        /// Set by `stop`/`kill`, so restart policies know the user stopped it.
        public var stoppedByUser = false
        /// The health check's state while the container has one (nil otherwise).
        public var health: HealthState?
    }

    public var id: String
    public var name: String
    public var created: String
    public var imageName: String
    public var imageID: Digest
    public var config: ContainerCreateRequest
    public var hostConfig: HostConfig
    public var path: String
    public var args: [String]
    public var state = State()
    public var restartCount = 0
    /// The volumes it mounts, decided at create (see ContainerService+Volumes).
    public var volumeMounts: [VolumeMount]?

    public var shortID: String { String(id.prefix(12)) }
}

/// The containers pierd knows, in memory, each persisted atomically to its own directory.
final class ContainerStore: Sendable {
    let root: String
    let records = Mutex<[String: ContainerRecord]>([:])
    /// Serialises read-change-write, so two threads updating one record (the exit monitor and
    /// the health checker, say) never write back a stale copy over the other's change.
    let writes = NSRecursiveLock()

    init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var loaded: [String: ContainerRecord] = [:]
        for id in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            let file = "\(root)/\(id)/config.v2.json"
            guard let data = FileManager.default.contents(atPath: file),
                  let record = try? JSONDecoder().decode(ContainerRecord.self, from: data) else { continue }
            loaded[record.id] = record
        }
        records.withLock { $0 = loaded }
    }

    func directory(_ id: String) -> String { "\(root)/\(id)" }

    func all() -> [ContainerRecord] { records.withLock { Array($0.values) } }

    func get(_ id: String) -> ContainerRecord? { records.withLock { $0[id] } }

    /// By full ID, unique ID prefix, or name (with or without the leading slash).
    func find(_ reference: String) -> ContainerRecord? {
        let name = reference.hasPrefix("/") ? String(reference.dropFirst()) : reference
        return records.withLock { records in
            if let exact = records[reference] { return exact }
            if let named = records.values.first(where: { $0.name == name }) { return named }
            guard !reference.isEmpty else { return nil }
            let matches = records.values.filter { $0.id.hasPrefix(reference) }
            return matches.count == 1 ? matches[0] : nil
        }
    }

    func nameInUse(_ name: String) -> ContainerRecord? {
        records.withLock { $0.values.first { $0.name == name } }
    }

    /// Adds or replaces a record and writes it (temp file + fsync + rename).
    func save(_ record: ContainerRecord) throws {
        writes.lock()
        defer { writes.unlock() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(record)
        let file = "\(directory(record.id))/config.v2.json"
        let temp = file + ".tmp"
        try data.write(to: URL(fileURLWithPath: temp))
        let fd = open(temp, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
        guard rename(temp, file) == 0 else {
            throw EngineError(.internalError, "cannot save container \(record.shortID): \(String(cString: strerror(errno)))")
        }
        records.withLock { $0[record.id] = record }
    }

    /// Applies a change to a record and saves it; returns the new record.
    @discardableResult
    func update(_ id: String, _ change: (inout ContainerRecord) -> Void) throws -> ContainerRecord {
        writes.lock()
        defer { writes.unlock() }
        guard var record = get(id) else { throw EngineError(.notFound, "No such container: \(id)") }
        change(&record)
        try save(record)
        return record
    }

    func remove(_ id: String) {
        _ = records.withLock { $0.removeValue(forKey: id) }
        try? FileManager.default.removeItem(atPath: directory(id))
    }

    /// Containers that mount a volume (so `volume rm` can refuse).
    func users(ofVolume name: String) -> [String] {
        records.withLock { $0.values.filter { ($0.volumeMounts ?? []).contains { $0.name == name } }.map(\.id) }
    }

    /// Containers that use an image (so `rmi` can refuse).
    func users(of image: Digest) -> [String] {
        records.withLock { $0.values.filter { $0.imageID == image }.map(\.id) }
    }
}
