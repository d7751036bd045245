import PierOCI

/// Docker's checks of resource values (moby `daemon/daemon_unix.go`
/// `verifyPlatformContainerResources`, `adaptContainerSettings`), with Docker's messages.
public enum ResourceValidation {
    /// Docker's smallest memory limit, 6 MiB.
    public static let minimumMemory: Int64 = 6 * 1024 * 1024

    /// Fills Docker's defaults in: swap twice the memory, a 64 MiB /dev/shm.
    public static func applyDefaults(_ resources: Resources) -> Resources {
        var r = resources
        if r.memory > 0 && r.memorySwap == 0 { r.memorySwap = r.memory * 2 }
        if r.shmSize == 0 { r.shmSize = Resources.defaultShmSize }
        return r
    }

    /// Throws the first value Docker refuses; returns Docker's warnings for what the host
    /// cannot enforce.
    public static func validate(_ r: Resources, cpuCount: Int, swapLimitSupported: Bool = true,
                                update: Bool = false) throws(RuntimeError) -> [String] {
        var warnings = [String]()
        func fail(_ text: String) -> RuntimeError { RuntimeError(.invalidArgument, text) }
        if r.memory != 0 && r.memory < minimumMemory { throw fail("Minimum memory limit allowed is 6MB") }
        if r.memory > 0 && r.memorySwap != -1 && !swapLimitSupported {
            warnings.append("Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.")
        }
        if r.memory > 0 && r.memorySwap > 0 && r.memorySwap < r.memory {
            throw fail("Minimum memoryswap limit should be larger than memory limit, see usage")
        }
        if r.memory == 0 && r.memorySwap > 0 && !update {
            throw fail("You should always set the Memory limit when using Memoryswap limit, see usage")
        }
        if let swappiness = r.memorySwappiness, swappiness != -1, !(0...100).contains(swappiness) {
            throw fail("Invalid value: \(swappiness), valid memory swappiness range is 0-100")
        }
        if r.memoryReservation > 0 && r.memoryReservation < minimumMemory {
            throw fail("Minimum memory reservation allowed is 6MB")
        }
        if r.memory > 0 && r.memoryReservation > 0 && r.memory < r.memoryReservation {
            throw fail("Minimum memory limit can not be less than memory reservation limit, see usage")
        }
        if r.oomKillDisable == true && r.memory == 0 {
            warnings.append("OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.")
        }
        if r.nanoCPUs > 0 && r.cpuPeriod > 0 { throw fail("Conflicting options: Nano CPUs and CPU Period cannot both be set") }
        if r.nanoCPUs > 0 && r.cpuQuota > 0 { throw fail("Conflicting options: Nano CPUs and CPU Quota cannot both be set") }
        if r.nanoCPUs != 0 && (r.nanoCPUs < 0 || r.nanoCPUs > Int64(cpuCount) * 1_000_000_000) {
            throw fail("range of CPUs is from 0.01 to \(cpuCount).00, as there are only \(cpuCount) CPUs available")
        }
        if r.cpuShares < 0 {
            throw fail("invalid CPU shares (\(r.cpuShares)): value must be a positive integer")
        }
        if r.cpuPeriod != 0 && (r.cpuPeriod < 1000 || r.cpuPeriod > 1_000_000) {
            throw fail("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
        }
        if r.cpuQuota > 0 && r.cpuQuota < 1000 { throw fail("CPU cfs quota can not be less than 1ms (i.e. 1000)") }
        if r.blkioWeight > 0 && (r.blkioWeight < 10 || r.blkioWeight > 1000) {
            throw fail("Range of blkio weight is from 10 to 1000")
        }
        if r.shmSize < 0 { throw fail("SHM size can not be less than 0") }
        try validateCPUList(r.cpusetCpus, kind: "CPUs", available: cpuCount)
        return warnings
    }

    /// `--cpuset-cpus 0-3,5`: syntax and availability, as Docker reports them.
    static func validateCPUList(_ list: String, kind: String, available: Int) throws(RuntimeError) {
        guard !list.isEmpty else { return }
        for range in list.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = range.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(ends.count), let low = Int(ends[0]), let high = Int(ends.last ?? ""), low <= high else {
                throw RuntimeError(.invalidArgument, "invalid value \(list) for cpuset cpus")
            }
            if high >= available {
                throw RuntimeError(.invalidArgument,
                                   "Requested CPUs are not available - requested \(list), available: 0-\(available - 1)")
            }
        }
    }
}

/// `--ulimit` names (go-units `ParseUlimit`) and their `RLIMIT_` types.
public enum Ulimits {
    public static let names: [String: String] = [
        "as": "RLIMIT_AS", "core": "RLIMIT_CORE", "cpu": "RLIMIT_CPU", "data": "RLIMIT_DATA",
        "fsize": "RLIMIT_FSIZE", "locks": "RLIMIT_LOCKS", "memlock": "RLIMIT_MEMLOCK",
        "msgqueue": "RLIMIT_MSGQUEUE", "nice": "RLIMIT_NICE", "nofile": "RLIMIT_NOFILE",
        "nproc": "RLIMIT_NPROC", "rss": "RLIMIT_RSS", "rtprio": "RLIMIT_RTPRIO", "rttime": "RLIMIT_RTTIME",
        "sigpending": "RLIMIT_SIGPENDING", "stack": "RLIMIT_STACK",
    ]

    /// The rlimits for the spec. Without CAP_SYS_RESOURCE nobody may raise a hard limit above the
    /// one it has, so such a request fails here, with the reason, rather than later in the shim.
    public static func rlimits(_ ulimits: [Ulimit], daemonHardLimits: [String: UInt64],
                               canRaiseHardLimits: Bool) throws(RuntimeError) -> [RuntimeSpec.POSIXRlimit] {
        var result = [RuntimeSpec.POSIXRlimit]()
        for ulimit in ulimits {
            guard let type = names[ulimit.name] else {
                throw RuntimeError(.invalidArgument, "invalid ulimit type: \(ulimit.name)")
            }
            // -1 is "unlimited" (RLIM_INFINITY), as Go's uint64 conversion makes it.
            let soft = UInt64(bitPattern: ulimit.soft)
            let hard = UInt64(bitPattern: ulimit.hard)
            if ulimit.soft != -1 && ulimit.hard != -1 && ulimit.soft > ulimit.hard {
                throw RuntimeError(.invalidArgument,
                                   "ulimit soft limit must be less than or equal to hard limit: \(ulimit.soft) > \(ulimit.hard)")
            }
            if !canRaiseHardLimits, let current = daemonHardLimits[type], hard > current {
                let shown = current == UInt64.max ? "unlimited" : String(current)
                throw RuntimeError(.unsupported,
                                   "ulimit \(ulimit.name): hard limit \(ulimit.hard) is above pierd's own (\(shown)) and pierd lacks CAP_SYS_RESOURCE to raise it; ask for at most \(shown) or raise pierd's limit (LimitNOFILE= and the like in its service unit)")
            }
            result.append(RuntimeSpec.POSIXRlimit(type: type, hard: hard, soft: soft))
        }
        return result
    }
}
