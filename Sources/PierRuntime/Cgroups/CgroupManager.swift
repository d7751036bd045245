import Foundation
import Logging
import PierOCI

/// One container's cgroup: `<parent>/<id>` in every hierarchy the host has (each v1 controller
/// hierarchy, the cgroup2 tree on hybrid and v2 hosts). pierd creates it and sets the limits
/// before the shim starts, hands `procsFiles` to the shim, and removes it after the container
/// is gone. Every method does blocking file I/O on cgroupfs; call them off the cooperative pool.
/// The value holds no state besides names, so the engine can rebuild it after a restart.
public struct CgroupManager: Sendable {
    public let hierarchy: CgroupHierarchy
    public let parent: String
    public let id: String
    let logger: Logger

    /// The controllers enabled for the container's subtree on cgroup v2, when the host has them.
    public static let v2Controllers = ["cpuset", "cpu", "io", "memory", "hugetlb", "pids"]

    public init(hierarchy: CgroupHierarchy, id: String, parent: String = "pier", logger: Logger) throws(RuntimeError) {
        for (what, name) in [("container id", id), ("cgroup parent", parent)] {
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            guard !name.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
                throw RuntimeError(.invalidArgument, "invalid \(what) \"\(name)\" for a cgroup path")
            }
        }
        if id.contains("/") { throw RuntimeError(.invalidArgument, "invalid container id \"\(id)\" for a cgroup path") }
        self.hierarchy = hierarchy
        self.parent = parent
        self.id = id
        self.logger = logger
    }

    /// `/pier/<id>`: the path inside each hierarchy (OCI `linux.cgroupsPath`).
    public var relativePath: String { "/\(parent)/\(id)" }

    /// The container's directory in each hierarchy.
    public var directories: [String] {
        var result = hierarchy.v1Mounts.map { $0.mountPoint + relativePath }
        if let unified = hierarchy.unifiedMountPoint { result.append(unified + relativePath) }
        return result
    }

    /// The `cgroup.procs` files the shim writes the container's pid into
    /// (annotation `org.pier.cgroup.procs`).
    public var procsFiles: [String] { directories.map { $0 + "/cgroup.procs" } }

    var v2Directory: String? {
        guard hierarchy.mode == .v2, let unified = hierarchy.unifiedMountPoint else { return nil }
        return unified + relativePath
    }

    func v1Directory(_ controller: String) -> String? {
        hierarchy.v1MountPoint(for: controller).map { $0 + relativePath }
    }

    /// Where to list processes and read `pids.*`: the v2 directory, or the v1 pids (or memory,
    /// or any) hierarchy.
    var primaryDirectory: String? {
        if let v2Directory { return v2Directory }
        return v1Directory("pids") ?? v1Directory("memory") ?? directories.first
    }

    // MARK: - Creating

    /// Makes the directories (and the shared parent), enabling the v2 controllers on the way
    /// and giving a v1 cpuset its parent's CPUs and memory nodes. Idempotent.
    public func create() throws(RuntimeError) {
        switch hierarchy.mode {
        case .v2:
            guard let root = hierarchy.unifiedMountPoint else { return }
            enableControllers(in: root)
            try makeDirectory(root + "/" + parent)
            enableControllers(in: root + "/" + parent)
            try makeDirectory(root + relativePath)
        case .v1, .hybrid:
            // One mkdir per hierarchy when the parent is there (every container but the first).
            for mount in hierarchy.v1Mounts {
                let cpuset = mount.controllers.contains("cpuset")
                try makeLeaf(mount.mountPoint + relativePath) { () throws(RuntimeError) in
                    try makeDirectory(mount.mountPoint + "/" + parent)
                    if cpuset { try inheritCpuset(mount.mountPoint + "/" + parent) }
                }
                if cpuset { try inheritCpuset(mount.mountPoint + relativePath) }
            }
            if let unified = hierarchy.unifiedMountPoint {
                try makeLeaf(unified + relativePath) { () throws(RuntimeError) in try makeDirectory(unified + "/" + parent) }
            }
        }
    }

    /// Whether the container's cgroup exists (in its primary hierarchy).
    public var exists: Bool { primaryDirectory.map(PosixFile.isDirectory) ?? false }

    /// Makes a container's directory; `prepareParent` runs only when its parent is missing.
    func makeLeaf(_ path: String, prepareParent: () throws(RuntimeError) -> Void) throws(RuntimeError) {
        if mkdir(path, 0o755) == 0 || errno == EEXIST { return }
        guard errno == ENOENT else { return try makeDirectory(path) }  // reports the error
        try prepareParent()
        try makeDirectory(path)
    }

    func makeDirectory(_ path: String) throws(RuntimeError) {
        var built = ""
        for component in path.split(separator: "/") {
            built += "/" + component
            if mkdir(built, 0o755) != 0 {
                let code = errno
                if code == EEXIST { continue }
                let hint = code == EROFS || code == EACCES || code == EPERM
                    ? "; pierd needs a writable cgroup filesystem (run it as root; inside a container, with a private, writable cgroup mount)"
                    : ""
                throw RuntimeError(.cgroup, "cannot create cgroup \(built)\(hint)", cause: SystemError("mkdir", errno: code))
            }
        }
    }

    func enableControllers(in directory: String) {
        let available = Set(((try? PosixFile.readText(directory + "/cgroup.controllers")) ?? nil)?
            .split(separator: " ").map(String.init) ?? [])
        let enabled = Set(((try? PosixFile.readText(directory + "/cgroup.subtree_control")) ?? nil)?
            .split(separator: " ").map(String.init) ?? [])
        for controller in Self.v2Controllers where available.contains(controller) && !enabled.contains(controller) {
            do {
                try PosixFile.writeExisting(directory + "/cgroup.subtree_control", "+" + controller)
            } catch {
                logger.warning("cannot enable the \(controller) controller in \(directory): \(error)")
            }
        }
    }

    /// A new v1 cpuset has no CPUs and no memory nodes, and refuses tasks until it has both: it
    /// gets its parent's (the parent's own first, should an earlier pierd have died between
    /// making the parent and filling it in). The parent is then told to give its children its
    /// own at mkdir (`cgroup.clone_children`): writing `cpuset.cpus` took ~0.6 ms of every
    /// container's create, and later containers find theirs filled in.
    func inheritCpuset(_ directory: String) throws(RuntimeError) {
        let parentDirectory = (directory as NSString).deletingLastPathComponent
        var copied = false
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let current = try PosixFile.readText(directory + "/" + file) ?? ""
            guard current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { continue }
            var inherited = try PosixFile.readText(parentDirectory + "/" + file) ?? ""
            if inherited.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, !isHierarchyRoot(parentDirectory) {
                try inheritCpuset(parentDirectory)
                inherited = try PosixFile.readText(parentDirectory + "/" + file) ?? ""
            }
            try write(inherited, to: file, in: directory)
            copied = true
        }
        if copied, !isHierarchyRoot(parentDirectory) {
            try? PosixFile.writeExisting(parentDirectory + "/cgroup.clone_children", "1")
        }
    }

    func isHierarchyRoot(_ directory: String) -> Bool {
        hierarchy.v1Mounts.contains { $0.mountPoint == directory } || directory == "/" || directory.isEmpty
    }

    // MARK: - Limits

    /// Sets the limits of `resources` (memory, swap, CPU, cpuset, pids, block I/O weight,
    /// device rules on v1, `unified` entries on v2). Safe to call again for `docker update`.
    public func apply(_ resources: RuntimeSpec.LinuxResources) throws(RuntimeError) {
        if let devices = resources.devices { try applyDevices(devices) }
        if let memory = resources.memory { try applyMemory(memory) }
        if let cpu = resources.cpu { try applyCPU(cpu) }
        if let pids = resources.pids { try applyPids(pids) }
        if let weight = resources.blockIO?.weight { try applyBlockIOWeight(weight) }
        if let unified = resources.unified, !unified.isEmpty {
            guard let dir = v2Directory else {
                throw RuntimeError(.unsupported, "cgroup v2 settings (linux.resources.unified) need a cgroup v2 host; this one is \(hierarchy.mode.rawValue)")
            }
            for (file, value) in unified.sorted(by: { $0.key < $1.key }) {
                guard !file.contains("/") && !file.hasPrefix(".") else {
                    throw RuntimeError(.invalidArgument, "invalid cgroup file name \"\(file)\"")
                }
                try write(value, to: file, in: dir)
            }
        }
    }

    func applyMemory(_ memory: RuntimeSpec.LinuxMemory) throws(RuntimeError) {
        let limit = memory.limit ?? 0
        var swap = memory.swap ?? 0
        if let dir = v2Directory {
            let swapValue = try Self.swapV2(memorySwap: swap, memory: limit)
            // memory+swap equal to memory: no swap at all.
            if swapValue != 0 || (swap > 0 && swap == limit) {
                if PosixFile.exists(dir + "/memory.swap.max") {
                    try write(Self.v2Number(swapValue), to: "memory.swap.max", in: dir)
                } else if swapValue != -1 {
                    logger.warning("swap limit not set: this kernel has no memory.swap.max (swap accounting is off)")
                }
            }
            if limit != 0 { try write(Self.v2Number(limit), to: "memory.max", in: dir) }
            if let reservation = memory.reservation, reservation != 0 {
                try write(Self.v2Number(reservation), to: "memory.low", in: dir)
            }
            if memory.disableOOMKiller == true {
                logger.warning("--oom-kill-disable has no effect on cgroup v2")
            }
            return
        }
        guard let dir = v1Directory("memory") else {
            if limit != 0 || swap != 0 {
                throw RuntimeError(.unsupported, "cannot limit memory: no memory cgroup hierarchy is mounted")
            }
            return
        }
        if limit == -1 && swap == 0 { swap = -1 }
        let hasSwapFile = PosixFile.exists(dir + "/memory.memsw.limit_in_bytes")
        if swap != 0 && !hasSwapFile {
            logger.warning("swap limit not set: memory.memsw.limit_in_bytes is missing (boot with swapaccount=1)")
        }
        let setSwap = hasSwapFile && swap != 0
        // The kernel wants memory ≤ memory+swap at every step; order the writes accordingly.
        var swapFirst = false
        if limit != 0 && setSwap {
            let current = UInt64(try PosixFile.readText(dir + "/memory.limit_in_bytes") ?? "") ?? 0
            swapFirst = swap == -1 || current < UInt64(swap)
        }
        if swapFirst { try write(String(swap), to: "memory.memsw.limit_in_bytes", in: dir) }
        if limit != 0 { try write(String(limit), to: "memory.limit_in_bytes", in: dir) }
        if setSwap && !swapFirst { try write(String(swap), to: "memory.memsw.limit_in_bytes", in: dir) }
        if let reservation = memory.reservation, reservation != 0 {
            try write(String(reservation), to: "memory.soft_limit_in_bytes", in: dir)
        }
        if let swappiness = memory.swappiness, swappiness <= 100 {
            try write(String(swappiness), to: "memory.swappiness", in: dir)
        }
        if memory.disableOOMKiller == true {
            try write("1", to: "memory.oom_control", in: dir)
        }
    }

    func applyCPU(_ cpu: RuntimeSpec.LinuxCPU) throws(RuntimeError) {
        if let dir = v2Directory {
            if let shares = cpu.shares, shares != 0 {
                try write(String(Self.cpuWeight(shares: shares)), to: "cpu.weight", in: dir)
            }
            let quota = cpu.quota ?? 0
            let period = cpu.period ?? 0
            if quota != 0 || period != 0 {
                var value = quota > 0 ? String(quota) : "max"
                if period != 0 { value += " \(period)" }
                try write(value, to: "cpu.max", in: dir)
            }
            if let cpus = cpu.cpus, !cpus.isEmpty { try write(cpus, to: "cpuset.cpus", in: dir) }
            if let mems = cpu.mems, !mems.isEmpty { try write(mems, to: "cpuset.mems", in: dir) }
            return
        }
        let needsCPU = (cpu.shares ?? 0) != 0 || (cpu.quota ?? 0) != 0 || (cpu.period ?? 0) != 0
        if needsCPU {
            guard let dir = v1Directory("cpu") else {
                throw RuntimeError(.unsupported, "cannot limit CPU: no cpu cgroup hierarchy is mounted")
            }
            if let shares = cpu.shares, shares != 0 { try write(String(shares), to: "cpu.shares", in: dir) }
            if let period = cpu.period, period != 0 { try write(String(period), to: "cpu.cfs_period_us", in: dir) }
            if let quota = cpu.quota, quota != 0 { try write(String(quota), to: "cpu.cfs_quota_us", in: dir) }
        }
        if (cpu.cpus ?? "").isEmpty && (cpu.mems ?? "").isEmpty { return }
        guard let dir = v1Directory("cpuset") else {
            throw RuntimeError(.unsupported, "cannot set --cpuset-cpus/--cpuset-mems: no cpuset cgroup hierarchy is mounted")
        }
        if let cpus = cpu.cpus, !cpus.isEmpty { try write(cpus, to: "cpuset.cpus", in: dir) }
        if let mems = cpu.mems, !mems.isEmpty { try write(mems, to: "cpuset.mems", in: dir) }
    }

    func applyPids(_ pids: RuntimeSpec.LinuxPids) throws(RuntimeError) {
        guard let dir = v2Directory ?? v1Directory("pids") else {
            throw RuntimeError(.unsupported, "cannot set --pids-limit: no pids cgroup hierarchy is mounted")
        }
        let limit = pids.limit ?? -1
        try write(limit > 0 ? String(limit) : "max", to: "pids.max", in: dir)
    }

    func applyBlockIOWeight(_ weight: UInt16) throws(RuntimeError) {
        if let dir = v2Directory {
            if PosixFile.exists(dir + "/io.bfq.weight") {
                try write(String(weight), to: "io.bfq.weight", in: dir)
            } else if PosixFile.exists(dir + "/io.weight") {
                try write(String(Self.ioWeight(blkioWeight: weight)), to: "io.weight", in: dir)
            } else {
                logger.warning("--blkio-weight not set: the io controller has no weight file here")
            }
            return
        }
        guard let dir = v1Directory("blkio") else {
            throw RuntimeError(.unsupported, "cannot set --blkio-weight: no blkio cgroup hierarchy is mounted")
        }
        for file in ["blkio.weight", "blkio.bfq.weight"] where PosixFile.exists(dir + "/" + file) {
            try write(String(weight), to: file, in: dir)
            return
        }
        logger.warning("--blkio-weight not set: no blkio.weight or blkio.bfq.weight file (no CFQ/BFQ scheduler)")
    }

    /// v1 `devices.allow`/`devices.deny`, in order. On v2 the device controller is an eBPF
    /// program, which Pier does not load yet: the rules are reported, not enforced.
    func applyDevices(_ rules: [RuntimeSpec.LinuxDeviceCgroup]) throws(RuntimeError) {
        guard !rules.isEmpty else { return }
        guard let dir = v1Directory("devices") else {
            logger.warning("device cgroup rules are not enforced: no v1 devices hierarchy (cgroup v2 device filtering is not implemented)")
            return
        }
        for rule in rules {
            try write(Self.deviceRule(rule), to: rule.allow ? "devices.allow" : "devices.deny", in: dir)
        }
    }

    /// `c 1:3 rwm`; a rule for every device type is just `a`.
    static func deviceRule(_ rule: RuntimeSpec.LinuxDeviceCgroup) -> String {
        let type = rule.type ?? "a"
        if type == "a" { return "a" }
        func number(_ n: Int64?) -> String { n.map { $0 < 0 ? "*" : String($0) } ?? "*" }
        return "\(type) \(number(rule.major)):\(number(rule.minor)) \(rule.access ?? "rwm")"
    }

    /// runc's conversion of v1 `cpu.shares` (2–262144, default 1024) to v2 `cpu.weight`
    /// (1–10000, default 100): a quadratic in log2 that maps the ends and the default exactly.
    public static func cpuWeight(shares: UInt64) -> UInt64 {
        if shares == 0 { return 0 }
        if shares <= 2 { return 1 }
        if shares >= 262_144 { return 10_000 }
        let l = log2(Double(shares))
        let exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0
        return UInt64(ceil(pow(10, exponent)))
    }

    /// runc's v1 blkio weight (10–1000) to v2 io.weight (1–10000).
    public static func ioWeight(blkioWeight: UInt16) -> UInt64 {
        guard blkioWeight >= 10 else { return 1 }
        return 1 + (UInt64(blkioWeight) - 10) * 9999 / 990
    }

    /// OCI's memory+swap to v2's swap-only `memory.swap.max` (runc
    /// `ConvertMemorySwapToCgroupV2Value`); -1 is "max", 0 "leave alone".
    public static func swapV2(memorySwap: Int64, memory: Int64) throws(RuntimeError) -> Int64 {
        if memory == -1 && memorySwap == 0 { return -1 }
        if memorySwap == -1 || memorySwap == 0 { return memorySwap }
        if memory == -1 { return memorySwap }
        if memory == 0 { throw RuntimeError(.invalidArgument, "unable to set swap limit without memory limit") }
        if memory < 0 { throw RuntimeError(.invalidArgument, "invalid memory value: \(memory)") }
        if memorySwap < memory {
            throw RuntimeError(.invalidArgument, "memory+swap limit should be >= memory limit")
        }
        return memorySwap - memory
    }

    static func v2Number(_ value: Int64) -> String { value < 0 ? "max" : String(value) }

    func write(_ value: String, to file: String, in directory: String) throws(RuntimeError) {
        do {
            try PosixFile.writeExisting(directory + "/" + file, value)
        } catch {
            var hint = ""
            switch error.errno {
            case ENOENT: hint = " (the controller of \(file) is not enabled for this cgroup)"
            case EBUSY where file.hasPrefix("memory."): hint = " (the container already uses more memory than that)"
            case EINVAL: hint = " (the kernel refused the value)"
            default: break
            }
            throw RuntimeError(.cgroup, "cannot set \(file) to \(value) in \(directory)\(hint)", cause: error)
        }
    }
}
