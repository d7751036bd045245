// Mirrors the OCI runtime-spec v1.1 container configuration for Linux
// (opencontainers/runtime-spec specs-go/config.go, config.md, config-linux.md).
// Only the Linux platform is mirrored; Solaris, Windows, VM, z/OS and FreeBSD sections, hooks,
// Intel RDT, scheduler and I/O priority are left out because Pier never writes them.
//
// The Go package's types are nested in `RuntimeSpec` (Go's `Spec`) so that names such as
// `Process` and `User` do not collide with Foundation's in modules that import both.
// Field names are the JSON keys. A Go field tagged `omitempty` is optional here, so that
// `nil` leaves the key out exactly as Go's encoder does; fields Go always writes
// (`process.user`, `process.cwd`, `root.path`, `linux.devices[].major` ...) are not.

/// `config.json` in a bundle: everything a runtime needs to create the container.
public struct RuntimeSpec: Codable, Hashable, Sendable {
    /// The version of the runtime-spec this configuration follows (`ociVersion`).
    public static let version = "1.1.0"

    public var ociVersion: String
    public var process: Process?
    public var root: Root?
    public var hostname: String?
    public var domainname: String?
    public var mounts: [Mount]?
    public var annotations: [String: String]?
    public var linux: Linux?

    public init(ociVersion: String = RuntimeSpec.version, process: Process? = nil, root: Root? = nil,
                hostname: String? = nil, domainname: String? = nil, mounts: [Mount]? = nil,
                annotations: [String: String]? = nil, linux: Linux? = nil) {
        self.ociVersion = ociVersion
        self.process = process
        self.root = root
        self.hostname = hostname
        self.domainname = domainname
        self.mounts = mounts
        self.annotations = annotations
        self.linux = linux
    }
}

extension RuntimeSpec {
    /// The container's first process (also the shape of `process.json` for `exec`).
    public struct Process: Codable, Hashable, Sendable {
        public var terminal: Bool?
        public var consoleSize: Box?
        public var user: User
        public var args: [String]?
        public var env: [String]?
        public var cwd: String
        public var capabilities: LinuxCapabilities?
        public var rlimits: [POSIXRlimit]?
        public var noNewPrivileges: Bool?
        public var apparmorProfile: String?
        public var oomScoreAdj: Int?
        public var selinuxLabel: String?

        public init(terminal: Bool? = nil, consoleSize: Box? = nil, user: User = User(), args: [String]? = nil,
                    env: [String]? = nil, cwd: String = "/", capabilities: LinuxCapabilities? = nil,
                    rlimits: [POSIXRlimit]? = nil, noNewPrivileges: Bool? = nil, oomScoreAdj: Int? = nil) {
            self.terminal = terminal
            self.consoleSize = consoleSize
            self.user = user
            self.args = args
            self.env = env
            self.cwd = cwd
            self.capabilities = capabilities
            self.rlimits = rlimits
            self.noNewPrivileges = noNewPrivileges
            self.oomScoreAdj = oomScoreAdj
        }
    }

    /// A terminal size in characters.
    public struct Box: Codable, Hashable, Sendable {
        public var height: UInt
        public var width: UInt

        public init(height: UInt, width: UInt) {
            self.height = height
            self.width = width
        }
    }

    /// The numeric identity the process runs as; names are resolved by the engine, not the runtime.
    public struct User: Codable, Hashable, Sendable {
        public var uid: UInt32
        public var gid: UInt32
        public var umask: UInt32?
        public var additionalGids: [UInt32]?

        public init(uid: UInt32 = 0, gid: UInt32 = 0, umask: UInt32? = nil, additionalGids: [UInt32]? = nil) {
            self.uid = uid
            self.gid = gid
            self.umask = umask
            self.additionalGids = additionalGids
        }
    }

    /// Capability names (`CAP_CHOWN` ...) for each of the five sets.
    public struct LinuxCapabilities: Codable, Hashable, Sendable {
        public var bounding: [String]?
        public var effective: [String]?
        public var inheritable: [String]?
        public var permitted: [String]?
        public var ambient: [String]?

        public init(bounding: [String]? = nil, effective: [String]? = nil, inheritable: [String]? = nil,
                    permitted: [String]? = nil, ambient: [String]? = nil) {
            self.bounding = bounding
            self.effective = effective
            self.inheritable = inheritable
            self.permitted = permitted
            self.ambient = ambient
        }
    }

    /// One `setrlimit`: `type` is `RLIMIT_NOFILE` and the like.
    public struct POSIXRlimit: Codable, Hashable, Sendable {
        public var type: String
        public var hard: UInt64
        public var soft: UInt64

        public init(type: String, hard: UInt64, soft: UInt64) {
            self.type = type
            self.hard = hard
            self.soft = soft
        }
    }

    public struct Root: Codable, Hashable, Sendable {
        public var path: String
        public var readonly: Bool?

        public init(path: String, readonly: Bool? = nil) {
            self.path = path
            self.readonly = readonly
        }
    }

    /// A mount made in the container's mount namespace, in order, before `pivot_root`.
    public struct Mount: Codable, Hashable, Sendable {
        public var destination: String
        public var type: String?
        public var source: String?
        public var options: [String]?
        public var uidMappings: [LinuxIDMapping]?
        public var gidMappings: [LinuxIDMapping]?

        public init(destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil) {
            self.destination = destination
            self.type = type
            self.source = source
            self.options = options
        }
    }

    /// The Linux section (config-linux.md).
    public struct Linux: Codable, Hashable, Sendable {
        public var uidMappings: [LinuxIDMapping]?
        public var gidMappings: [LinuxIDMapping]?
        public var sysctl: [String: String]?
        public var resources: LinuxResources?
        public var cgroupsPath: String?
        public var namespaces: [LinuxNamespace]?
        public var devices: [LinuxDevice]?
        public var seccomp: LinuxSeccomp?
        public var rootfsPropagation: String?
        public var maskedPaths: [String]?
        public var readonlyPaths: [String]?
        public var mountLabel: String?

        public init(sysctl: [String: String]? = nil, resources: LinuxResources? = nil, cgroupsPath: String? = nil,
                    namespaces: [LinuxNamespace]? = nil, devices: [LinuxDevice]? = nil, seccomp: LinuxSeccomp? = nil,
                    maskedPaths: [String]? = nil, readonlyPaths: [String]? = nil) {
            self.sysctl = sysctl
            self.resources = resources
            self.cgroupsPath = cgroupsPath
            self.namespaces = namespaces
            self.devices = devices
            self.seccomp = seccomp
            self.maskedPaths = maskedPaths
            self.readonlyPaths = readonlyPaths
        }
    }

    /// A namespace to create (no `path`) or to join (`path` of a `/proc/<pid>/ns/<type>` file).
    public struct LinuxNamespace: Codable, Hashable, Sendable {
        public var type: LinuxNamespaceType
        public var path: String?

        public init(type: LinuxNamespaceType, path: String? = nil) {
            self.type = type
            self.path = path
        }
    }

    /// The namespace kinds of config-linux.md; unknown kinds decode and round-trip unchanged.
    public struct LinuxNamespaceType: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let pid = LinuxNamespaceType(rawValue: "pid")
        public static let network = LinuxNamespaceType(rawValue: "network")
        public static let mount = LinuxNamespaceType(rawValue: "mount")
        public static let ipc = LinuxNamespaceType(rawValue: "ipc")
        public static let uts = LinuxNamespaceType(rawValue: "uts")
        public static let user = LinuxNamespaceType(rawValue: "user")
        public static let cgroup = LinuxNamespaceType(rawValue: "cgroup")
        public static let time = LinuxNamespaceType(rawValue: "time")

        public var description: String { rawValue }
    }

    public struct LinuxIDMapping: Codable, Hashable, Sendable {
        public var containerID: UInt32
        public var hostID: UInt32
        public var size: UInt32

        public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
            self.containerID = containerID
            self.hostID = hostID
            self.size = size
        }
    }

    /// A device node the runtime creates in the container's `/dev`.
    public struct LinuxDevice: Codable, Hashable, Sendable {
        public var path: String
        /// `c`, `b`, `u` or `p`.
        public var type: String
        public var major: Int64
        public var minor: Int64
        /// Permission bits (Go's `os.FileMode`, written as a number).
        public var fileMode: UInt32?
        public var uid: UInt32?
        public var gid: UInt32?

        public init(path: String, type: String, major: Int64, minor: Int64,
                    fileMode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil) {
            self.path = path
            self.type = type
            self.major = major
            self.minor = minor
            self.fileMode = fileMode
            self.uid = uid
            self.gid = gid
        }
    }

    /// A rule of the devices cgroup; `major`/`minor` absent (or -1) mean "any".
    public struct LinuxDeviceCgroup: Codable, Hashable, Sendable {
        public var allow: Bool
        /// `a`, `c` or `b`; absent means `a`.
        public var type: String?
        public var major: Int64?
        public var minor: Int64?
        /// Some of `rwm`.
        public var access: String?

        public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
            self.allow = allow
            self.type = type
            self.major = major
            self.minor = minor
            self.access = access
        }
    }

    public struct LinuxResources: Codable, Hashable, Sendable {
        public var devices: [LinuxDeviceCgroup]?
        public var memory: LinuxMemory?
        public var cpu: LinuxCPU?
        public var pids: LinuxPids?
        public var blockIO: LinuxBlockIO?
        /// cgroup v2 file name → value, written as is.
        public var unified: [String: String]?

        public init(devices: [LinuxDeviceCgroup]? = nil, memory: LinuxMemory? = nil, cpu: LinuxCPU? = nil,
                    pids: LinuxPids? = nil, blockIO: LinuxBlockIO? = nil, unified: [String: String]? = nil) {
            self.devices = devices
            self.memory = memory
            self.cpu = cpu
            self.pids = pids
            self.blockIO = blockIO
            self.unified = unified
        }
    }

    /// Memory limits in bytes. `swap` is memory *plus* swap, as in cgroup v1 (`-1` is unlimited).
    public struct LinuxMemory: Codable, Hashable, Sendable {
        public var limit: Int64?
        public var reservation: Int64?
        public var swap: Int64?
        public var kernel: Int64?
        public var kernelTCP: Int64?
        public var swappiness: UInt64?
        public var disableOOMKiller: Bool?
        public var useHierarchy: Bool?
        public var checkBeforeUpdate: Bool?

        public init(limit: Int64? = nil, reservation: Int64? = nil, swap: Int64? = nil,
                    swappiness: UInt64? = nil, disableOOMKiller: Bool? = nil) {
            self.limit = limit
            self.reservation = reservation
            self.swap = swap
            self.swappiness = swappiness
            self.disableOOMKiller = disableOOMKiller
        }
    }

    /// CPU limits: CFS `quota`/`period` in microseconds, v1-style `shares`, cpuset lists.
    public struct LinuxCPU: Codable, Hashable, Sendable {
        public var shares: UInt64?
        public var quota: Int64?
        public var burst: UInt64?
        public var period: UInt64?
        public var realtimeRuntime: Int64?
        public var realtimePeriod: UInt64?
        public var cpus: String?
        public var mems: String?
        public var idle: Int64?

        public init(shares: UInt64? = nil, quota: Int64? = nil, period: UInt64? = nil,
                    cpus: String? = nil, mems: String? = nil) {
            self.shares = shares
            self.quota = quota
            self.period = period
            self.cpus = cpus
            self.mems = mems
        }
    }

    public struct LinuxPids: Codable, Hashable, Sendable {
        /// Maximum number of tasks; `-1` (or absent) is unlimited.
        public var limit: Int64?

        public init(limit: Int64? = nil) { self.limit = limit }
    }

    public struct LinuxBlockIODevice: Codable, Hashable, Sendable {
        public var major: Int64
        public var minor: Int64

        public init(major: Int64, minor: Int64) {
            self.major = major
            self.minor = minor
        }
    }

    public struct LinuxWeightDevice: Codable, Hashable, Sendable {
        public var major: Int64
        public var minor: Int64
        public var weight: UInt16?
        public var leafWeight: UInt16?

        public init(major: Int64, minor: Int64, weight: UInt16? = nil, leafWeight: UInt16? = nil) {
            self.major = major
            self.minor = minor
            self.weight = weight
            self.leafWeight = leafWeight
        }
    }

    public struct LinuxThrottleDevice: Codable, Hashable, Sendable {
        public var major: Int64
        public var minor: Int64
        public var rate: UInt64

        public init(major: Int64, minor: Int64, rate: UInt64) {
            self.major = major
            self.minor = minor
            self.rate = rate
        }
    }

    public struct LinuxBlockIO: Codable, Hashable, Sendable {
        public var weight: UInt16?
        public var leafWeight: UInt16?
        public var weightDevice: [LinuxWeightDevice]?
        public var throttleReadBpsDevice: [LinuxThrottleDevice]?
        public var throttleWriteBpsDevice: [LinuxThrottleDevice]?
        public var throttleReadIOPSDevice: [LinuxThrottleDevice]?
        public var throttleWriteIOPSDevice: [LinuxThrottleDevice]?

        public init(weight: UInt16? = nil) { self.weight = weight }
    }

    /// A seccomp filter in libseccomp's terms: the default action and per-syscall rules.
    public struct LinuxSeccomp: Codable, Hashable, Sendable {
        public var defaultAction: LinuxSeccompAction
        public var defaultErrnoRet: UInt?
        /// `SCMP_ARCH_X86_64` ...: the architectures the filter accepts besides the native one.
        public var architectures: [String]?
        public var flags: [String]?
        public var listenerPath: String?
        public var listenerMetadata: String?
        public var syscalls: [LinuxSyscall]?

        public init(defaultAction: LinuxSeccompAction, defaultErrnoRet: UInt? = nil, architectures: [String]? = nil,
                    flags: [String]? = nil, syscalls: [LinuxSyscall]? = nil) {
            self.defaultAction = defaultAction
            self.defaultErrnoRet = defaultErrnoRet
            self.architectures = architectures
            self.flags = flags
            self.syscalls = syscalls
        }
    }

    /// `SCMP_ACT_*`; unknown actions decode and round-trip unchanged.
    public struct LinuxSeccompAction: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let kill = LinuxSeccompAction(rawValue: "SCMP_ACT_KILL")
        public static let killProcess = LinuxSeccompAction(rawValue: "SCMP_ACT_KILL_PROCESS")
        public static let killThread = LinuxSeccompAction(rawValue: "SCMP_ACT_KILL_THREAD")
        public static let trap = LinuxSeccompAction(rawValue: "SCMP_ACT_TRAP")
        public static let errno = LinuxSeccompAction(rawValue: "SCMP_ACT_ERRNO")
        public static let trace = LinuxSeccompAction(rawValue: "SCMP_ACT_TRACE")
        public static let allow = LinuxSeccompAction(rawValue: "SCMP_ACT_ALLOW")
        public static let log = LinuxSeccompAction(rawValue: "SCMP_ACT_LOG")
        public static let notify = LinuxSeccompAction(rawValue: "SCMP_ACT_NOTIFY")

        public var description: String { rawValue }
    }

    /// `SCMP_CMP_*`.
    public struct LinuxSeccompOperator: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let notEqual = LinuxSeccompOperator(rawValue: "SCMP_CMP_NE")
        public static let lessThan = LinuxSeccompOperator(rawValue: "SCMP_CMP_LT")
        public static let lessEqual = LinuxSeccompOperator(rawValue: "SCMP_CMP_LE")
        public static let equalTo = LinuxSeccompOperator(rawValue: "SCMP_CMP_EQ")
        public static let greaterEqual = LinuxSeccompOperator(rawValue: "SCMP_CMP_GE")
        public static let greaterThan = LinuxSeccompOperator(rawValue: "SCMP_CMP_GT")
        /// `(arg & value) == valueTwo`.
        public static let maskedEqual = LinuxSeccompOperator(rawValue: "SCMP_CMP_MASKED_EQ")

        public var description: String { rawValue }
    }

    /// A comparison on one syscall argument; several in one rule must all hold.
    public struct LinuxSeccompArg: Codable, Hashable, Sendable {
        public var index: UInt
        public var value: UInt64
        public var valueTwo: UInt64?
        public var op: LinuxSeccompOperator

        public init(index: UInt, value: UInt64, valueTwo: UInt64? = nil, op: LinuxSeccompOperator) {
            self.index = index
            self.value = value
            self.valueTwo = valueTwo
            self.op = op
        }
    }

    /// One rule: these syscall names get this action (when `args` match, if any).
    public struct LinuxSyscall: Codable, Hashable, Sendable {
        public var names: [String]
        public var action: LinuxSeccompAction
        public var errnoRet: UInt?
        public var args: [LinuxSeccompArg]?

        public init(names: [String], action: LinuxSeccompAction, errnoRet: UInt? = nil, args: [LinuxSeccompArg]? = nil) {
            self.names = names
            self.action = action
            self.errnoRet = errnoRet
            self.args = args
        }
    }
}
