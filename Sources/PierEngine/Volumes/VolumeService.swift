import Foundation
import Logging
import PierAPI
import PierOCI

/// What pierd keeps about one volume, in `<root>/volumes/<name>/volume.json` (data in `_data/`).
struct VolumeRecord: Codable, Sendable {
    var name: String
    var created: String
    var labels: [String: String]
    var options: [String: String]
    var anonymous: Bool
}

/// Named and anonymous volumes of the `local` driver: a directory per volume under the data
/// root, or a tmpfs or bind mount when created with `--opt type=…`. Volumes are never removed
/// except by `volume rm`/`prune`, `rm -v` and `--rm` (anonymous ones only), so their data
/// survives containers, `system prune` and any stop of pierd.
public final class VolumeService: @unchecked Sendable {
    let root: String
    let logger: Logger
    // Guarded by `lock`.
    private let lock = NSLock()
    private var records: [String: VolumeRecord] = [:]
    /// Names of the volumes each container mounts (set by ContainerService), for in-use checks.
    let users: @Sendable (String) -> [String]

    init(root: String, logger: Logger, users: @escaping @Sendable (String) -> [String]) throws(EngineError) {
        self.root = root + "/volumes"
        self.logger = logger
        self.users = users
        do { try FileManager.default.createDirectory(atPath: self.root, withIntermediateDirectories: true) } catch {
            throw EngineError(.internalError, "cannot create \(self.root): \(error)")
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: self.root)) ?? [] {
            guard let data = FileManager.default.contents(atPath: "\(self.root)/\(name)/volume.json"),
                  let record = try? JSONDecoder().decode(VolumeRecord.self, from: data) else { continue }
            records[record.name] = record
        }
    }

    func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    public func dataPath(_ name: String) -> String { "\(root)/\(name)/_data" }

    static func isValidName(_ name: String) -> Bool {
        name.count >= 2 && ContainerService.isValidName(name)
    }

    // MARK: commands

    /// Makes the volume, or returns it when it exists (as Docker does).
    public func create(_ request: VolumeCreateRequest) throws(EngineError) -> Volume {
        let name = request.Name.flatMap { $0.isEmpty ? nil : $0 } ?? ContainerService.newID()
        if let driver = request.Driver, !driver.isEmpty, driver != "local" {
            throw EngineError(.notFound, "error looking up volume plugin \(driver): plugin \"\(driver)\" not found (Pier has the local driver)")
        }
        guard VolumeService.isValidName(name) else {
            throw EngineError(.invalidArgument, "create \(name): \"\(name)\" includes invalid characters for a local volume name, "
                              + "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path")
        }
        let options = request.DriverOpts ?? [:]
        try VolumeService.validate(options: options, name: name)
        let record = try ensure(name, labels: request.Labels ?? [:], options: options, anonymous: false)
        return volume(record)
    }

    static func validate(options: [String: String], name: String) throws(EngineError) {
        for key in options.keys where !["type", "device", "o", "size"].contains(key) {
            throw EngineError(.invalidArgument, "create \(name): invalid option key: \"\(key)\" (the local driver takes type, device and o)")
        }
        if let type = options["type"], type != "tmpfs", type != "none", type != "bind" {
            throw EngineError(.invalidArgument, "create \(name): unsupported --opt type=\(type): use tmpfs, or none with o=bind")
        }
        if options["type"] == "none" || options["type"] == "bind" {
            guard let device = options["device"], device.hasPrefix("/") else {
                throw EngineError(.invalidArgument, "create \(name): a bind volume needs --opt device=/absolute/path")
            }
            guard FileManager.default.fileExists(atPath: device) else {
                throw EngineError(.invalidArgument, "create \(name): device \(device) does not exist")
            }
        }
    }

    /// The volume, made with its directory when missing. Used by `create` and by containers.
    func ensure(_ name: String, labels: [String: String] = [:], options: [String: String] = [:], anonymous: Bool) throws(EngineError) -> VolumeRecord {
        try locked { () throws(EngineError) -> VolumeRecord in
            if let existing = records[name] { return existing }
            var labels = labels
            if anonymous { labels["com.docker.volume.anonymous"] = "" }
            let record = VolumeRecord(name: name, created: Timestamp.now(), labels: labels, options: options, anonymous: anonymous)
            let directory = "\(root)/\(name)"
            do {
                try FileManager.default.createDirectory(atPath: directory + "/_data", withIntermediateDirectories: true)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                let temp = directory + "/volume.json.tmp"
                try encoder.encode(record).write(to: URL(fileURLWithPath: temp))
                let fd = open(temp, O_RDONLY | O_CLOEXEC)
                if fd >= 0 { fsync(fd); close(fd) }
                guard rename(temp, directory + "/volume.json") == 0 else { throw EngineError(.internalError, "rename failed") }
            } catch {
                try? FileManager.default.removeItem(atPath: directory)
                throw EngineError(.internalError, "cannot create volume \(name): \(error)")
            }
            records[name] = record
            logger.info("created volume", metadata: ["name": "\(name)"])
            return record
        }
    }

    func find(_ name: String) -> VolumeRecord? { locked { records[name] } }

    public func inspect(_ name: String) throws(EngineError) -> Volume {
        guard let record = find(name) else { throw EngineError(.notFound, "get \(name): no such volume") }
        return volume(record)
    }

    func volume(_ record: VolumeRecord) -> Volume {
        Volume(Name: record.name, Mountpoint: dataPath(record.name), CreatedAt: record.created, Labels: record.labels,
               Options: record.options)
    }

    public func list(filters: [String: [String]]) throws(EngineError) -> VolumeListResponse {
        let all = locked { Array(records.values) }
        var result: [Volume] = []
        for record in all.sorted(by: { $0.name < $1.name }) {
            var keep = true
            for (key, values) in filters where !values.isEmpty {
                switch key {
                case "dangling":
                    let dangling = values.contains("true") || values.contains("1")
                    keep = keep && users(record.name).isEmpty == dangling
                case "name": keep = keep && values.contains { record.name.contains($0) }
                case "driver": keep = keep && values.contains("local")
                case "label":
                    keep = keep && values.allSatisfy { filter in
                        let parts = filter.split(separator: "=", maxSplits: 1).map(String.init)
                        guard let value = record.labels[parts[0]] else { return false }
                        return parts.count == 1 || value == parts[1]
                    }
                default: throw EngineError(.invalidArgument, "invalid filter '\(key)'")
                }
            }
            if keep { result.append(volume(record)) }
        }
        return VolumeListResponse(Volumes: result)
    }

    /// `system df`: each volume with its size and how many containers mount it.
    public func usage() -> [Volume] {
        locked { Array(records.values) }.sorted { $0.name < $1.name }.map { record in
            var volume = volume(record)
            volume.UsageData = Volume.UsageData(Size: VolumeService.size(of: dataPath(record.name)),
                                                RefCount: Int64(users(record.name).count))
            return volume
        }
    }

    public func remove(_ name: String, force: Bool) throws(EngineError) {
        guard find(name) != nil else {
            if force { return }
            throw EngineError(.notFound, "get \(name): no such volume")
        }
        let holders = users(name)
        if !holders.isEmpty {
            throw EngineError(.conflict, "remove \(name): volume is in use - [\(holders.joined(separator: ", "))]: "
                              + "remove those containers first (pier rm)")
        }
        unmount(name)
        locked { _ = records.removeValue(forKey: name) }
        try? FileManager.default.removeItem(atPath: "\(root)/\(name)")
        logger.info("removed volume", metadata: ["name": "\(name)"])
    }

    /// Removes every volume no container uses (API 1.41: named and anonymous alike).
    public func prune(filters: [String: [String]]) throws(EngineError) -> VolumePruneResponse {
        var deleted: [String] = []
        var reclaimed: Int64 = 0
        for volume in try list(filters: filters.filter { $0.key == "label" }).Volumes where users(volume.Name).isEmpty {
            let size = VolumeService.size(of: dataPath(volume.Name))
            if (try? remove(volume.Name, force: false)) != nil {
                deleted.append(volume.Name)
                reclaimed += size
            }
        }
        return VolumePruneResponse(VolumesDeleted: deleted, SpaceReclaimed: reclaimed)
    }

    static func size(of path: String) -> Int64 {
        guard let enumerator = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total: Int64 = 0
        while let item = enumerator.nextObject() as? String {
            if let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + item),
               (attributes[.type] as? FileAttributeType) == .typeRegular {
                total += (attributes[.size] as? Int64) ?? 0
            }
        }
        return total
    }

    // MARK: mounting

    /// The host directory to bind into a container: `_data`, with the tmpfs or bind of
    /// `--opt type=…` mounted on it first.
    func mountpoint(_ name: String) throws(EngineError) -> String {
        guard let record = find(name) else { throw EngineError(.notFound, "get \(name): no such volume") }
        let path = dataPath(name)
        guard let type = record.options["type"], !VolumeService.isMounted(path) else { return path }
        let data = record.options["o"] ?? ""
        let result: Int32
        if type == "tmpfs" {
            result = mount("tmpfs", path, "tmpfs", 0, data)
        } else {
            let device = record.options["device"] ?? ""
            result = mount(device, path, nil, UInt(MS_BIND), nil)
        }
        guard result == 0 else {
            throw EngineError(.internalError, "cannot mount volume \(name) (type=\(type)): \(String(cString: strerror(errno)))")
        }
        return path
    }

    func unmount(_ name: String) {
        let path = dataPath(name)
        if VolumeService.isMounted(path) { umount2(path, Int32(MNT_DETACH)) }
    }

    static func isMounted(_ path: String) -> Bool {
        let text = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4] == path
        }
    }
}
