import Testing
@testable import PierRuntime

/// Which `cgroup.procs` the primer writes: pierd's own cgroup, so that the move changes nothing.
@Suite struct CgroupMigrationPrimerTests {
    let hybrid = CgroupHierarchy(
        mode: .hybrid,
        v1Mounts: [.init(mountPoint: "/sys/fs/cgroup/cpu,cpuacct", controllers: ["cpu", "cpuacct"]),
                   .init(mountPoint: "/sys/fs/cgroup/memory", controllers: ["memory"])],
        unifiedMountPoint: "/sys/fs/cgroup/unified")

    @Test func theUnifiedTreeIsUsedWhereThereIsOne() {
        let text = "3:memory:/system.slice/pierd.service\n2:cpu,cpuacct:/system.slice\n0::/system.slice/pierd.service\n"
        #expect(CgroupMigrationPrimer.procsFile(hierarchy: hybrid, selfCgroup: text)
                == "/sys/fs/cgroup/unified/system.slice/pierd.service/cgroup.procs")
    }

    @Test func theRootCgroupHasNoDoubleSlash() {
        let v2 = CgroupHierarchy(mode: .v2, v1Mounts: [], unifiedMountPoint: "/sys/fs/cgroup")
        #expect(CgroupMigrationPrimer.procsFile(hierarchy: v2, selfCgroup: "0::/\n") == "/sys/fs/cgroup/cgroup.procs")
    }

    @Test func aV1OnlyHostUsesItsFirstHierarchy() {
        let v1 = CgroupHierarchy(mode: .v1, v1Mounts: hybrid.v1Mounts, unifiedMountPoint: nil)
        let text = "3:memory:/user\n2:cpu,cpuacct:/user/1000\n"
        #expect(CgroupMigrationPrimer.procsFile(hierarchy: v1, selfCgroup: text)
                == "/sys/fs/cgroup/cpu,cpuacct/user/1000/cgroup.procs")
    }

    @Test func noMatchingLineMeansNoPrimer() {
        let v1 = CgroupHierarchy(mode: .v1, v1Mounts: hybrid.v1Mounts, unifiedMountPoint: nil)
        #expect(CgroupMigrationPrimer.procsFile(hierarchy: v1, selfCgroup: "5:pids:/\n") == nil)
    }

    /// On this host: the primer finds pierd's real cgroup file, and writing it moves nothing.
    @Test func primingLeavesTheProcessWhereItWas() async throws {
        let hierarchy = try CgroupHierarchy.detect()
        let before = try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)
        let primer = try #require(CgroupMigrationPrimer(hierarchy: hierarchy))
        primer.prime()
        try await Task.sleep(for: .milliseconds(100))
        #expect(try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) == before)
    }
}
