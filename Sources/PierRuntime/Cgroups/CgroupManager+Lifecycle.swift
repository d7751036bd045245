import Foundation

/// What `docker stats` needs from the cgroup, in bytes and nanoseconds.
public struct CgroupStats: Sendable, Hashable {
    public var memoryUsage: UInt64 = 0
    /// v1 only (`memory.max_usage_in_bytes`).
    public var memoryMaxUsage: UInt64?
    /// nil when unlimited.
    public var memoryLimit: UInt64?
    /// `memory.stat`, as the kernel names the fields (v1 `cache`, `total_inactive_file`;
    /// v2 `file`, `inactive_file` ...). Docker subtracts the inactive file cache from usage.
    public var memoryStat: [String: UInt64] = [:]
    public var cpuUsage: UInt64 = 0
    public var cpuUser: UInt64 = 0
    public var cpuSystem: UInt64 = 0
    /// v1 only (`cpuacct.usage_percpu`).
    public var perCPUUsage: [UInt64] = []
    public var throttlingPeriods: UInt64 = 0
    public var throttledPeriods: UInt64 = 0
    public var throttledTime: UInt64 = 0
    public var pidsCurrent: UInt64 = 0
    /// nil when unlimited.
    public var pidsLimit: UInt64?

    public init() {}
}

extension CgroupManager {
    // MARK: - Reading

    /// Current usage and limits. Blocks.
    public func stats() throws(RuntimeError) -> CgroupStats {
        var stats = CgroupStats()
        if let dir = v2Directory {
            stats.memoryUsage = readNumber(dir, "memory.current") ?? 0
            stats.memoryLimit = readLimit(dir, "memory.max")
            stats.memoryStat = readKeyed(dir, "memory.stat")
            let cpu = readKeyed(dir, "cpu.stat")
            stats.cpuUsage = (cpu["usage_usec"] ?? 0) * 1000
            stats.cpuUser = (cpu["user_usec"] ?? 0) * 1000
            stats.cpuSystem = (cpu["system_usec"] ?? 0) * 1000
            stats.throttlingPeriods = cpu["nr_periods"] ?? 0
            stats.throttledPeriods = cpu["nr_throttled"] ?? 0
            stats.throttledTime = (cpu["throttled_usec"] ?? 0) * 1000
            stats.pidsCurrent = readNumber(dir, "pids.current") ?? 0
            stats.pidsLimit = readLimit(dir, "pids.max")
            return stats
        }
        if let dir = v1Directory("memory") {
            stats.memoryUsage = readNumber(dir, "memory.usage_in_bytes") ?? 0
            stats.memoryMaxUsage = readNumber(dir, "memory.max_usage_in_bytes")
            stats.memoryLimit = readLimit(dir, "memory.limit_in_bytes")
            stats.memoryStat = readKeyed(dir, "memory.stat")
        }
        if let dir = v1Directory("cpuacct") {
            stats.cpuUsage = readNumber(dir, "cpuacct.usage") ?? 0
            let ticks = readKeyed(dir, "cpuacct.stat")
            let nanosecondsPerTick = UInt64(1_000_000_000) / UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
            stats.cpuUser = (ticks["user"] ?? 0) * nanosecondsPerTick
            stats.cpuSystem = (ticks["system"] ?? 0) * nanosecondsPerTick
            stats.perCPUUsage = ((try? PosixFile.readText(dir + "/cpuacct.usage_percpu")) ?? nil)?
                .split(separator: " ").compactMap { UInt64($0) } ?? []
        }
        if let dir = v1Directory("cpu") {
            let cpu = readKeyed(dir, "cpu.stat")
            stats.throttlingPeriods = cpu["nr_periods"] ?? 0
            stats.throttledPeriods = cpu["nr_throttled"] ?? 0
            stats.throttledTime = cpu["throttled_time"] ?? 0
        }
        if let dir = v1Directory("pids") {
            stats.pidsCurrent = readNumber(dir, "pids.current") ?? 0
            stats.pidsLimit = readLimit(dir, "pids.max")
        }
        return stats
    }

    /// Whether the kernel's OOM killer killed a process of this cgroup: v2 `memory.events`
    /// `oom_kill`, v1 `memory.oom_control` `oom_kill` (kernel ≥ 4.13), or on older kernels
    /// `memory.failcnt` > 0 (the limit was hit, which is the best v1 can tell). Blocks.
    public func oomKilled() -> Bool {
        if let dir = v2Directory {
            return (readKeyed(dir, "memory.events")["oom_kill"] ?? 0) > 0
        }
        guard let dir = v1Directory("memory") else { return false }
        let control = readKeyed(dir, "memory.oom_control")
        if let kills = control["oom_kill"] { return kills > 0 }
        return (readNumber(dir, "memory.failcnt") ?? 0) > 0
    }

    /// The pids in the cgroup and its descendants, for `docker top`. Blocks.
    public func processes() throws(RuntimeError) -> [Int32] {
        guard let dir = primaryDirectory, PosixFile.isDirectory(dir) else { return [] }
        var pids = [Int32]()
        var pending = [dir]
        while let current = pending.popLast() {
            if let text = try PosixFile.readText(current + "/cgroup.procs") {
                pids += text.split(separator: "\n").compactMap { Int32($0) }
            }
            pending += PosixFile.subdirectories(current).map { current + "/" + $0 }
        }
        return pids
    }

    // MARK: - Pause

    /// Freezes every process (`docker pause`) and waits until the kernel says it is frozen. Blocks.
    public func freeze() throws(RuntimeError) { try setFrozen(true) }

    /// Thaws the cgroup (`docker unpause`). Blocks.
    public func thaw() throws(RuntimeError) { try setFrozen(false) }

    /// Whether the cgroup is frozen now.
    public var isFrozen: Bool {
        if let dir = v2Directory { return readKeyed(dir, "cgroup.events")["frozen"] == 1 }
        guard let dir = v1Directory("freezer") else { return false }
        return ((try? PosixFile.readText(dir + "/freezer.state")) ?? nil) == "FROZEN"
    }

    func setFrozen(_ frozen: Bool) throws(RuntimeError) {
        let deadline = monotonicNanoseconds() + 5_000_000_000
        if let dir = v2Directory {
            try write(frozen ? "1" : "0", to: "cgroup.freeze", in: dir)
            while readKeyed(dir, "cgroup.events")["frozen"] != (frozen ? 1 : 0) {
                if monotonicNanoseconds() > deadline {
                    throw RuntimeError(.timeout, "the cgroup \(dir) did not become \(frozen ? "frozen" : "thawed") within 5 s")
                }
                sleepMilliseconds(2)
            }
            return
        }
        guard let dir = v1Directory("freezer") else {
            throw RuntimeError(.unsupported, "cannot \(frozen ? "pause" : "unpause"): no freezer cgroup hierarchy is mounted")
        }
        let wanted = frozen ? "FROZEN" : "THAWED"
        var attempt = 0
        while true {
            // Writing FROZEN again nudges tasks that were in the middle of a fork.
            if attempt % 10 == 0 { try write(wanted, to: "freezer.state", in: dir) }
            if (try PosixFile.readText(dir + "/freezer.state")) == wanted { return }
            if monotonicNanoseconds() > deadline {
                if frozen { try? write("THAWED", to: "freezer.state", in: dir) }
                throw RuntimeError(.timeout, "the cgroup \(dir) did not become \(wanted) within 5 s")
            }
            attempt += 1
            sleepMilliseconds(2)
        }
    }

    // MARK: - Removing

    /// Kills whatever is left in the cgroup and removes its directories (children first),
    /// retrying briefly while the kernel still reports them busy. Missing directories are fine.
    /// The shared parent stays. Blocks for up to a few seconds.
    public func remove() throws(RuntimeError) {
        // The directories are tried even when killing fails: an empty one still goes, and a
        // leftover is reported.
        var failure: RuntimeError?
        do { try killRemaining() } catch { failure = error }
        for dir in directories {
            do {
                try Self.removeTree(dir)
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
    }

    func killRemaining() throws(RuntimeError) {
        let deadline = monotonicNanoseconds() + 5_000_000_000
        if let dir = v2Directory, PosixFile.exists(dir + "/cgroup.kill") {
            try? PosixFile.writeExisting(dir + "/cgroup.kill", "1")
        }
        var pids = try processes()
        while !pids.isEmpty {
            // Freeze first so nothing forks between listing and killing.
            let canFreeze = v2Directory != nil || v1Directory("freezer") != nil
            if canFreeze { try? freeze() }
            for pid in pids where pid > 0 { kill(pid, SIGKILL) }
            if canFreeze { try? thaw() }
            sleepMilliseconds(5)
            pids = try processes()
            if !pids.isEmpty && monotonicNanoseconds() > deadline {
                throw RuntimeError(.timeout, "processes \(pids.map(String.init).joined(separator: ", ")) in \(relativePath) survived SIGKILL for 5 s")
            }
        }
    }

    static func removeTree(_ dir: String) throws(RuntimeError) {
        // A cgroup with no children and no processes goes in one rmdir (its control files do
        // not count); only a busy one is walked.
        if rmdir(dir) == 0 || errno == ENOENT { return }
        guard PosixFile.isDirectory(dir) else { return }
        for child in PosixFile.subdirectories(dir) { try removeTree(dir + "/" + child) }
        let deadline = monotonicNanoseconds() + 2_000_000_000
        while rmdir(dir) != 0 {
            let code = errno
            if code == ENOENT { return }
            guard code == EBUSY || code == EAGAIN, monotonicNanoseconds() < deadline else {
                throw RuntimeError(.cgroup, "cannot remove cgroup \(dir)", cause: SystemError("rmdir", errno: code))
            }
            sleepMilliseconds(10)
        }
    }

    /// Removes the shared parent (`pier`) from every hierarchy when no container uses it
    /// any more; a parent still in use is left alone.
    public static func removeParentIfUnused(_ parent: String, in hierarchy: CgroupHierarchy) {
        var roots = hierarchy.v1Mounts.map(\.mountPoint)
        if let unified = hierarchy.unifiedMountPoint { roots.append(unified) }
        for root in roots { rmdir(root + "/" + parent) }
    }

    // MARK: - Files

    func readNumber(_ dir: String, _ file: String) -> UInt64? {
        ((try? PosixFile.readText(dir + "/" + file)) ?? nil).flatMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// A limit file: "max" (v2) or a v1 value near 2^63 (page-rounded LONG_MAX) mean unlimited.
    func readLimit(_ dir: String, _ file: String) -> UInt64? {
        guard let text = (try? PosixFile.readText(dir + "/" + file)) ?? nil, text != "max",
              let value = UInt64(text) else { return nil }
        return value >= (UInt64(1) << 62) ? nil : value
    }

    /// `key value` lines (memory.stat, cpu.stat, memory.events, memory.oom_control).
    func readKeyed(_ dir: String, _ file: String) -> [String: UInt64] {
        guard let text = (try? PosixFile.readText(dir + "/" + file)) ?? nil else { return [:] }
        var result = [String: UInt64]()
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { result[String(parts[0])] = value }
        }
        return result
    }
}
