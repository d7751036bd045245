import Foundation
import PierStore
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
    let records = Mutex(Table())
    /// Serialises read-change-write, so two threads updating one record (the exit monitor and
    /// the health checker, say) never write back a stale copy over the other's change.
    let writes = NSRecursiveLock()

    /// Where a removed container's directory goes (one rename) before it is deleted off the
    /// caller's path; whatever a crash left there is deleted when pierd starts.
    var trash: String { root + "/.removed" }
    let deletions = DispatchQueue(label: "pier.container-deletions", qos: .utility)

    init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: trash)
        var loaded: [String: ContainerRecord] = [:]
        for id in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where !id.hasPrefix(".") {
            let file = "\(root)/\(id)/config.v2.json"
            guard let data = FileManager.default.contents(atPath: file),
                  let record = try? JSONDecoder().decode(ContainerRecord.self, from: data) else { continue }
            loaded[record.id] = record
        }
        records.withLock { $0 = Table(loaded) }
    }

    func directory(_ id: String) -> String { "\(root)/\(id)" }

    func all() -> [ContainerRecord] { records.withLock { $0.byID.values.map(\.record) } }

    /// Every record as the table shares it: a thousand pointers, not a thousand copies of
    /// records (copying them was half of `ps -a`'s time in pierd).
    func entries() -> [Entry] { records.withLock { Array($0.byID.values) } }

    func get(_ id: String) -> ContainerRecord? { records.withLock { $0.byID[id]?.record } }

    /// By full ID, unique ID prefix, or name (with or without the leading slash).
    func find(_ reference: String) -> ContainerRecord? {
        let name = reference.hasPrefix("/") ? String(reference.dropFirst()) : reference
        return records.withLock { table in
            if let exact = table.byID[reference] { return exact.record }
            if let named = table.named(name) { return named }
            guard !reference.isEmpty else { return nil }
            var match: ContainerRecord?
            for (id, entry) in table.byID where id.hasPrefix(reference) {
                guard match == nil else { return nil }  // ambiguous
                match = entry.record
            }
            return match
        }
    }

    func nameInUse(_ name: String) -> ContainerRecord? {
        records.withLock { $0.named(name) }
    }

    /// Adds or replaces a record and writes it atomically (temp file + rename).
    ///
    /// - Parameter durable: also fsync, so the write survives a power cut. What a user decided
    ///   (the container's existence and config, its name, its networks, a `stop`) is durable.
    ///   Run state (running, exited, exit code, health) is not: a power cut ends every container
    ///   anyway, and pierd marks the ones whose shim is gone as exited when it starts. Nor is an
    ///   `--rm` container's record, which pierd removes at start if its container is not running.
    func save(_ record: ContainerRecord, durable: Bool) throws {
        writes.lock()
        defer { writes.unlock() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(record)
        do {
            try FileSystem.writeAtomically([UInt8](data), to: "\(directory(record.id))/config.v2.json", durable: durable)
        } catch {
            throw EngineError(.internalError, "cannot save container \(record.shortID): \(error.message)")
        }
        records.withLock { $0.put(record) }
    }

    /// Applies a change to a record and saves it; returns the new record.
    @discardableResult
    func update(_ id: String, durable: Bool, _ change: (inout ContainerRecord) -> Void) throws -> ContainerRecord {
        writes.lock()
        defer { writes.unlock() }
        guard var record = get(id) else { throw EngineError(.notFound, "No such container: \(id)") }
        change(&record)
        try save(record, durable: durable)
        return record
    }

    /// Applies a change in memory only, for a record whose file is about to go: an exited
    /// `--rm` container's (pierd removes such a record at start, should it die in between).
    @discardableResult
    func updateInMemory(_ id: String, _ change: (inout ContainerRecord) -> Void) -> ContainerRecord? {
        writes.lock()
        defer { writes.unlock() }
        guard var record = get(id) else { return nil }
        change(&record)
        records.withLock { $0.put(record) }
        return record
    }

    /// Forgets a container at once; its files (an upper directory can be large) are deleted
    /// afterwards, so `rm` and `run --rm` answer without waiting for the disk.
    func remove(_ id: String) {
        records.withLock { $0.remove(id) }
        mkdir(trash, 0o700)
        let doomed = "\(trash)/\(id)"
        guard rename(directory(id), doomed) == 0 else {
            try? FileManager.default.removeItem(atPath: directory(id))
            return
        }
        deletions.async { try? FileManager.default.removeItem(atPath: doomed) }
    }

    /// Waits for the deletions `remove` queued (a clean shutdown, tests).
    func finishDeletions() {
        deletions.sync {}
    }

    /// Containers that mount a volume (so `volume rm` can refuse).
    func users(ofVolume name: String) -> [String] {
        records.withLock { $0.byID.values.filter { ($0.record.volumeMounts ?? []).contains { $0.name == name } }.map(\.record.id) }
    }

    /// Containers that use an image (so `rmi` can refuse).
    func users(of image: Digest) -> [String] {
        records.withLock { $0.byID.values.filter { $0.record.imageID == image }.map(\.record.id) }
    }

    /// One record as the table holds it. A change replaces the entry, never mutates it, so a
    /// list made from entries is a consistent snapshot, and what a list made of the record can
    /// be kept with it.
    final class Entry: Sendable {
        let record: ContainerRecord
        /// Creation time in nanoseconds: `ps` sorts by it, newest first.
        let createdOrder: Int64
        /// The JSON a list shows of the record up to `Ports` (`FastJSON.head`): everything but the
        /// clock's Status and the network's ports. Made by the first list that needs it.
        let listedHead = Mutex<[UInt8]?>(nil)

        init(_ record: ContainerRecord) {
            self.record = record
            createdOrder = Timestamp.nanoseconds(record.created) ?? 0
        }
    }

    /// The records by ID, and which ID holds each name: looking a name up (every `create`,
    /// every reference by name) must not walk a thousand records.
    struct Table {
        private(set) var byID: [String: Entry]
        private var idByName: [String: String]

        init(_ records: [String: ContainerRecord] = [:]) {
            byID = records.mapValues(Entry.init)
            idByName = Dictionary(records.values.map { ($0.name, $0.id) }, uniquingKeysWith: { first, _ in first })
        }

        func named(_ name: String) -> ContainerRecord? {
            idByName[name].flatMap { byID[$0]?.record }
        }

        mutating func put(_ record: ContainerRecord) {
            if let previous = byID.updateValue(Entry(record), forKey: record.id)?.record, previous.name != record.name,
               idByName[previous.name] == record.id {
                idByName[previous.name] = nil
            }
            idByName[record.name] = record.id
        }

        mutating func remove(_ id: String) {
            guard let record = byID.removeValue(forKey: id)?.record else { return }
            if idByName[record.name] == id { idByName[record.name] = nil }
        }
    }
}
