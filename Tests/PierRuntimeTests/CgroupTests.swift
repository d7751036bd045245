import Foundation
import Logging
import PierOCI
import Testing
@testable import PierRuntime

@Suite("cgroup layout detection and conversions")
struct CgroupConversionTests {
    static let v1Mountinfo = """
        25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        31 25 0:27 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
        34 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpu,cpuacct
        35 31 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,memory
        36 31 0:32 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,pids
        33 31 0:29 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
        """
    static let hybridMountinfo = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """
    static let v2Mountinfo = """
        26 21 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        """
    static let escapedMountinfo = """
        40 31 0:38 / /mnt/my\\040cgroups rw,relatime - cgroup2 cgroup2 rw
        """

    @Test(arguments: [
        (v1Mountinfo, CgroupMode.v1, ["/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids",
                                      "/sys/fs/cgroup/systemd"], String?.none),
        (hybridMountinfo, .hybrid, ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/memory"],
         "/sys/fs/cgroup/unified"),
        (v2Mountinfo, .v2, [], "/sys/fs/cgroup"),
        (escapedMountinfo, .v2, [], "/mnt/my cgroups"),
    ])
    func detect(_ text: String, _ mode: CgroupMode, _ v1: [String], _ unified: String?) {
        let hierarchy = CgroupHierarchy.parse(mountinfo: text)
        #expect(hierarchy.mode == mode)
        #expect(hierarchy.v1Mounts.map(\.mountPoint) == v1)
        #expect(hierarchy.unifiedMountPoint == unified)
    }

    @Test func controllersOfCoMountedHierarchies() {
        let hierarchy = CgroupHierarchy.parse(mountinfo: Self.v1Mountinfo)
        #expect(hierarchy.v1MountPoint(for: "cpuacct") == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(hierarchy.v1MountPoint(for: "name=systemd") == "/sys/fs/cgroup/systemd")
        #expect(hierarchy.v1MountPoint(for: "freezer") == nil)
    }

    @Test(arguments: [(UInt64(0), UInt64(0)), (2, 1), (1024, 100), (262_144, 10_000), (300_000, 10_000)])
    func cpuWeight(_ shares: UInt64, _ weight: UInt64) {
        #expect(CgroupManager.cpuWeight(shares: shares) == weight)
    }

    @Test func cpuWeightGrowsWithShares() {
        let weights = [2, 10, 100, 512, 1024, 2048, 10_000, 100_000, 262_144].map { CgroupManager.cpuWeight(shares: UInt64($0)) }
        #expect(weights == weights.sorted())
    }

    @Test(arguments: [
        (Int64(0), Int64(0), Int64?.some(0)), (-1, 0, -1), (0, -1, -1), (128, 64, 64), (64, 64, 0), (128, -1, 128),
        (32, 64, nil), (64, 0, nil),
    ])
    func swapV2(_ memorySwap: Int64, _ memory: Int64, _ expected: Int64?) throws {
        if let expected {
            #expect(try CgroupManager.swapV2(memorySwap: memorySwap, memory: memory) == expected)
        } else {
            #expect(throws: RuntimeError.self) { try CgroupManager.swapV2(memorySwap: memorySwap, memory: memory) }
        }
    }

    @Test(arguments: [
        (RuntimeSpec.LinuxDeviceCgroup(allow: false, access: "rwm"), "a"),
        (RuntimeSpec.LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rwm"), "c 1:3 rwm"),
        (RuntimeSpec.LinuxDeviceCgroup(allow: true, type: "c", major: 136, minor: -1, access: "rwm"), "c 136:* rwm"),
        (RuntimeSpec.LinuxDeviceCgroup(allow: true, type: "b", access: "m"), "b *:* m"),
    ])
    func deviceRule(_ rule: RuntimeSpec.LinuxDeviceCgroup, _ text: String) {
        #expect(CgroupManager.deviceRule(rule) == text)
    }
}

/// Against the machine's real hierarchy (v1, hybrid or v2). Each test uses its own parent,
/// `pier-test-<random>`, and removes it, the container cgroup and any process it started.
@Suite("cgroup manager on this host's hierarchy")
struct CgroupHostTests {
    static let canManage: Bool = {
        guard getuid() == 0, let hierarchy = try? CgroupHierarchy.detect() else { return false }
        let probe = (hierarchy.v1MountPoint(for: "memory") ?? hierarchy.unifiedMountPoint ?? "/nonexistent") + "/pier-probe-\(getpid())"
        guard mkdir(probe, 0o755) == 0 else { return false }
        rmdir(probe)
        return true
    }()

    struct Scope {
        let hierarchy: CgroupHierarchy
        let manager: CgroupManager
        let parent: String

        init() throws {
            hierarchy = try CgroupHierarchy.detect()
            parent = "pier-test-\(UInt32.random(in: 0...UInt32.max))"
            manager = try CgroupManager(hierarchy: hierarchy, id: String(repeating: "c0ffee", count: 10) + "beef",
                                        parent: parent, logger: Logger(label: "test"))
        }

        func cleanUp() {
            try? manager.remove()
            CgroupManager.removeParentIfUnused(parent, in: hierarchy)
        }

        func read(_ controller: String, _ file: String) -> String? {
            let dir = manager.hierarchy.mode == .v2 ? manager.v2Directory : manager.v1Directory(controller)
            return dir.flatMap { try? PosixFile.readText($0 + "/" + file) } ?? nil
        }
    }

    /// A child process parked on stdin, moved into the cgroup.
    final class Sleeper {
        let process = Foundation.Process()
        let input = Pipe()

        init(script: String, into manager: CgroupManager) throws {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "read line; " + script]
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            for file in manager.procsFiles { try PosixFile.writeExisting(file, String(process.processIdentifier)) }
        }

        func go() { input.fileHandleForWriting.write(Data("go\n".utf8)) }

        deinit {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
    }

    @Test("create, set memory 64m / cpus 0.5 / pids 20, read back, remove", .enabled(if: canManage))
    func limits() throws {
        let scope = try Scope()
        defer { scope.cleanUp() }
        let manager = scope.manager
        try manager.create()
        #expect(manager.exists)
        #expect(manager.procsFiles.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        let resources = RuntimeSpec.LinuxResources(
            devices: DockerDefaults.deviceRules,
            memory: RuntimeSpec.LinuxMemory(limit: 64 << 20, swap: 128 << 20),
            cpu: RuntimeSpec.LinuxCPU(shares: 512, quota: 50_000, period: 100_000),
            pids: RuntimeSpec.LinuxPids(limit: 20))
        try manager.apply(resources)
        switch scope.hierarchy.mode {
        case .v2:
            #expect(scope.read("memory", "memory.max") == "67108864")
            if let swap = scope.read("memory", "memory.swap.max") { #expect(swap == "67108864") }
            #expect(scope.read("cpu", "cpu.max") == "50000 100000")
            #expect(scope.read("cpu", "cpu.weight") == String(CgroupManager.cpuWeight(shares: 512)))
            #expect(scope.read("pids", "pids.max") == "20")
        case .v1, .hybrid:
            #expect(scope.read("memory", "memory.limit_in_bytes") == "67108864")
            if let swap = scope.read("memory", "memory.memsw.limit_in_bytes") { #expect(swap == "134217728") }
            #expect(scope.read("cpu", "cpu.cfs_quota_us") == "50000")
            #expect(scope.read("cpu", "cpu.cfs_period_us") == "100000")
            #expect(scope.read("cpu", "cpu.shares") == "512")
            #expect(scope.read("pids", "pids.max") == "20")
            if let devices = scope.read("devices", "devices.list") {
                #expect(devices.contains("c 1:3 rwm"))
                #expect(!devices.contains("a *:* rwm"))
            }
            if let cpusetRoot = scope.hierarchy.v1MountPoint(for: "cpuset") {
                #expect(scope.read("cpuset", "cpuset.cpus")?.isEmpty == false)
                // The parent now fills in its next children's cpusets itself.
                #expect((try? PosixFile.readText(cpusetRoot + "/" + scope.parent + "/cgroup.clone_children")) == "1")
                let sibling = try CgroupManager(hierarchy: scope.hierarchy, id: String(repeating: "c0ffee", count: 10) + "cafe",
                                                parent: scope.parent, logger: Logger(label: "test"))
                defer { try? sibling.remove() }
                try sibling.create()
                #expect((try? PosixFile.readText(sibling.v1Directory("cpuset")! + "/cpuset.cpus"))?.isEmpty == false)
                #expect((try? PosixFile.readText(sibling.v1Directory("cpuset")! + "/cpuset.mems"))?.isEmpty == false)
            }
        }
        // docker update: lower the memory, lift the pids limit.
        try manager.apply(RuntimeSpec.LinuxResources(memory: RuntimeSpec.LinuxMemory(limit: 32 << 20, swap: 32 << 20),
                                                     pids: RuntimeSpec.LinuxPids(limit: -1)))
        #expect(scope.read("pids", "pids.max") == "max")
        let stats = try manager.stats()
        #expect(stats.memoryLimit == 32 << 20)
        #expect(stats.pidsLimit == nil)
        #expect(stats.pidsCurrent == 0)

        try manager.remove()
        #expect(!manager.exists)
        #expect(manager.directories.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
    }

    @Test("processes, stats, freeze and remove with a live process", .enabled(if: canManage))
    func liveProcess() throws {
        let scope = try Scope()
        defer { scope.cleanUp() }
        let manager = scope.manager
        try manager.create()
        try manager.apply(RuntimeSpec.LinuxResources(pids: RuntimeSpec.LinuxPids(limit: 20)))
        let sleeper = try Sleeper(script: "exec sleep 60", into: manager)
        let pid = sleeper.process.processIdentifier
        #expect(try manager.processes() == [pid])
        // Memory is charged to the cgroup that is current when it is touched: exec now.
        sleeper.go()
        var stats = try manager.stats()
        for _ in 0..<200 where stats.memoryUsage == 0 || stats.cpuUsage == 0 {
            usleep(5000)
            stats = try manager.stats()
        }
        #expect(stats.pidsCurrent == 1)
        #expect(stats.pidsLimit == 20)
        #expect(stats.memoryUsage > 0)
        #expect(stats.cpuUsage > 0)
        #expect(try manager.processes() == [pid])
        #expect(!manager.oomKilled())

        if scope.hierarchy.mode == .v2 || scope.hierarchy.v1MountPoint(for: "freezer") != nil {
            try manager.freeze()
            #expect(manager.isFrozen)
            try manager.thaw()
            #expect(!manager.isFrozen)
        }
        // remove() kills what is left and takes the directories away.
        try manager.remove()
        sleeper.process.waitUntilExit()
        #expect(sleeper.process.terminationReason == .uncaughtSignal)
        #expect(sleeper.process.terminationStatus == SIGKILL)
        #expect(!manager.exists)
    }

    @Test("a process over the memory limit is OOM-killed and reported", .enabled(if: canManage))
    func oomKill() throws {
        let scope = try Scope()
        defer { scope.cleanUp() }
        let manager = scope.manager
        try manager.create()
        try manager.apply(RuntimeSpec.LinuxResources(memory: RuntimeSpec.LinuxMemory(limit: 16 << 20, swap: 16 << 20)))
        // The shell keeps 64 MiB in a variable: far above the 16 MiB limit.
        let hog = try Sleeper(script: "x=$(yes | head -c 67108864); echo ${#x}", into: manager)
        hog.go()
        hog.process.waitUntilExit()
        #expect(hog.process.terminationReason == .uncaughtSignal || hog.process.terminationStatus != 0)
        #expect(manager.oomKilled())
    }
}

/// cgroup v2 file names and formats, against a directory tree shaped like cgroup2 (this CI host
/// is hybrid, so the real v2 controllers are out of reach). The kernel would create the
/// interface files; the test does.
@Suite("cgroup v2 files, on a fake cgroup2 tree")
struct CgroupV2FileTests {
    @Test func limitsStatsAndEvents() throws {
        let root = TemporaryDirectory("pier-fake-cgroup2")
        root.file("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n")
        root.file("cgroup.subtree_control", "")
        let hierarchy = CgroupHierarchy(mode: .v2, v1Mounts: [], unifiedMountPoint: root.path)
        let manager = try CgroupManager(hierarchy: hierarchy, id: "c1", parent: "pier", logger: Logger(label: "test"))
        #expect(manager.directories == [root.path + "/pier/c1"])
        #expect(manager.procsFiles == [root.path + "/pier/c1/cgroup.procs"])
        try manager.create()
        // Each controller is enabled with its own write (the last one stays in a plain file).
        #expect(root.read("cgroup.subtree_control") == "+pids")
        for file in ["memory.max", "memory.swap.max", "memory.low", "cpu.max", "cpu.weight", "pids.max", "io.weight",
                     "cpuset.cpus", "cgroup.freeze"] {
            root.file("pier/c1/" + file, "")
        }
        try manager.apply(RuntimeSpec.LinuxResources(
            memory: RuntimeSpec.LinuxMemory(limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20),
            cpu: RuntimeSpec.LinuxCPU(shares: 1024, quota: 50_000, period: 100_000, cpus: "0"),
            pids: RuntimeSpec.LinuxPids(limit: 20), blockIO: RuntimeSpec.LinuxBlockIO(weight: 500)))
        #expect(root.read("pier/c1/memory.max") == "67108864")
        #expect(root.read("pier/c1/memory.swap.max") == "67108864")
        #expect(root.read("pier/c1/memory.low") == "33554432")
        #expect(root.read("pier/c1/cpu.max") == "50000 100000")
        #expect(root.read("pier/c1/cpu.weight") == "100")
        #expect(root.read("pier/c1/pids.max") == "20")
        #expect(root.read("pier/c1/io.weight") == String(CgroupManager.ioWeight(blkioWeight: 500)))
        #expect(root.read("pier/c1/cpuset.cpus") == "0")

        root.file("pier/c1/memory.current", "1048576\n")
        root.file("pier/c1/memory.stat", "anon 524288\nfile 4096\ninactive_file 4096\n")
        root.file("pier/c1/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 300\n")
        root.file("pier/c1/pids.current", "3\n")
        root.file("pier/c1/cgroup.procs", "101\n102\n")
        root.file("pier/c1/memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
        let stats = try manager.stats()
        #expect(stats.memoryUsage == 1_048_576)
        #expect(stats.memoryLimit == 67_108_864)
        #expect(stats.memoryStat["inactive_file"] == 4096)
        #expect(stats.cpuUsage == 1_500_000 && stats.cpuUser == 1_000_000 && stats.cpuSystem == 500_000)
        #expect(stats.throttledPeriods == 2 && stats.throttledTime == 300_000)
        #expect(stats.pidsCurrent == 3 && stats.pidsLimit == 20)
        #expect(try manager.processes() == [101, 102])
        #expect(manager.oomKilled())

        root.file("pier/c1/cgroup.events", "populated 1\nfrozen 1\n")
        try manager.freeze()
        #expect(root.read("pier/c1/cgroup.freeze") == "1")
        #expect(manager.isFrozen)

        // "max" for unlimited, memory+swap == memory means no swap.
        try manager.apply(RuntimeSpec.LinuxResources(memory: RuntimeSpec.LinuxMemory(limit: 64 << 20, swap: 64 << 20),
                                                     pids: RuntimeSpec.LinuxPids(limit: -1)))
        #expect(root.read("pier/c1/memory.swap.max") == "0")
        #expect(root.read("pier/c1/pids.max") == "max")
    }

    @Test func missingControllerIsExplained() throws {
        let root = TemporaryDirectory("pier-fake-cgroup2")
        root.file("cgroup.controllers", "cpu pids\n")
        root.file("cgroup.subtree_control", "")
        let hierarchy = CgroupHierarchy(mode: .v2, v1Mounts: [], unifiedMountPoint: root.path)
        let manager = try CgroupManager(hierarchy: hierarchy, id: "c1", logger: Logger(label: "test"))
        try manager.create()
        let error = #expect(throws: RuntimeError.self) {
            try manager.apply(RuntimeSpec.LinuxResources(memory: RuntimeSpec.LinuxMemory(limit: 64 << 20)))
        }
        #expect(error?.code == .cgroup)
        #expect(error?.message.contains("memory.max") == true)
        #expect(error?.message.contains("not enabled") == true)
    }

    @Test(arguments: ["", "../x", "a/../b", "."])
    func refusesPathTricks(_ id: String) {
        let hierarchy = CgroupHierarchy(mode: .v2, v1Mounts: [], unifiedMountPoint: "/sys/fs/cgroup")
        #expect(throws: RuntimeError.self) { try CgroupManager(hierarchy: hierarchy, id: id, logger: Logger(label: "test")) }
    }
}
