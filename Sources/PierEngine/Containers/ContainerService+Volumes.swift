import Foundation
import PierAPI

/// One volume (or, from `--volumes-from`, host directory) a container mounts.
public struct VolumeMount: Codable, Sendable, Hashable {
    /// The volume's name; empty when `hostPath` is set.
    public var name: String
    public var hostPath: String?
    public var destination: String
    public var readOnly: Bool
    public var anonymous: Bool
    public var noCopy: Bool
}

/// The container side of volumes: which volumes a container mounts (decided at create, as Docker
/// does), the binds they become at start, Docker's copy-up, and `rm -v`.
extension ContainerService {
    static func normalize(_ path: String) -> String {
        var path = path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path
    }

    /// Named volumes of `-v NAME:/path` and `--mount type=volume` (made when missing), anonymous
    /// ones of `-v /path`, `--mount` without a source and the image's `VOLUME`, and the mounts of
    /// `--volumes-from`. Explicit mounts win over `--volumes-from`, which wins over `VOLUME`.
    func createVolumeMounts(_ merged: ContainerCreateRequest, _ host: HostConfig) throws(EngineError) -> [VolumeMount] {
        var result: [VolumeMount] = []
        var explicit: Set<String> = []
        for bind in host.Binds ?? [] {
            let parts = bind.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 1 {
                result.append(VolumeMount(name: "", destination: ContainerService.normalize(parts[0]), readOnly: false,
                                          anonymous: true, noCopy: false))
                explicit.insert(ContainerService.normalize(parts[0]))
                continue
            }
            guard parts.count >= 2 else { continue }
            let destination = ContainerService.normalize(parts[1])
            guard destination.hasPrefix("/") else {
                throw EngineError(.invalidArgument, "invalid volume specification: '\(bind)': the container path must be absolute")
            }
            explicit.insert(destination)
            guard !parts[0].hasPrefix("/") else { continue }
            guard VolumeService.isValidName(parts[0]) else {
                throw EngineError(.invalidArgument, "create \(parts[0]): \"\(parts[0])\" includes invalid characters for a local volume name, "
                                  + "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path")
            }
            let modes = parts.count > 2 ? parts[2].split(separator: ",").map(String.init) : []
            for mode in modes where !["ro", "rw", "z", "Z", "nocopy", "private", "rprivate", "shared", "rshared", "slave", "rslave"].contains(mode) {
                throw EngineError(.invalidArgument, "invalid mode: \(mode) in '\(bind)': use ro, rw or nocopy")
            }
            result.append(VolumeMount(name: parts[0], destination: destination, readOnly: modes.contains("ro"),
                                      anonymous: false, noCopy: modes.contains("nocopy")))
        }
        for mount in host.Mounts ?? [] where (mount.Type ?? "volume") == "volume" {
            guard let target = mount.Target, target.hasPrefix("/") else {
                throw EngineError(.invalidArgument, "invalid mount config for type \"volume\": the target must be an absolute path")
            }
            let destination = ContainerService.normalize(target)
            explicit.insert(destination)
            let source = mount.Source ?? ""
            if !source.isEmpty, !VolumeService.isValidName(source) {
                throw EngineError(.invalidArgument, "invalid mount config for type \"volume\": invalid volume name \"\(source)\"")
            }
            result.append(VolumeMount(name: source, destination: destination, readOnly: mount.ReadOnly ?? false,
                                      anonymous: source.isEmpty, noCopy: mount.VolumeOptions?.NoCopy ?? false))
        }
        for bind in host.Binds ?? [] where bind.hasPrefix("/") {
            let parts = bind.split(separator: ":").map(String.init)
            if parts.count >= 2 { explicit.insert(ContainerService.normalize(parts[1])) }
        }
        for mount in host.Mounts ?? [] where mount.Type == "bind" || mount.Type == "tmpfs" {
            if let target = mount.Target { explicit.insert(ContainerService.normalize(target)) }
        }
        for tmpfs in (host.Tmpfs ?? [:]).keys { explicit.insert(ContainerService.normalize(tmpfs)) }
        for reference in host.VolumesFrom ?? [] {
            let parts = reference.split(separator: ":").map(String.init)
            guard let source = store.find(parts[0]) else {
                throw EngineError(.notFound, "No such container: \(parts[0]) (named in --volumes-from)")
            }
            let mode = parts.count > 1 ? parts[1] : ""
            guard ["", "ro", "rw"].contains(mode) else {
                throw EngineError(.invalidArgument, "invalid mode for volumes-from: \(mode): use ro or rw")
            }
            var inherited = source.volumeMounts ?? []
            for bind in source.hostConfig.Binds ?? [] where bind.hasPrefix("/") {
                let fields = bind.split(separator: ":").map(String.init)
                guard fields.count >= 2 else { continue }
                inherited.append(VolumeMount(name: "", hostPath: fields[0], destination: ContainerService.normalize(fields[1]),
                                             readOnly: fields.count > 2 && fields[2].split(separator: ",").contains("ro"),
                                             anonymous: false, noCopy: true))
            }
            for var mount in inherited where !explicit.contains(mount.destination) {
                if mode == "ro" { mount.readOnly = true } else if mode == "rw" { mount.readOnly = false }
                mount.anonymous = false   // the source container owns it: our `rm -v` leaves it
                explicit.insert(mount.destination)
                result.append(mount)
            }
        }
        for destination in (merged.Volumes ?? [:]).keys.map(ContainerService.normalize).sorted() where !explicit.contains(destination) {
            result.append(VolumeMount(name: "", destination: destination, readOnly: false, anonymous: true, noCopy: false))
            explicit.insert(destination)
        }
        // Make the volumes: named ones when missing, anonymous ones with a random name.
        var made: [String] = []
        do {
            for index in result.indices where result[index].hostPath == nil {
                if result[index].name.isEmpty {
                    result[index].name = ContainerService.newID()
                    _ = try volumes.ensure(result[index].name, anonymous: true)
                    made.append(result[index].name)
                } else if volumes.find(result[index].name) == nil {
                    _ = try volumes.ensure(result[index].name, anonymous: false)
                }
            }
        } catch {
            for name in made { try? volumes.remove(name, force: true) }
            throw error
        }
        return result
    }

    /// The binds the runtime mounts for a container's volumes (after its own host binds).
    func volumeBinds(_ record: ContainerRecord, lowerDirs: [String]) throws -> [String] {
        var binds = (record.hostConfig.Binds ?? []).filter { $0.hasPrefix("/") && $0.contains(":") }
        for mount in record.volumeMounts ?? [] {
            let source: String
            if let hostPath = mount.hostPath {
                source = hostPath
            } else {
                source = try volumes.mountpoint(mount.name)
                if !mount.noCopy { copyUp(into: source, from: mount.destination, lowerDirs: lowerDirs) }
            }
            binds.append("\(source):\(mount.destination)" + (mount.readOnly ? ":ro" : ""))
        }
        return binds
    }

    /// Docker's copy-up: an empty volume mounted over content of the image starts with that
    /// content, owners, modes and extended attributes kept (`cp -a` from the image's layers,
    /// seen merged through a read-only overlay when there are several).
    func copyUp(into volume: String, from destination: String, lowerDirs: [String]) {
        guard (try? FileManager.default.contentsOfDirectory(atPath: volume))?.isEmpty ?? false, !lowerDirs.isEmpty else { return }
        var merged = lowerDirs[0]
        var mountedAt: String?
        if lowerDirs.count > 1 {
            let directory = store.root + "/../tmp/copyup-" + String(ContainerService.newID().prefix(12))
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            guard mount("overlay", directory, "overlay", UInt(MS_RDONLY), "lowerdir=" + lowerDirs.joined(separator: ":")) == 0 else {
                logger.warning("copy-up skipped: cannot mount the image's layers", metadata: ["error": "\(String(cString: strerror(errno)))"])
                try? FileManager.default.removeItem(atPath: directory)
                return
            }
            merged = directory
            mountedAt = directory
        }
        defer {
            if let mountedAt {
                umount2(mountedAt, Int32(MNT_DETACH))
                rmdir(mountedAt)
            }
        }
        var isDirectory: ObjCBool = false
        let source = merged + destination
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue else { return }
        do {
            try ProcessRunner.run("/bin/cp", ["-a", source + "/.", volume + "/"])
        } catch {
            logger.warning("copy-up failed", metadata: ["volume": "\(volume)", "error": "\(error)"])
        }
    }

    /// `rm -v` and `--rm`: the container's anonymous volumes go with it.
    func removeAnonymousVolumes(_ record: ContainerRecord) {
        for mount in record.volumeMounts ?? [] where mount.anonymous && mount.hostPath == nil {
            do { try volumes.remove(mount.name, force: true) } catch {
                logger.info("anonymous volume kept", metadata: ["name": "\(mount.name)", "reason": "\(error)"])
            }
        }
    }

    /// IDs of the containers (any state) that mount a volume.
    func volumeUsers(_ name: String) -> [String] {
        store.all().filter { ($0.volumeMounts ?? []).contains { $0.name == name } }.map(\.id)
    }

    func volumeMountPoints(_ record: ContainerRecord) -> [MountPoint] {
        (record.volumeMounts ?? []).map { mount in
            if let hostPath = mount.hostPath {
                return MountPoint(Type: "bind", Source: hostPath, Destination: mount.destination, Mode: mount.readOnly ? "ro" : "",
                                  RW: !mount.readOnly)
            }
            var point = MountPoint(Type: "volume", Source: volumes.dataPath(mount.name), Destination: mount.destination,
                                   Mode: mount.readOnly ? "ro" : "z", RW: !mount.readOnly)
            point.Name = mount.name
            point.Driver = "local"
            return point
        }
    }
}

/// A short external program (here `cp -a`), spawned without forking the daemon.
enum ProcessRunner {
    static func run(_ program: String, _ arguments: [String]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, program, &actions, nil, argv, environ)
        guard result == 0 else { throw EngineError(.internalError, "cannot run \(program): \(String(cString: strerror(result)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        guard status == 0 else { throw EngineError(.internalError, "\(program) \(arguments.joined(separator: " ")) failed (status \(status))") }
    }
}
