import Foundation
import Logging
import PierAPI
import PierOCI
import PierRuntime
import PierStore
import Synchronization

/// Containers as Docker users see them: create, start, stop, kill, remove, wait, list, inspect,
/// logs, attach and exec. Processes run under `pier-shim` (see docs/runtime.md), which outlives
/// pierd; this service watches each shim's control socket and records how containers end.
public final class ContainerService: Sendable {
    let store: ContainerStore
    let images: ImageService
    let logger: Logger
    let launcher: ShimLauncher
    let initBinary: String
    /// Compiled seccomp filters, shared by containers with the same profile (`<root>/seccomp`).
    let seccompCache: String
    let hierarchy: CgroupHierarchy?
    let migrationPrimer: CgroupMigrationPrimer?
    let host: HostEnvironment
    let networks: NetworkService
    let volumes: VolumeService
    /// Live shim connections of running containers.
    let controls = Mutex<[String: ShimControl]>([:])
    /// Callers of `wait`: for the container to stop running, or to be removed.
    let exitWaiters = Mutex<[String: [ExitWaiter]]>([:])
    /// Attach requests that arrived before `start`: the process waits for them to connect.
    let pendingAttach = Mutex<[String: Int]>([:])
    /// Signalled when such an attach has connected (`start` waits on it).
    let attachConnected = NSCondition()
    /// Those attach requests waiting for the container's shim to come up, woken by `launch`.
    let shimWaiters = Mutex<[String: [UInt64: CheckedContinuation<Void, Never>]]>([:])
    let shimWaiterKeys = Atomic<UInt64>(0)
    /// Exec instances, kept in memory as Docker does.
    let execs = Mutex<[String: ExecRecord]>([:])
    /// Where container events go (`GET /events`).
    let events: EventBus

    init(root: String, images: ImageService, store: ContainerStore, networks: NetworkService, volumes: VolumeService,
         events: EventBus, logger: Logger) {
        self.store = store
        self.networks = networks
        self.volumes = volumes
        self.events = events
        self.images = images
        self.logger = logger
        let binaries = URL(fileURLWithPath: CommandLine.executablePath).deletingLastPathComponent().path
        launcher = ShimLauncher(executable: binaries + "/pier-shim")
        initBinary = binaries + "/pier-init"
        seccompCache = root + "/seccomp"
        hierarchy = try? CgroupHierarchy.detect()
        migrationPrimer = hierarchy.flatMap { CgroupMigrationPrimer(hierarchy: $0) }
        host = hierarchy.map { HostEnvironment.current(cgroups: $0) } ?? HostEnvironment(cgroupMode: .v1)
    }

    /// Publishes a container event with Docker's attributes (labels, `image`, `name`).
    func emit(_ record: ContainerRecord, _ action: String, _ extra: [String: String] = [:]) {
        var attributes = record.config.Labels ?? [:]
        attributes["image"] = record.imageName
        attributes["name"] = record.name
        attributes.merge(extra) { $1 }
        events.publish(EngineEvent(type: "container", action: action, id: record.id, attributes: attributes))
    }

    // MARK: lookup

    public func resolve(_ reference: String) throws(EngineError) -> ContainerRecord {
        guard let record = store.find(reference) else {
            throw EngineError(.notFound, "No such container: \(reference)")
        }
        return record
    }

    // MARK: create

    public func create(_ request: ContainerCreateRequest, name requestedName: String?) throws(EngineError) -> ContainerCreateResponse {
        guard let imageName = request.Image, !imageName.isEmpty else {
            throw EngineError(.invalidArgument, "config.Image is required: name the image to run")
        }
        let image: ImageRecord
        do { image = try images.resolve(imageName) } catch {
            if error.code == .notFound {
                throw EngineError(.notFound, "No such image: \(imageName)")
            }
            throw error
        }
        let imageConfig: ImageConfig
        do { imageConfig = try images.store.config(of: image) } catch { throw EngineError.from(error) }
        let id = ContainerService.newID()
        var name = requestedName.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 } ?? ""
        if !name.isEmpty {
            guard ContainerService.isValidName(name) else {
                throw EngineError(.invalidArgument,
                                  "Invalid container name (\(name)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
            }
            if let existing = store.nameInUse(name) {
                throw EngineError(.conflict, "Conflict. The container name \"/\(name)\" is already in use by container "
                                  + "\"\(existing.id)\". You have to remove (or rename) that container to be able to reuse that name.")
            }
        } else {
            name = ContainerNames.unused(id: id) { store.nameInUse($0) != nil }
        }
        let hostConfig = request.HostConfig ?? HostConfig()
        try validate(hostConfig)
        var merged = ContainerService.merge(request, imageConfig: imageConfig.config ?? ContainerConfig(), id: id)
        try prepareNetworking(&merged, hostConfig)
        let command = (merged.Entrypoint ?? []) + (merged.Cmd ?? [])
        guard !command.isEmpty else {
            throw EngineError(.invalidArgument, "no command specified: the image has no CMD or ENTRYPOINT; give a command")
        }
        let directory = store.directory(id)
        let volumeMounts = try createVolumeMounts(merged, hostConfig)
        do {
            for sub in ["bundle/rootfs", "upper", "work"] {
                try FileManager.default.createDirectory(atPath: "\(directory)/\(sub)", withIntermediateDirectories: true)
            }
            try ContainerFiles.write(directory: directory, hostname: merged.Hostname ?? String(id.prefix(12)),
                                     domainname: merged.Domainname, extraHosts: hostConfig.ExtraHosts ?? [],
                                     dns: hostConfig.Dns ?? [], dnsSearch: hostConfig.DnsSearch ?? [])
            var record = ContainerRecord(
                id: id, name: name, created: Timestamp.now(), imageName: imageName, imageID: image.id,
                config: merged, hostConfig: hostConfig, path: command[0], args: Array(command.dropFirst()))
            record.volumeMounts = volumeMounts.isEmpty ? nil : volumeMounts
            try store.save(record, durable: hostConfig.AutoRemove != true)
        } catch {
            for mount in volumeMounts where mount.anonymous { try? volumes.remove(mount.name, force: true) }
            store.remove(id)
            throw ContainerService.engineError(error)
        }
        // Made now so that the first move's grace period is paid while the client gets round to
        // `start`; failures are left for `launch` to report.
        _ = try? makeCgroup(id)
        logger.info("created container", metadata: ["id": "\(id.prefix(12))", "name": "\(name)"])
        if let record = store.get(id) { emit(record, "create") }
        return ContainerCreateResponse(Id: id, Warnings: [])
    }

    func validate(_ hostConfig: HostConfig) throws(EngineError) {
        if let cpus = hostConfig.NanoCpus, cpus < 0 {
            throw EngineError(.invalidArgument, "invalid CPU value: range of CPUs is from 0.01 to \(host.cpuCount).00, as there are only \(host.cpuCount) CPUs available")
        }
        if let cpus = hostConfig.NanoCpus, cpus > Int64(host.cpuCount) * 1_000_000_000 {
            throw EngineError(.invalidArgument, "Range of CPUs is from 0.01 to \(host.cpuCount).00, as there are only \(host.cpuCount) CPUs available")
        }
        if let memory = hostConfig.Memory, memory != 0, memory < 6 * 1024 * 1024 {
            throw EngineError(.invalidArgument, "Minimum memory limit allowed is 6MB")
        }
        if let policy = hostConfig.RestartPolicy?.Name, !["", "no", "always", "unless-stopped", "on-failure"].contains(policy) {
            throw EngineError(.invalidArgument, "invalid restart policy '\(policy)'")
        }
        if hostConfig.AutoRemove == true, let policy = hostConfig.RestartPolicy?.Name, !["", "no"].contains(policy) {
            throw EngineError(.invalidArgument, "conflicting options: cannot specify both --restart and --rm")
        }
    }

    /// The image's config with the request's overrides, as Docker stores `Config`.
    static func merge(_ request: ContainerCreateRequest, imageConfig: ContainerConfig, id: String) -> ContainerCreateRequest {
        var merged = request
        var env = imageConfig.Env ?? []
        for item in request.Env ?? [] {
            let key = item.split(separator: "=", maxSplits: 1).first.map(String.init) ?? item
            env.removeAll { $0 == key || $0.hasPrefix(key + "=") }
            env.append(item)
        }
        if !env.contains(where: { $0.hasPrefix("PATH=") }) {
            env.insert("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", at: 0)
        }
        merged.Env = env
        if request.Entrypoint != nil {
            merged.Entrypoint = request.Entrypoint?.isEmpty == true ? nil : request.Entrypoint
            merged.Cmd = request.Cmd
        } else {
            merged.Entrypoint = imageConfig.Entrypoint
            merged.Cmd = (request.Cmd?.isEmpty == false) ? request.Cmd : imageConfig.Cmd
        }
        merged.WorkingDir = (request.WorkingDir?.isEmpty == false) ? request.WorkingDir : imageConfig.WorkingDir
        merged.User = (request.User?.isEmpty == false) ? request.User : imageConfig.User
        merged.StopSignal = request.StopSignal ?? imageConfig.StopSignal
        merged.Hostname = (request.Hostname?.isEmpty == false) ? request.Hostname : String(id.prefix(12))
        merged.Healthcheck = ContainerService.mergeHealthcheck(request.Healthcheck, image: imageConfig.Healthcheck)
        var labels = imageConfig.Labels ?? [:]
        for (key, value) in request.Labels ?? [:] { labels[key] = value }
        merged.Labels = labels
        var ports = imageConfig.ExposedPorts ?? [:]
        for (key, value) in request.ExposedPorts ?? [:] { ports[key] = value }
        merged.ExposedPorts = ports.isEmpty ? nil : ports
        var volumes = imageConfig.Volumes ?? [:]
        for (key, value) in request.Volumes ?? [:] { volumes[key] = value }
        merged.Volumes = volumes.isEmpty ? nil : volumes
        merged.OnBuild = nil
        merged.HostConfig = nil
        return merged
    }

    /// Docker's merge: what `--health-*` left unset comes from the image's HEALTHCHECK.
    static func mergeHealthcheck(_ given: HealthcheckConfig?, image: HealthcheckConfig?) -> HealthcheckConfig? {
        guard var merged = given else { return image }
        guard let image else { return merged }
        if merged.Test?.isEmpty ?? true { merged.Test = image.Test }
        if (merged.Interval ?? 0) == 0 { merged.Interval = image.Interval }
        if (merged.Timeout ?? 0) == 0 { merged.Timeout = image.Timeout }
        if (merged.StartPeriod ?? 0) == 0 { merged.StartPeriod = image.StartPeriod }
        if (merged.StartInterval ?? 0) == 0 { merged.StartInterval = image.StartInterval }
        if (merged.Retries ?? 0) == 0 { merged.Retries = image.Retries }
        return merged
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic || ("0"..."9").contains(first),
              first.isASCII else { return false }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_.-".unicodeScalars.contains($0))
        }
    }

    static func newID() -> String {
        // Eight bytes per draw: each draw is a getrandom call.
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for _ in 0..<4 { withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) } }
        return Digest(sha256Bytes: bytes).encoded
    }

    static func engineError(_ error: any Error) -> EngineError {
        switch error {
        case let error as EngineError: return error
        case let error as RuntimeError:
            switch error.code {
            case .invalidArgument: return EngineError(.invalidArgument, error.message)
            case .notFound: return EngineError(.invalidArgument, error.message)
            default: return EngineError(.internalError, error.description)
            }
        case let error as StoreError: return EngineError.from(error)
        default: return EngineError(.internalError, "\(error)")
        }
    }
}

extension ContainerService {
    /// Makes a container's cgroup (idempotent; nil on a host without cgroups) and starts paying
    /// the kernel's grace period for the shim's move of the process into it (see
    /// CgroupMigrationPrimer). `create` calls it (`run` starts ~3 ms later, and the shim moves the
    /// process ~5 ms into the start), and `launch` again, for a container stopped since; `remove`
    /// takes the cgroup away. The primer writes only after the mkdirs, which would otherwise wait
    /// for it (a move holds cgroup_mutex while it waits).
    func makeCgroup(_ id: String) throws -> CgroupManager? {
        guard let hierarchy else { return nil }
        let manager = try CgroupManager(hierarchy: hierarchy, id: id, logger: logger)
        try manager.create()
        migrationPrimer?.prime()
        return manager
    }
}

/// Docker-style names for containers created without `--name`.
enum ContainerNames {
    static let adjectives = ["admiring", "brave", "clever", "dazzling", "eager", "focused", "gifted", "happy",
                             "jolly", "keen", "loving", "modest", "nifty", "optimistic", "peaceful", "quirky",
                             "relaxed", "serene", "trusting", "upbeat", "vibrant", "wizardly", "youthful", "zealous"]
    static let names = ["babbage", "curie", "darwin", "einstein", "feynman", "galileo", "hopper", "johnson",
                        "kepler", "lovelace", "meitner", "newton", "noether", "pascal", "ritchie", "shannon",
                        "thompson", "turing", "wozniak", "yonath", "lamarr", "goldberg", "hamilton", "knuth"]

    static func random() -> String {
        "\(adjectives.randomElement() ?? "brave")_\(names.randomElement() ?? "turing")"
    }

    /// A free name, as Docker picks one: a bare pair while one is quickly found, then pairs
    /// with a number (`brave_turing7`) from a range that widens as it fills up. There are only
    /// 576 bare pairs; this always ends, at worst with the container's short ID.
    static func unused(id: String, isTaken: (String) -> Bool) -> String {
        for attempt in 0..<64 {
            var name = random()
            if attempt >= 4 { name += String(Int.random(in: 0..<(10 << (attempt / 4)))) }
            if !isTaken(name) { return name }
        }
        return String(id.prefix(12))
    }
}

/// `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf` of a container (bind-mounted by the runtime).
enum ContainerFiles {
    /// The lines every container's /etc/hosts starts with, as Docker writes them.
    static let hostsHeader = """
        127.0.0.1\tlocalhost
        ::1\tlocalhost ip6-localhost ip6-loopback
        fe00::0\tip6-localnet
        ff00::0\tip6-mcastprefix
        ff02::1\tip6-allnodes
        ff02::2\tip6-allrouters

        """

    static func write(directory: String, hostname: String, domainname: String?, extraHosts: [String],
                      dns: [String], dnsSearch: [String]) throws {
        try FileSystem.writeAtomically(Array((hostname + "\n").utf8), to: directory + "/hostname", durable: false)
        var hosts = ContainerFiles.hostsHeader
        for entry in extraHosts {
            let parts = entry.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { hosts += "\(parts[1])\t\(parts[0])\n" }
        }
        try FileSystem.writeAtomically(Array(hosts.utf8), to: directory + "/hosts", durable: false)
        var resolv = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        if !dns.isEmpty || !dnsSearch.isEmpty {
            resolv = dns.map { "nameserver \($0)\n" }.joined() + (dnsSearch.isEmpty ? "" : "search \(dnsSearch.joined(separator: " "))\n")
        }
        try FileSystem.writeAtomically(Array(resolv.utf8), to: directory + "/resolv.conf", durable: false)
    }
}

extension CommandLine {
    /// The real path of the running executable.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments[0]
    }
}
