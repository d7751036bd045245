import Foundation
import PierOCI

/// What the spec depends on about the host, gathered once by `current()` so that building a
/// spec is a pure function of `ContainerSpec` and this value (and tests can describe any host).
public struct HostEnvironment: Sendable, Hashable {
    public var cgroupMode: CgroupMode
    /// pierd's effective capabilities: what `--privileged` grants and `--cap-add` may name.
    public var capabilities: [String]
    public var cpuCount: Int
    /// Go's GOARCH for the host (`amd64`, `arm64`), for the seccomp architectures.
    public var architecture: String
    /// `/sys/devices/system/cpu/cpuN/thermal_throttle` directories that exist: Docker masks them.
    public var thermalThrottlePaths: [String]
    /// Which of Docker's default network sysctls the kernel has.
    public var sysctls: Set<String>
    /// pierd's hard rlimits by `RLIMIT_` name, to catch `--ulimit` values it cannot grant.
    public var hardLimits: [String: UInt64]
    /// Whether memory.memsw / memory.swap.max exist (Docker warns when not).
    public var swapLimitSupported: Bool
    /// Where to find host devices for `--privileged`.
    public var deviceDirectory: String

    public init(cgroupMode: CgroupMode, capabilities: [String] = Capabilities.known, cpuCount: Int = 1,
                architecture: String = PierOCI.Platform.host.architecture, thermalThrottlePaths: [String] = [],
                sysctls: Set<String> = HostEnvironment.dockerNetworkSysctls.reduce(into: []) { $0.insert($1.key) },
                hardLimits: [String: UInt64] = [:], swapLimitSupported: Bool = true, deviceDirectory: String = "/dev") {
        self.cgroupMode = cgroupMode
        self.capabilities = capabilities
        self.cpuCount = cpuCount
        self.architecture = architecture
        self.thermalThrottlePaths = thermalThrottlePaths
        self.sysctls = sysctls
        self.hardLimits = hardLimits
        self.swapLimitSupported = swapLimitSupported
        self.deviceDirectory = deviceDirectory
    }

    /// The sysctls Docker sets in a container's own network namespace: ICMP echo sockets for
    /// every group, and binding any port without CAP_NET_BIND_SERVICE.
    public static let dockerNetworkSysctls: [(key: String, value: String)] = [
        ("net.ipv4.ping_group_range", "0 2147483647"),
        ("net.ipv4.ip_unprivileged_port_start", "0"),
    ]

    /// Reads this host. Blocks (reads /proc and /sys).
    public static func current(cgroups: CgroupHierarchy) -> HostEnvironment {
        let cpus = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        var thermal = [String]()
        let possible = ((try? PosixFile.readText("/sys/devices/system/cpu/possible")) ?? nil) ?? "0-\(max(cpus, 1) - 1)"
        for cpu in cpuList(possible) {
            let path = "/sys/devices/system/cpu/cpu\(cpu)/thermal_throttle"
            if PosixFile.exists(path) { thermal.append(path) }
        }
        var sysctls = Set<String>()
        for (key, _) in dockerNetworkSysctls where PosixFile.exists("/proc/sys/" + key.replacingOccurrences(of: ".", with: "/")) {
            sysctls.insert(key)
        }
        var limits = [String: UInt64]()
        let resources: [(String, Int32)] = [
            ("RLIMIT_CPU", 0), ("RLIMIT_FSIZE", 1), ("RLIMIT_DATA", 2), ("RLIMIT_STACK", 3), ("RLIMIT_CORE", 4),
            ("RLIMIT_RSS", 5), ("RLIMIT_NPROC", 6), ("RLIMIT_NOFILE", 7), ("RLIMIT_MEMLOCK", 8), ("RLIMIT_AS", 9),
            ("RLIMIT_LOCKS", 10), ("RLIMIT_SIGPENDING", 11), ("RLIMIT_MSGQUEUE", 12), ("RLIMIT_NICE", 13),
            ("RLIMIT_RTPRIO", 14), ("RLIMIT_RTTIME", 15),
        ]
        for (name, resource) in resources {
            var limit = rlimit()
            if getrlimit(__rlimit_resource_t(UInt32(resource)), &limit) == 0 { limits[name] = UInt64(limit.rlim_max) }
        }
        // cgroup v2 keeps swap in memory.swap.max of each child, present whenever swap accounting is.
        var swap = true
        if cgroups.mode != .v2, let memory = cgroups.v1MountPoint(for: "memory") {
            swap = PosixFile.exists(memory + "/memory.memsw.limit_in_bytes")
        }
        return HostEnvironment(cgroupMode: cgroups.mode, capabilities: Capabilities.currentEffective() ?? Capabilities.known,
                               cpuCount: max(cpus, 1), thermalThrottlePaths: thermal, sysctls: sysctls,
                               hardLimits: limits, swapLimitSupported: swap)
    }

    /// `0-3,5` → [0, 1, 2, 3, 5].
    static func cpuList(_ text: String) -> [Int] {
        var result = [Int]()
        for part in text.split(separator: ",") {
            let ends = part.split(separator: "-").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            if ends.count == 1 { result.append(ends[0]) }
            if ends.count == 2, ends[0] <= ends[1] { result += Array(ends[0]...ends[1]) }
        }
        return result
    }
}
