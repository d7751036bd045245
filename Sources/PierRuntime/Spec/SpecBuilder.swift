import Foundation
import PierOCI

/// The annotations of `config.json` that carry what the OCI spec has no field for
/// (docs/runtime.md).
public enum PierAnnotation {
    /// Colon-separated `cgroup.procs` files the shim writes the container's pid into.
    public static let cgroupProcs = "org.pier.cgroup.procs"
    /// Colon-separated overlay lower dirs, top layer first.
    public static let lowerDir = "org.pier.overlay.lowerdir"
    public static let upperDir = "org.pier.overlay.upperdir"
    public static let workDir = "org.pier.overlay.workdir"
    /// `true`: a client's half-close of the attach stream closes the container's stdin.
    public static let stdinOnce = "org.pier.stdin-once"
    /// The directory of compiled seccomp filters the shim may read and add to.
    public static let seccompCache = "org.pier.seccomp.cache"
}

/// A generated `config.json` and what the engine records next to it.
public struct BuiltSpec: Sendable, Hashable {
    public var spec: RuntimeSpec
    /// The resolved identity (its `home` is also in `HOME` unless the user set one).
    public var user: ResolvedUser
    /// The signal `docker stop` sends first (`--stop-signal`, else the image's, else SIGTERM).
    public var stopSignal: Int32
    /// Docker's warnings for settings the host cannot enforce (the API returns them from create).
    public var warnings: [String]

    /// `config.json` bytes, keys sorted so that equal specs are equal files.
    public func json() throws(RuntimeError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(spec))
        } catch {
            throw RuntimeError(.system, "cannot encode the OCI config", cause: ErrorText(error))
        }
    }

    /// Writes `bundle/config.json` atomically. Blocks.
    public func write(toBundle bundle: String) throws(RuntimeError) {
        try PosixFile.writeAtomically(try json(), to: joinPath(bundle, "config.json"), mode: 0o600)
    }
}

/// Builds the OCI runtime config Docker would give a container: Docker's capabilities, masked
/// and read-only paths, devices, mounts, namespaces, seccomp policy, the ENTRYPOINT/CMD and
/// environment rules, and `--user` resolved against the image's own /etc/passwd and /etc/group.
public struct SpecBuilder: Sendable {
    public var host: HostEnvironment

    public init(host: HostEnvironment) { self.host = host }

    /// Blocks: reads /etc/passwd and /etc/group from the layer directories, creates missing
    /// `-v` source directories (as Docker does), and lists /dev for `--privileged`.
    public func build(_ c: ContainerSpec) throws(RuntimeError) -> BuiltSpec {
        guard !c.id.isEmpty, !c.id.contains("/") else {
            throw RuntimeError(.invalidArgument, "invalid container id \"\(c.id)\"")
        }
        let security = try SecurityOptions.parse(c.securityOpt)
        let resources = ResourceValidation.applyDefaults(c.resources)
        var warnings = try ResourceValidation.validate(resources, cpuCount: host.cpuCount,
                                                       swapLimitSupported: host.swapLimitSupported)

        // Process.
        var args = try ProcessArguments.command(image: c.image, entrypoint: c.entrypoint, cmd: c.cmd)
        let withInit = c.initProcess && c.pidMode == .private
        if withInit {
            guard c.paths.initBinary != nil else {
                throw RuntimeError(.unsupported, "--init needs pier-init, but its path is not known to the runtime (ContainerPaths.initBinary)")
            }
            args = [Self.initPath, "--"] + args
        }
        let userSpec = (c.user?.isEmpty == false ? c.user : c.image.User) ?? ""
        let rootfs = LayeredRootfs(layers: [c.paths.upperDir] + c.paths.lowerDirs)
        let user = try UserLookup.resolve(userSpec, groupAdd: c.groupAdd, in: rootfs)
        let hostname = c.hostname.flatMap { $0.isEmpty ? nil : $0 } ?? defaultHostname(c)
        let env = ProcessArguments.environment(
            configEnv: ProcessArguments.mergeConfigEnv(image: c.image.Env, user: c.env),
            hostname: hostname, tty: c.tty, home: user.home.isEmpty ? "/" : user.home)
        let cwd = try workingDirectory(c)
        let capabilities = try Capabilities.resolve(add: c.capAdd, drop: c.capDrop, privileged: c.privileged,
                                                    available: host.capabilities)
        let rlimits = try Ulimits.rlimits(c.ulimits, daemonHardLimits: host.hardLimits,
                                          canRaiseHardLimits: host.capabilities.contains("CAP_SYS_RESOURCE"))
        var process = RuntimeSpec.Process(
            terminal: c.tty ? true : nil, user: RuntimeSpec.User(uid: user.uid, gid: user.gid, additionalGids: user.additionalGids),
            args: args, env: env, cwd: cwd,
            capabilities: RuntimeSpec.LinuxCapabilities(bounding: capabilities, effective: capabilities, permitted: capabilities),
            rlimits: rlimits.isEmpty ? nil : rlimits, noNewPrivileges: security.noNewPrivileges ? true : nil,
            oomScoreAdj: c.oomScoreAdj)
        if c.tty, let size = c.consoleSize, size.height > 0 || size.width > 0 { process.consoleSize = size }

        // Filesystem.
        let (mounts, rootfsPropagation) = try buildMounts(c, resources: resources, withInit: withInit,
                                                          writableCgroups: security.writableCgroups ?? c.privileged,
                                                          warnings: &warnings)

        // Linux.
        var linux = RuntimeSpec.Linux()
        linux.namespaces = namespaces(c)
        linux.cgroupsPath = c.paths.cgroupsPath
        linux.rootfsPropagation = rootfsPropagation
        var devices = DockerDefaults.devices
        if c.privileged {
            let hostDevices = DockerDefaults.hostDevices(in: host.deviceDirectory)
            let hostPaths = Set(hostDevices.map(\.path))
            devices = hostDevices + devices.filter { !hostPaths.contains($0.path) }
        }
        linux.devices = devices
        linux.resources = linuxResources(resources, privileged: c.privileged)
        if !c.privileged && !security.seccompUnconfined {
            linux.seccomp = DockerSeccomp.profile(capabilities: capabilities, architecture: host.architecture)
        }
        if !c.privileged {
            let masked = c.maskedPaths ?? (DockerDefaults.maskedPaths + host.thermalThrottlePaths)
            let readonly = c.readonlyPaths ?? DockerDefaults.readonlyPaths
            linux.maskedPaths = masked.isEmpty ? nil : masked
            linux.readonlyPaths = readonly.isEmpty ? nil : readonly
        }
        var sysctls = [String: String]()
        if c.networkMode == .private {
            for (key, value) in HostEnvironment.dockerNetworkSysctls where host.sysctls.contains(key) { sysctls[key] = value }
        }
        for (key, value) in c.sysctls { sysctls[key] = value }
        linux.sysctl = sysctls.isEmpty ? nil : sysctls

        let spec = RuntimeSpec(
            process: process,
            root: RuntimeSpec.Root(path: c.paths.rootfs, readonly: c.readOnlyRootfs ? true : nil),
            hostname: c.utsMode == .host ? nil : hostname,
            domainname: c.utsMode != .host && c.domainname?.isEmpty == false ? c.domainname : nil,
            mounts: mounts,
            annotations: try annotations(c),
            linux: linux)
        let stopSignal = try Signals.parse(c.stopSignal ?? c.image.StopSignal ?? "SIGTERM")
        return BuiltSpec(spec: spec, user: user, stopSignal: stopSignal, warnings: warnings)
    }

    /// Where `--init` puts pier-init in the container (Docker's name for it).
    public static let initPath = "/sbin/docker-init"

    func defaultHostname(_ c: ContainerSpec) -> String {
        if c.networkMode == .host {
            var buffer = [CChar](repeating: 0, count: 256)
            if gethostname(&buffer, buffer.count - 1) == 0 {
                return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
        return String(c.id.prefix(12))
    }

    func workingDirectory(_ c: ContainerSpec) throws(RuntimeError) -> String {
        let dir = (c.workingDir?.isEmpty == false ? c.workingDir : c.image.WorkingDir) ?? ""
        guard !dir.isEmpty else { return "/" }
        guard dir.hasPrefix("/") else {
            throw RuntimeError(.invalidArgument, "the working directory '\(dir)' is invalid, it needs to be an absolute path")
        }
        return cleanPath(dir)
    }

    // MARK: - Mounts

    func buildMounts(_ c: ContainerSpec, resources: Resources, withInit: Bool, writableCgroups: Bool,
                     warnings: inout [String]) throws(RuntimeError) -> ([RuntimeSpec.Mount], String?) {
        var requested = [UserMount]()
        var seen = Set<String>()
        for raw in c.binds {
            let mount = try MountRules.bind(raw, volumePaths: c.volumePaths)
            guard seen.insert(mount.mount.destination).inserted else {
                throw RuntimeError(.invalidArgument, "Duplicate mount point: \(mount.mount.destination)")
            }
            requested.append(mount)
        }
        var tmpfs = [UserMount]()
        for request in c.mounts {
            let mount = try MountRules.request(request, volumePaths: c.volumePaths)
            guard seen.insert(mount.mount.destination).inserted else {
                throw RuntimeError(.invalidArgument, "Duplicate mount point: \(mount.mount.destination)")
            }
            if request.type == .tmpfs { tmpfs.append(mount) } else { requested.append(mount) }
        }
        for (destination, data) in c.tmpfs.sorted(by: { $0.key < $1.key }) {
            tmpfs.append(try MountRules.tmpfs(destination: destination, data: data))
        }
        for mount in requested where mount.createSource {
            guard let source = mount.mount.source, !PosixFile.exists(source) else { continue }
            do {
                try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
            } catch {
                throw RuntimeError(.system, "cannot create the bind source directory \(source)", cause: ErrorText(error))
            }
        }
        var user = requested.map(\.mount)
        var taken = Set(user.map(\.destination)).union(tmpfs.map(\.mount.destination))
        // /etc/resolv.conf, /etc/hostname, /etc/hosts: writable unless the rootfs is read-only.
        let networkFiles: [(String?, String)] = [(c.paths.resolvConfFile, "/etc/resolv.conf"),
                                                 (c.paths.hostnameFile, "/etc/hostname"),
                                                 (c.paths.hostsFile, "/etc/hosts")]
        for case let (source?, destination) in networkFiles where !taken.contains(destination) {
            guard PosixFile.exists(source) else {
                warnings.append("\(destination) is not mounted: \(source) does not exist")
                continue
            }
            user.append(MountRules.bindMount(destination: destination, source: source, readOnly: c.readOnlyRootfs,
                                             recursive: true, propagation: MountRules.defaultPropagation))
            taken.insert(destination)
        }
        if c.ipcMode == .host && !taken.contains("/dev/shm") {
            user.append(MountRules.bindMount(destination: "/dev/shm", source: "/dev/shm", readOnly: false,
                                             recursive: true, propagation: MountRules.defaultPropagation))
            taken.insert("/dev/shm")
        }
        user += tmpfs.map(\.mount)
        let sortedUser = user.enumerated().sorted { a, b in
            let (da, db) = (Self.depth(a.element.destination), Self.depth(b.element.destination))
            return da != db ? da < db : a.offset < b.offset
        }.map(\.element)

        // Docker's defaults, minus what the user mounted over (everything under /dev if /dev).
        let devMounted = taken.contains("/dev")
        var mounts = DockerDefaults.mounts(shmSize: resources.shmSize).filter { mount in
            !taken.contains(mount.destination) && !(devMounted && mount.destination.hasPrefix("/dev/"))
        }
        if withInit, let initBinary = c.paths.initBinary {
            mounts.append(RuntimeSpec.Mount(destination: Self.initPath, type: "bind", source: initBinary, options: ["bind", "ro"]))
        }
        for index in mounts.indices {
            var options = mounts[index].options ?? []
            if c.readOnlyRootfs && !["/proc", "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev"].contains(mounts[index].destination)
                && !options.contains("ro") {
                options.append("ro")
            }
            if c.privileged && mounts[index].destination == "/sys" { options.removeAll { $0 == "ro" } }
            if writableCgroups && mounts[index].type == "cgroup" { options.removeAll { $0 == "ro" } }
            mounts[index].options = options
        }

        // Shared or slave binds need the rootfs to propagate too (Docker's withMounts).
        var propagation: String?
        for mount in requested {
            switch mount.propagation {
            case "shared", "rshared": propagation = "shared"
            case "slave", "rslave": if propagation == nil { propagation = "rslave" }
            default: break
            }
        }
        return (mounts + sortedUser, propagation)
    }

    static func depth(_ destination: String) -> Int {
        cleanPath(destination).filter { $0 == "/" }.count
    }

    // MARK: - Linux

    func namespaces(_ c: ContainerSpec) -> [RuntimeSpec.LinuxNamespace] {
        var result = [RuntimeSpec.LinuxNamespace(type: .mount)]
        func add(_ type: RuntimeSpec.LinuxNamespaceType, _ mode: NamespaceMode) {
            switch mode {
            case .private: result.append(.init(type: type))
            case .path(let path): result.append(.init(type: type, path: path))
            case .host: break
            }
        }
        add(.network, c.networkMode)
        add(.uts, c.utsMode)
        add(.pid, c.pidMode)
        add(.ipc, c.ipcMode)
        add(.cgroup, c.cgroupnsMode ?? (host.cgroupMode == .v2 ? .private : .host))
        return result
    }

    func linuxResources(_ r: Resources, privileged: Bool) -> RuntimeSpec.LinuxResources {
        var resources = RuntimeSpec.LinuxResources()
        resources.devices = privileged ? [RuntimeSpec.LinuxDeviceCgroup(allow: true, access: "rwm")] : DockerDefaults.deviceRules
        var memory = RuntimeSpec.LinuxMemory()
        if r.memory > 0 { memory.limit = r.memory }
        if r.memoryReservation > 0 { memory.reservation = r.memoryReservation }
        if r.memorySwap > 0 { memory.swap = r.memorySwap }
        if let swappiness = r.memorySwappiness, swappiness >= 0 { memory.swappiness = UInt64(swappiness) }
        if let disable = r.oomKillDisable { memory.disableOOMKiller = disable }
        if memory != RuntimeSpec.LinuxMemory() { resources.memory = memory }
        var cpu = RuntimeSpec.LinuxCPU()
        if r.cpuShares > 0 { cpu.shares = UInt64(r.cpuShares) }
        if !r.cpusetCpus.isEmpty { cpu.cpus = r.cpusetCpus }
        if !r.cpusetMems.isEmpty { cpu.mems = r.cpusetMems }
        if r.nanoCPUs > 0 {
            let period: UInt64 = 100_000
            cpu.period = period
            cpu.quota = r.nanoCPUs * Int64(period) / 1_000_000_000
        }
        if r.cpuPeriod != 0 { cpu.period = UInt64(r.cpuPeriod) }
        if r.cpuQuota != 0 { cpu.quota = r.cpuQuota }
        if cpu != RuntimeSpec.LinuxCPU() { resources.cpu = cpu }
        if let limit = r.pidsLimit { resources.pids = RuntimeSpec.LinuxPids(limit: limit > 0 ? limit : -1) }
        resources.blockIO = RuntimeSpec.LinuxBlockIO(weight: r.blkioWeight != 0 ? r.blkioWeight : nil)
        return resources
    }

    func annotations(_ c: ContainerSpec) throws(RuntimeError) -> [String: String] {
        for path in c.paths.lowerDirs + [c.paths.upperDir, c.paths.workDir] + c.paths.cgroupProcsFiles
        where path.contains(":") || path.contains(",") {
            throw RuntimeError(.invalidArgument, "path \(path) contains ':' or ',', which overlayfs options cannot carry; move Pier's root directory")
        }
        var result = c.annotations
        result[PierAnnotation.cgroupProcs] = c.paths.cgroupProcsFiles.joined(separator: ":")
        result[PierAnnotation.lowerDir] = c.paths.lowerDirs.joined(separator: ":")
        result[PierAnnotation.upperDir] = c.paths.upperDir
        result[PierAnnotation.workDir] = c.paths.workDir
        result[PierAnnotation.stdinOnce] = c.stdinOnce ? "true" : "false"
        result[PierAnnotation.seccompCache] = c.paths.seccompCache
        return result
    }
}

/// `--security-opt` values as Docker parses them (moby `parseSecurityOpt`).
struct SecurityOptions: Hashable {
    var noNewPrivileges = false
    var seccompUnconfined = false
    var writableCgroups: Bool?

    static func parse(_ options: [String]) throws(RuntimeError) -> SecurityOptions {
        var result = SecurityOptions()
        for option in options {
            if option == "no-new-privileges" { result.noNewPrivileges = true; continue }
            if option == "writable-cgroups" { result.writableCgroups = true; continue }
            if option == "disable" { continue }
            let separator: Character? = option.contains("=") ? "=" : (option.contains(":") ? ":" : nil)
            guard let separator, let index = option.firstIndex(of: separator) else {
                throw RuntimeError(.invalidArgument, "invalid --security-opt 1: \"\(option)\"")
            }
            let key = String(option[..<index])
            let value = String(option[option.index(after: index)...])
            switch key {
            case "label", "apparmor":
                continue
            case "seccomp":
                switch value {
                case "unconfined": result.seccompUnconfined = true
                case "", "builtin": result.seccompUnconfined = false
                default:
                    throw RuntimeError(.unsupported, "custom seccomp profiles are not supported by Pier yet; use seccomp=unconfined or leave the default")
                }
            case "no-new-privileges":
                guard let flag = goBool(value) else { throw RuntimeError(.invalidArgument, "invalid --security-opt 2: \"\(option)\"") }
                result.noNewPrivileges = flag
            case "writable-cgroups":
                guard let flag = goBool(value) else { throw RuntimeError(.invalidArgument, "invalid --security-opt 2: \"\(option)\"") }
                result.writableCgroups = flag
            default:
                throw RuntimeError(.invalidArgument, "invalid --security-opt 2: \"\(option)\"")
            }
        }
        return result
    }

    /// Go's `strconv.ParseBool`.
    static func goBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }
}
