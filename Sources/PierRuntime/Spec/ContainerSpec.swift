import PierOCI

/// Everything Docker's create API resolves for one container, in Docker's terms: the image's
/// defaults, the `Config` and `HostConfig` fields the user set, and where pierd put the
/// container's files. `SpecBuilder` turns it into the OCI `config.json`.
///
/// Optional arrays keep Docker's three states: `nil` (not given, the image's value applies),
/// `[]` (given empty) and, for `entrypoint`, `[""]` (the CLI's `--entrypoint ""`, which clears
/// the image's entrypoint *and* its command).
public struct ContainerSpec: Sendable, Hashable {
    /// The container ID, 64 hex digits. Its first 12 are the default hostname.
    public var id: String
    /// The image's `config` (Env, Cmd, Entrypoint, WorkingDir, User, StopSignal).
    public var image: ContainerConfig

    // MARK: Config
    public var cmd: [String]?
    public var entrypoint: [String]?
    /// `KEY=value`, or `KEY` alone to unset an inherited value.
    public var env: [String]
    public var workingDir: String?
    /// `name|uid[:group|gid]`; nil or empty takes the image's.
    public var user: String?
    public var hostname: String?
    public var domainname: String?
    public var tty: Bool
    public var openStdin: Bool
    public var stdinOnce: Bool
    public var stopSignal: String?
    /// The terminal size the client asked for (`ConsoleSize` in HostConfig), when `tty`.
    public var consoleSize: RuntimeSpec.Box?

    // MARK: HostConfig
    public var readOnlyRootfs: Bool
    public var privileged: Bool
    public var capAdd: [String]
    public var capDrop: [String]
    /// `no-new-privileges[=bool]`, `seccomp=unconfined|builtin`, `apparmor=…`, `label=…`,
    /// `writable-cgroups[=bool]` (Docker's separators `=` and the deprecated `:`).
    public var securityOpt: [String]
    public var ulimits: [Ulimit]
    /// `--tmpfs`: container path → mount options (`size=64m,mode=1777`, may be empty).
    public var tmpfs: [String: String]
    /// `-v` strings: `/host:/ctr[:ro|rw][,propagation][,nocopy][,z|Z]`, `name:/ctr`, `/ctr`.
    public var binds: [String]
    /// `--mount` values.
    public var mounts: [MountRequest]
    /// Host directories of the named volumes in `binds`/`mounts`, keyed by volume name (or by
    /// container path for an anonymous volume). The engine creates volumes; the runtime mounts.
    public var volumePaths: [String: String]
    /// `--init`: run `pier-init` as PID 1 (needs `paths.initBinary`).
    public var initProcess: Bool
    public var groupAdd: [String]
    public var resources: Resources
    public var networkMode: NamespaceMode
    public var pidMode: NamespaceMode
    public var ipcMode: NamespaceMode
    public var utsMode: NamespaceMode
    /// nil takes Docker's default: a private cgroup namespace on cgroup v2, the host's on v1 and
    /// hybrid hosts (and for privileged containers there).
    public var cgroupnsMode: NamespaceMode?
    public var sysctls: [String: String]
    public var annotations: [String: String]
    public var oomScoreAdj: Int
    /// nil: Docker's defaults. `[]`: none (`--security-opt systempaths=unconfined`).
    public var maskedPaths: [String]?
    public var readonlyPaths: [String]?

    // MARK: Wiring
    public var paths: ContainerPaths

    public init(id: String, image: ContainerConfig = ContainerConfig(), paths: ContainerPaths) {
        self.id = id
        self.image = image
        self.cmd = nil
        self.entrypoint = nil
        self.env = []
        self.workingDir = nil
        self.user = nil
        self.hostname = nil
        self.domainname = nil
        self.tty = false
        self.openStdin = false
        self.stdinOnce = false
        self.stopSignal = nil
        self.consoleSize = nil
        self.readOnlyRootfs = false
        self.privileged = false
        self.capAdd = []
        self.capDrop = []
        self.securityOpt = []
        self.ulimits = []
        self.tmpfs = [:]
        self.binds = []
        self.mounts = []
        self.volumePaths = [:]
        self.initProcess = false
        self.groupAdd = []
        self.resources = Resources()
        self.networkMode = .private
        self.pidMode = .private
        self.ipcMode = .private
        self.utsMode = .private
        self.cgroupnsMode = nil
        self.sysctls = [:]
        self.annotations = [:]
        self.oomScoreAdj = 0
        self.maskedPaths = nil
        self.readonlyPaths = nil
        self.paths = paths
    }
}

/// Where pierd put the container's files (see docs/runtime.md, "Per-container directory").
public struct ContainerPaths: Sendable, Hashable {
    /// `<root>/containers/<id>/bundle`; the root filesystem is mounted at `bundle/rootfs`.
    public var bundle: String
    /// Image layer directories, top layer first (overlayfs `lowerdir=` order).
    public var lowerDirs: [String]
    public var upperDir: String
    public var workDir: String
    public var hostnameFile: String?
    public var hostsFile: String?
    public var resolvConfFile: String?
    /// The `cgroup.procs` files the shim writes the container's pid into (`CgroupManager.procsFiles`).
    public var cgroupProcsFiles: [String]
    /// Informational `linux.cgroupsPath` (`/pier/<id>`); the shim uses `cgroupProcsFiles`.
    public var cgroupsPath: String?
    /// The host path of `pier-init`, bind-mounted at /sbin/docker-init for `--init`.
    public var initBinary: String?
    /// A directory where the shim keeps compiled seccomp filters, so that containers with the same
    /// profile skip libseccomp (~1 ms of every start); nil compiles every time.
    public var seccompCache: String?

    public init(bundle: String, lowerDirs: [String], upperDir: String, workDir: String,
                hostnameFile: String? = nil, hostsFile: String? = nil, resolvConfFile: String? = nil,
                cgroupProcsFiles: [String] = [], cgroupsPath: String? = nil, initBinary: String? = nil,
                seccompCache: String? = nil) {
        self.bundle = bundle
        self.lowerDirs = lowerDirs
        self.upperDir = upperDir
        self.workDir = workDir
        self.hostnameFile = hostnameFile
        self.hostsFile = hostsFile
        self.resolvConfFile = resolvConfFile
        self.cgroupProcsFiles = cgroupProcsFiles
        self.cgroupsPath = cgroupsPath
        self.initBinary = initBinary
        self.seccompCache = seccompCache
    }

    /// `bundle/rootfs`.
    public var rootfs: String { joinPath(bundle, "rootfs") }
}

/// How a container gets one kind of namespace.
public enum NamespaceMode: Sendable, Hashable {
    /// A new namespace (Docker's `private`, `bridge`, `none`, `shareable`).
    case `private`
    /// The host's (`--pid host`, `--network host` ...): no namespace of that kind is created.
    case host
    /// Join the namespace at this path (`/proc/<pid>/ns/net` for `--network container:x`).
    case path(String)
}

/// One `--ulimit name=soft[:hard]`.
public struct Ulimit: Sendable, Hashable, Codable {
    public var name: String
    public var soft: Int64
    public var hard: Int64

    public init(name: String, soft: Int64, hard: Int64) {
        self.name = name
        self.soft = soft
        self.hard = hard
    }
}

/// One `--mount` (the Engine API's `HostConfig.Mounts[]`).
public struct MountRequest: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case bind, volume, tmpfs
    }

    public var type: Kind
    /// Host path (bind), volume name (volume; empty for anonymous), nothing for tmpfs.
    public var source: String
    public var target: String
    public var readOnly: Bool
    /// Bind options.
    public var propagation: String?
    public var nonRecursive: Bool
    public var createMountpoint: Bool
    /// Tmpfs options: size in bytes (0: the kernel's default), permission bits (0: default).
    public var tmpfsSize: Int64
    public var tmpfsMode: UInt32
    /// Extra tmpfs flags (`exec`, `noexec`) as the API's `[["exec"]]` pairs.
    public var tmpfsOptions: [[String]]

    public init(type: Kind, source: String = "", target: String, readOnly: Bool = false,
                propagation: String? = nil, nonRecursive: Bool = false, createMountpoint: Bool = false,
                tmpfsSize: Int64 = 0, tmpfsMode: UInt32 = 0, tmpfsOptions: [[String]] = []) {
        self.type = type
        self.source = source
        self.target = target
        self.readOnly = readOnly
        self.propagation = propagation
        self.nonRecursive = nonRecursive
        self.createMountpoint = createMountpoint
        self.tmpfsSize = tmpfsSize
        self.tmpfsMode = tmpfsMode
        self.tmpfsOptions = tmpfsOptions
    }
}

/// The resource fields of HostConfig, with the API's units (bytes, nano-CPUs, microseconds).
/// Zero means "not set", as in the API.
public struct Resources: Sendable, Hashable, Codable {
    public var memory: Int64
    /// Memory plus swap; 0 takes twice `memory` (Docker's default), -1 is unlimited swap.
    public var memorySwap: Int64
    public var memoryReservation: Int64
    public var memorySwappiness: Int64?
    public var oomKillDisable: Bool?
    public var nanoCPUs: Int64
    public var cpuShares: Int64
    public var cpuPeriod: Int64
    public var cpuQuota: Int64
    public var cpusetCpus: String
    public var cpusetMems: String
    /// nil: unset; 0 or negative: unlimited.
    public var pidsLimit: Int64?
    public var blkioWeight: UInt16
    /// /dev/shm size; 0 takes 64 MiB.
    public var shmSize: Int64

    public init(memory: Int64 = 0, memorySwap: Int64 = 0, memoryReservation: Int64 = 0,
                memorySwappiness: Int64? = nil, oomKillDisable: Bool? = nil, nanoCPUs: Int64 = 0,
                cpuShares: Int64 = 0, cpuPeriod: Int64 = 0, cpuQuota: Int64 = 0,
                cpusetCpus: String = "", cpusetMems: String = "", pidsLimit: Int64? = nil,
                blkioWeight: UInt16 = 0, shmSize: Int64 = 0) {
        self.memory = memory
        self.memorySwap = memorySwap
        self.memoryReservation = memoryReservation
        self.memorySwappiness = memorySwappiness
        self.oomKillDisable = oomKillDisable
        self.nanoCPUs = nanoCPUs
        self.cpuShares = cpuShares
        self.cpuPeriod = cpuPeriod
        self.cpuQuota = cpuQuota
        self.cpusetCpus = cpusetCpus
        self.cpusetMems = cpusetMems
        self.pidsLimit = pidsLimit
        self.blkioWeight = blkioWeight
        self.shmSize = shmSize
    }

    /// Docker's default /dev/shm size.
    public static let defaultShmSize: Int64 = 64 * 1024 * 1024
}
