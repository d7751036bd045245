import Foundation
import PierOCI
import Testing
@testable import PierRuntime

/// Typical `docker run` invocations and the parts of config.json Docker would produce for them.
@Suite("OCI config generation")
struct SpecBuilderTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var command: String
        var mode: CgroupMode = .hybrid
        var configure: @Sendable (inout ContainerSpec) -> Void
        var check: @Sendable (BuiltSpec) throws -> Void
        var testDescription: String { command }
    }

    static func alpine() -> ContainerConfig {
        var image = ContainerConfig()
        image.Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        image.Cmd = ["/bin/sh"]
        return image
    }

    static func mount(_ built: BuiltSpec, _ destination: String) -> RuntimeSpec.Mount? {
        built.spec.mounts?.first { $0.destination == destination }
    }

    static func refused(_ built: BuiltSpec) -> Set<String> {
        Set(built.spec.linux?.seccomp?.syscalls?.first?.names ?? [])
    }

    static let cases: [Case] = [
        Case(command: "docker run alpine", configure: { _ in }, check: { built in
            let spec = built.spec
            let process = try #require(spec.process)
            #expect(spec.ociVersion == "1.1.0")
            #expect(process.args == ["/bin/sh"])
            #expect(process.cwd == "/")
            #expect(process.terminal == nil)
            #expect(process.user == RuntimeSpec.User(uid: 0, gid: 0, additionalGids: [0, 0, 1, 2, 10, 27]))
            #expect(process.env == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                    "HOSTNAME=ab12cd34ab12", "HOME=/root"])
            #expect(process.capabilities?.bounding == Capabilities.dockerDefault)
            #expect(process.capabilities?.effective == Capabilities.dockerDefault)
            #expect(process.capabilities?.permitted == Capabilities.dockerDefault)
            #expect(process.capabilities?.inheritable == nil)
            #expect(process.noNewPrivileges == nil)
            #expect(process.oomScoreAdj == 0)
            #expect(spec.hostname == "ab12cd34ab12")
            #expect(spec.root?.path.hasSuffix("/bundle/rootfs") == true)
            #expect(spec.root?.readonly == nil)
            #expect(spec.mounts?.map(\.destination) == ["/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue",
                                                         "/dev/shm", "/etc/resolv.conf", "/etc/hostname", "/etc/hosts"])
            #expect(mount(built, "/dev/shm")?.options == ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"])
            #expect(mount(built, "/dev/pts")?.options == ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"])
            #expect(mount(built, "/sys")?.options == ["nosuid", "noexec", "nodev", "ro"])
            #expect(mount(built, "/etc/hosts")?.options == ["rbind", "rprivate"])
            #expect(mount(built, "/etc/hosts")?.type == "bind")
            let linux = try #require(spec.linux)
            #expect(linux.namespaces?.map(\.type) == [.mount, .network, .uts, .pid, .ipc])
            #expect(linux.maskedPaths == DockerDefaults.maskedPaths)
            #expect(linux.maskedPaths?.contains("/proc/kcore") == true)
            #expect(linux.readonlyPaths == ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"])
            #expect(linux.devices?.map(\.path) == ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"])
            #expect(linux.devices?.allSatisfy { $0.fileMode == 0o666 && $0.type == "c" } == true)
            #expect(linux.resources?.devices?.first == RuntimeSpec.LinuxDeviceCgroup(allow: false, access: "rwm"))
            #expect(linux.resources?.memory == nil)
            #expect(linux.resources?.pids == nil)
            #expect(linux.sysctl == ["net.ipv4.ping_group_range": "0 2147483647", "net.ipv4.ip_unprivileged_port_start": "0"])
            #expect(linux.cgroupsPath == "/pier/" + String(repeating: "ab12cd34", count: 8))
            let seccomp = try #require(linux.seccomp)
            #expect(seccomp.defaultAction == .allow)
            #expect(seccomp.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
            let refused = refused(built)
            for name in ["mount", "umount2", "unshare", "setns", "keyctl", "add_key", "bpf", "reboot", "kexec_load",
                         "init_module", "swapon", "pivot_root", "userfaultfd", "perf_event_open", "io_uring_setup"] {
                #expect(refused.contains(name), "\(name) should be refused")
            }
            for name in ["ptrace", "clock_adjtime", "name_to_handle_at", "read", "clone", "chroot"] {
                #expect(!refused.contains(name), "\(name) should be allowed")
            }
            #expect(seccomp.syscalls?.contains { $0.names == ["clone3"] && $0.errnoRet == 38 } == true)
            #expect(spec.annotations?[PierAnnotation.lowerDir]?.hasSuffix("/layers/0") == true)
            #expect(spec.annotations?[PierAnnotation.stdinOnce] == "false")
            #expect(spec.annotations?[PierAnnotation.cgroupProcs]?.hasSuffix("/cgroup.procs") == true)
            #expect(built.stopSignal == 15)
        }),
        Case(command: "docker run -it alpine", configure: { $0.tty = true; $0.openStdin = true; $0.stdinOnce = true
            $0.consoleSize = RuntimeSpec.Box(height: 40, width: 120) }, check: { built in
            #expect(built.spec.process?.terminal == true)
            #expect(built.spec.process?.consoleSize == RuntimeSpec.Box(height: 40, width: 120))
            #expect(built.spec.process?.env?.contains("TERM=xterm") == true)
            #expect(built.spec.annotations?[PierAnnotation.stdinOnce] == "true")
        }),
        Case(command: "docker run --privileged alpine", configure: { $0.privileged = true }, check: { built in
            let caps = try #require(built.spec.process?.capabilities?.bounding)
            #expect(caps.count == Capabilities.known.count - 1)
            #expect(caps.contains("CAP_SYS_ADMIN"))
            #expect(!caps.contains("CAP_SYS_RESOURCE"))
            #expect(built.spec.linux?.seccomp == nil)
            #expect(built.spec.linux?.maskedPaths == nil)
            #expect(built.spec.linux?.readonlyPaths == nil)
            #expect(mount(built, "/sys")?.options == ["nosuid", "noexec", "nodev"])
            #expect(mount(built, "/sys/fs/cgroup")?.options == ["nosuid", "noexec", "nodev"])
            #expect(built.spec.linux?.resources?.devices == [RuntimeSpec.LinuxDeviceCgroup(allow: true, access: "rwm")])
            let devices = try #require(built.spec.linux?.devices)
            #expect(devices.count > 6)
            #expect(devices.contains { $0.path == "/dev/null" && $0.major == 1 && $0.minor == 3 })
            #expect(!devices.contains { $0.path.hasPrefix("/dev/pts/") || $0.path == "/dev/console" })
        }),
        Case(command: "docker run --cap-add SYS_ADMIN --cap-drop net_raw alpine",
             configure: { $0.capAdd = ["SYS_ADMIN"]; $0.capDrop = ["net_raw"] }, check: { built in
            let caps = try #require(built.spec.process?.capabilities?.bounding)
            #expect(caps == Capabilities.dockerDefault.filter { $0 != "CAP_NET_RAW" } + ["CAP_SYS_ADMIN"])
            let refused = refused(built)
            #expect(!refused.contains("mount") && !refused.contains("unshare") && !refused.contains("setns"))
            #expect(refused.contains("reboot") && refused.contains("keyctl"))
            #expect(built.spec.linux?.seccomp?.syscalls?.contains { $0.names == ["clone"] } == false)
        }),
        Case(command: "docker run --cap-drop ALL --cap-add CAP_NET_BIND_SERVICE alpine",
             configure: { $0.capDrop = ["ALL"]; $0.capAdd = ["CAP_NET_BIND_SERVICE"] }, check: { built in
            #expect(built.spec.process?.capabilities?.bounding == ["CAP_NET_BIND_SERVICE"])
            #expect(refused(built).contains("chroot"))
        }),
        Case(command: "docker run --cap-add ALL --cap-drop MKNOD alpine",
             configure: { $0.capAdd = ["ALL"]; $0.capDrop = ["MKNOD"] }, check: { built in
            let caps = try #require(built.spec.process?.capabilities?.bounding)
            #expect(caps.count == Capabilities.known.count - 2)
            #expect(!caps.contains("CAP_MKNOD"))
            #expect(built.spec.linux?.seccomp != nil)
        }),
        Case(command: "docker run --read-only alpine", configure: { $0.readOnlyRootfs = true }, check: { built in
            #expect(built.spec.root?.readonly == true)
            #expect(mount(built, "/sys/fs/cgroup")?.options == ["ro", "nosuid", "noexec", "nodev"])
            #expect(mount(built, "/dev/mqueue")?.options == ["nosuid", "noexec", "nodev"])
            #expect(mount(built, "/proc")?.options == ["nosuid", "noexec", "nodev"])
            #expect(mount(built, "/etc/hosts")?.options == ["rbind", "ro", "rprivate"])
        }),
        Case(command: "docker run --security-opt no-new-privileges --security-opt seccomp=unconfined alpine",
             configure: { $0.securityOpt = ["no-new-privileges", "seccomp=unconfined"] }, check: { built in
            #expect(built.spec.process?.noNewPrivileges == true)
            #expect(built.spec.linux?.seccomp == nil)
            #expect(built.spec.linux?.maskedPaths != nil)
        }),
        Case(command: "docker run --ulimit nofile=1024:2048 --ulimit core=-1 alpine",
             configure: { $0.ulimits = [Ulimit(name: "nofile", soft: 1024, hard: 2048), Ulimit(name: "core", soft: -1, hard: -1)] },
             check: { built in
            #expect(built.spec.process?.rlimits == [RuntimeSpec.POSIXRlimit(type: "RLIMIT_NOFILE", hard: 2048, soft: 1024),
                                                    RuntimeSpec.POSIXRlimit(type: "RLIMIT_CORE", hard: UInt64.max, soft: UInt64.max)])
        }),
        Case(command: "docker run --tmpfs /run:rw,size=64m --tmpfs /tmp:exec alpine",
             configure: { $0.tmpfs = ["/run": "rw,size=64m", "/tmp": "exec"] }, check: { built in
            #expect(mount(built, "/run") == RuntimeSpec.Mount(destination: "/run", type: "tmpfs", source: "tmpfs",
                                                              options: ["noexec", "nosuid", "nodev", "rprivate", "rw", "size=64m"]))
            #expect(mount(built, "/tmp")?.options == ["nosuid", "nodev", "rprivate", "exec"])
        }),
        Case(command: "docker run -v /srv/data:/data:ro -v /srv/cache:/var/cache -v vol:/vol alpine",
             configure: { $0.binds = ["/srv/pier-test-data:/data:ro", "/srv/pier-test-cache:/var/cache/app", "vol:/vol"]
                 $0.volumePaths = ["vol": "/var/lib/pier/volumes/vol/_data"] }, check: { built in
            #expect(mount(built, "/data") == RuntimeSpec.Mount(destination: "/data", type: "bind", source: "/srv/pier-test-data",
                                                               options: ["rbind", "ro", "rprivate"]))
            #expect(mount(built, "/var/cache/app")?.options == ["rbind", "rprivate"])
            #expect(mount(built, "/vol") == RuntimeSpec.Mount(destination: "/vol", type: "bind",
                                                              source: "/var/lib/pier/volumes/vol/_data", options: ["rbind"]))
            // Shallower mounts first: /data and /vol (depth 1) before /etc/* (2) before /var/cache/app (3).
            let user = built.spec.mounts?.dropFirst(7).map(\.destination)
            #expect(user == ["/data", "/vol", "/etc/resolv.conf", "/etc/hostname", "/etc/hosts", "/var/cache/app"])
            #expect(FileManager.default.fileExists(atPath: "/srv/pier-test-data"))
            try? FileManager.default.removeItem(atPath: "/srv/pier-test-data")
            try? FileManager.default.removeItem(atPath: "/srv/pier-test-cache")
        }),
        Case(command: "docker run --mount type=bind,src=/tmp,dst=/host-tmp,bind-propagation=rshared --mount type=tmpfs,dst=/scratch,tmpfs-size=1g,tmpfs-mode=1770 alpine",
             configure: { $0.mounts = [MountRequest(type: .bind, source: "/tmp", target: "/host-tmp", propagation: "rshared"),
                                       MountRequest(type: .tmpfs, target: "/scratch", tmpfsSize: 1 << 30, tmpfsMode: 0o1770)] },
             check: { built in
            #expect(mount(built, "/host-tmp")?.options == ["rbind", "rshared"])
            #expect(built.spec.linux?.rootfsPropagation == "shared")
            #expect(mount(built, "/scratch")?.options == ["noexec", "nosuid", "nodev", "rprivate", "mode=1770", "size=1g"])
        }),
        Case(command: "docker run -v /srv:/dev/shm alpine (user mount replaces a default)",
             configure: { $0.binds = ["/tmp:/dev/shm"] }, check: { built in
            let shm = built.spec.mounts?.filter { $0.destination == "/dev/shm" }
            #expect(shm?.count == 1)
            #expect(shm?.first?.type == "bind")
        }),
        Case(command: "docker run --init alpine", configure: { $0.initProcess = true }, check: { built in
            #expect(built.spec.process?.args == ["/sbin/docker-init", "--", "/bin/sh"])
            #expect(built.spec.mounts?[7] == RuntimeSpec.Mount(destination: "/sbin/docker-init", type: "bind",
                                                               source: "/usr/libexec/pier-init", options: ["bind", "ro"]))
        }),
        Case(command: "docker run --init --pid host alpine (no init outside a private pid namespace)",
             configure: { $0.initProcess = true; $0.pidMode = .host }, check: { built in
            #expect(built.spec.process?.args == ["/bin/sh"])
            #expect(built.spec.linux?.namespaces?.contains { $0.type == .pid } == false)
        }),
        Case(command: "docker run --memory 64m --cpus 0.5 --pids-limit 20 --cpu-shares 512 alpine",
             configure: { $0.resources = Resources(memory: 64 << 20, nanoCPUs: 500_000_000, cpuShares: 512, pidsLimit: 20) },
             check: { built in
            let resources = try #require(built.spec.linux?.resources)
            #expect(resources.memory == RuntimeSpec.LinuxMemory(limit: 67_108_864, swap: 134_217_728))
            #expect(resources.cpu == RuntimeSpec.LinuxCPU(shares: 512, quota: 50_000, period: 100_000))
            #expect(resources.pids == RuntimeSpec.LinuxPids(limit: 20))
        }),
        Case(command: "docker run --memory 64m --memory-swap -1 --pids-limit 0 alpine",
             configure: { $0.resources = Resources(memory: 64 << 20, memorySwap: -1, pidsLimit: 0) }, check: { built in
            #expect(built.spec.linux?.resources?.memory == RuntimeSpec.LinuxMemory(limit: 67_108_864))
            #expect(built.spec.linux?.resources?.pids == RuntimeSpec.LinuxPids(limit: -1))
        }),
        Case(command: "docker run --network host alpine", configure: { $0.networkMode = .host }, check: { built in
            #expect(built.spec.linux?.namespaces?.map(\.type) == [.mount, .uts, .pid, .ipc])
            #expect(built.spec.linux?.sysctl == nil)
            // The host's name, as Docker does for --network host.
            #expect(built.spec.hostname?.isEmpty == false)
            #expect(built.spec.hostname != "ab12cd34ab12")
        }),
        Case(command: "docker run --network container:web --ipc host --uts host alpine",
             configure: { $0.networkMode = .path("/proc/42/ns/net"); $0.ipcMode = .host; $0.utsMode = .host }, check: { built in
            #expect(built.spec.linux?.namespaces == [.init(type: .mount), .init(type: .network, path: "/proc/42/ns/net"),
                                                     .init(type: .pid)])
            #expect(built.spec.hostname == nil)
            #expect(mount(built, "/dev/shm") == RuntimeSpec.Mount(destination: "/dev/shm", type: "bind", source: "/dev/shm",
                                                                  options: ["rbind", "rprivate"]))
        }),
        Case(command: "docker run alpine on a cgroup v2 host", mode: .v2, configure: { _ in }, check: { built in
            #expect(built.spec.linux?.namespaces?.last?.type == .cgroup)
        }),
        Case(command: "docker run --hostname web --domainname example.com -w /app/ -u postgres --stop-signal SIGUSR1 alpine",
             configure: { $0.hostname = "web"; $0.domainname = "example.com"; $0.workingDir = "/app/"; $0.user = "postgres"
                 $0.stopSignal = "SIGUSR1" }, check: { built in
            #expect(built.spec.hostname == "web")
            #expect(built.spec.domainname == "example.com")
            #expect(built.spec.process?.cwd == "/app")
            #expect(built.spec.process?.user == RuntimeSpec.User(uid: 70, gid: 70, additionalGids: [70, 18, 27]))
            #expect(built.spec.process?.env?.contains("HOME=/var/lib/postgresql") == true)
            #expect(built.spec.process?.env?.contains("HOSTNAME=web") == true)
            #expect(built.stopSignal == 10)
        }),
        Case(command: "docker run --sysctl net.core.somaxconn=1024 --annotation com.example=1 alpine",
             configure: { $0.sysctls = ["net.core.somaxconn": "1024"]; $0.annotations = ["com.example": "1"] }, check: { built in
            #expect(built.spec.linux?.sysctl?["net.core.somaxconn"] == "1024")
            #expect(built.spec.annotations?["com.example"] == "1")
        }),
        Case(command: "docker run --security-opt systempaths=unconfined alpine",
             configure: { $0.maskedPaths = []; $0.readonlyPaths = [] }, check: { built in
            #expect(built.spec.linux?.maskedPaths == nil)
            #expect(built.spec.linux?.readonlyPaths == nil)
        }),
    ]

    @Test(arguments: cases)
    func typicalRun(_ c: Case) throws {
        let container = FakeContainer()
        var spec = ContainerSpec(id: container.id, image: Self.alpine(), paths: container.paths)
        c.configure(&spec)
        let built = try SpecBuilder(host: testHost(c.mode)).build(spec)
        try c.check(built)
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var command: String
        var configure: @Sendable (inout ContainerSpec) -> Void
        var message: String
        var testDescription: String { command }
    }

    static let refusals: [Refusal] = [
        .init(command: "--cpus -1", configure: { $0.resources.nanoCPUs = -1_000_000_000 },
              message: "range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"),
        .init(command: "--cpus 3", configure: { $0.resources.nanoCPUs = 3_000_000_000 },
              message: "range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"),
        .init(command: "--memory 4m", configure: { $0.resources.memory = 4 << 20 }, message: "Minimum memory limit allowed is 6MB"),
        .init(command: "--memory 64m --memory-swap 32m", configure: { $0.resources.memory = 64 << 20; $0.resources.memorySwap = 32 << 20 },
              message: "Minimum memoryswap limit should be larger than memory limit, see usage"),
        .init(command: "--memory-swap 1g", configure: { $0.resources.memorySwap = 1 << 30 },
              message: "You should always set the Memory limit when using Memoryswap limit, see usage"),
        .init(command: "--memory-swappiness 101", configure: { $0.resources.memorySwappiness = 101 },
              message: "Invalid value: 101, valid memory swappiness range is 0-100"),
        .init(command: "--cpus 1 --cpu-quota 5000", configure: { $0.resources.nanoCPUs = 1_000_000_000; $0.resources.cpuQuota = 5000 },
              message: "Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
        .init(command: "--cpu-period 100", configure: { $0.resources.cpuPeriod = 100 },
              message: "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"),
        .init(command: "--cpu-quota 500", configure: { $0.resources.cpuQuota = 500 },
              message: "CPU cfs quota can not be less than 1ms (i.e. 1000)"),
        .init(command: "--cpu-shares -1", configure: { $0.resources.cpuShares = -1 },
              message: "invalid CPU shares (-1): value must be a positive integer"),
        .init(command: "--blkio-weight 5", configure: { $0.resources.blkioWeight = 5 }, message: "Range of blkio weight is from 10 to 1000"),
        .init(command: "--cpuset-cpus 0-7", configure: { $0.resources.cpusetCpus = "0-7" },
              message: "Requested CPUs are not available - requested 0-7, available: 0-1"),
        .init(command: "-u nosuchuser", configure: { $0.user = "nosuchuser" },
              message: "unable to find user nosuchuser: no matching entries in passwd file"),
        .init(command: "-w relative", configure: { $0.workingDir = "app" },
              message: "the working directory 'app' is invalid, it needs to be an absolute path"),
        .init(command: "--cap-add SYS_RESOURCE (not in this host's bounding set)", configure: { $0.capAdd = ["sys_resource"] },
              message: "capability not supported by your kernel or not available in the current environment: \"CAP_SYS_RESOURCE\""),
        .init(command: "--cap-add FOO", configure: { $0.capAdd = ["FOO"] }, message: "unknown capability: \"CAP_FOO\""),
        .init(command: "--ulimit nofile=2048:1024", configure: { $0.ulimits = [Ulimit(name: "nofile", soft: 2048, hard: 1024)] },
              message: "ulimit soft limit must be less than or equal to hard limit: 2048 > 1024"),
        .init(command: "--ulimit foo=1", configure: { $0.ulimits = [Ulimit(name: "foo", soft: 1, hard: 1)] },
              message: "invalid ulimit type: foo"),
        .init(command: "--security-opt foo=bar", configure: { $0.securityOpt = ["foo=bar"] },
              message: "invalid --security-opt 2: \"foo=bar\""),
        .init(command: "--security-opt nonsense", configure: { $0.securityOpt = ["nonsense"] },
              message: "invalid --security-opt 1: \"nonsense\""),
        .init(command: "--stop-signal SIGFOO", configure: { $0.stopSignal = "SIGFOO" }, message: "Invalid signal: SIGFOO"),
        .init(command: "-v /a:/", configure: { $0.binds = ["/a:/"] },
              message: "invalid volume specification: '/a:/': invalid mount config for type \"bind\": invalid specification: destination can't be '/'"),
        .init(command: "-v /a:b", configure: { $0.binds = ["/a:b"] },
              message: "invalid volume specification: '/a:b': invalid mount config for type \"bind\": invalid mount path: 'b' mount path must be absolute"),
        .init(command: "-v /a:/b:rw,ro", configure: { $0.binds = ["/a:/b:rw,ro"] }, message: "invalid mode: rw,ro"),
        .init(command: "-v /a:ro", configure: { $0.binds = ["/a:ro"] }, message: "invalid volume specification: '/a:ro'"),
        .init(command: "-v /a:/x -v /b:/x", configure: { $0.binds = ["/tmp:/x", "/tmp:/x/"] }, message: "Duplicate mount point: /x"),
        .init(command: "--mount type=bind,src=/nonexistent,dst=/x",
              configure: { $0.mounts = [MountRequest(type: .bind, source: "/nonexistent-pier", target: "/x")] },
              message: "invalid mount config for type \"bind\": bind source path does not exist: /nonexistent-pier"),
        .init(command: "--tmpfs /run:foo", configure: { $0.tmpfs = ["/run": "foo"] }, message: "invalid tmpfs option \"foo\""),
        .init(command: "run with no command", configure: { $0.image.Cmd = nil }, message: "no command specified"),
    ]

    @Test(arguments: refusals)
    func refused(_ r: Refusal) {
        let container = FakeContainer()
        var spec = ContainerSpec(id: container.id, image: Self.alpine(), paths: container.paths)
        r.configure(&spec)
        let error = #expect(throws: RuntimeError.self) { try SpecBuilder(host: testHost()).build(spec) }
        #expect(error?.message == r.message)
    }

    @Test("a hard ulimit above pierd's own fails early without CAP_SYS_RESOURCE")
    func ulimitAboveDaemon() {
        let container = FakeContainer()
        var spec = ContainerSpec(id: container.id, image: Self.alpine(), paths: container.paths)
        spec.ulimits = [Ulimit(name: "nofile", soft: 1024, hard: 4_000_000)]
        let error = #expect(throws: RuntimeError.self) { try SpecBuilder(host: testHost()).build(spec) }
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains("CAP_SYS_RESOURCE") == true)
        var host = testHost()
        host.capabilities.append("CAP_SYS_RESOURCE")
        #expect(throws: Never.self) { try SpecBuilder(host: host).build(spec) }
    }

    @Test("config.json has the runtime-spec keys and leaves unset fields out")
    func json() throws {
        let container = FakeContainer()
        var spec = ContainerSpec(id: container.id, image: Self.alpine(), paths: container.paths)
        spec.securityOpt = ["no-new-privileges"]
        spec.ulimits = [Ulimit(name: "nofile", soft: 10, hard: 20)]
        let built = try SpecBuilder(host: testHost()).build(spec)
        try built.write(toBundle: container.paths.bundle)
        let text = try #require(container.root.read("bundle/config.json"))
        for key in ["\"ociVersion\":\"1.1.0\"", "\"additionalGids\":[0,0,1,2,10,27]", "\"noNewPrivileges\":true",
                    "\"fileMode\":438", "\"errnoRet\":1", "\"defaultAction\":\"SCMP_ACT_ALLOW\"", "\"oomScoreAdj\":0",
                    "\"rlimits\":[{\"hard\":20,\"soft\":10,\"type\":\"RLIMIT_NOFILE\"}]", "\"valueTwo\":131072",
                    "\"op\":\"SCMP_CMP_MASKED_EQ\"", "\"cgroupsPath\":\"/pier/", "\"path\":\"/dev/null\"",
                    "\"org.pier.overlay.upperdir\":"] {
            #expect(text.contains(key), "config.json lacks \(key)")
        }
        for absent in ["\"terminal\"", "\"readonly\"", "\"inheritable\"", "\"uidMappings\"", ":null"] {
            #expect(!text.contains(absent), "config.json should not contain \(absent)")
        }
        let decoded = try JSONDecoder().decode(RuntimeSpec.self, from: Data(text.utf8))
        #expect(decoded == built.spec)
    }

    @Test("a config written by runc's `spec` decodes")
    func decodesRuncConfig() throws {
        let text = """
        {"ociVersion":"1.0.2-dev","process":{"terminal":true,"user":{"uid":0,"gid":0},"args":["sh"],
         "env":["PATH=/bin","TERM=xterm"],"cwd":"/","capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],
         "permitted":["CAP_KILL"],"ambient":["CAP_KILL"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],
         "noNewPrivileges":true},"root":{"path":"rootfs","readonly":true},"hostname":"runc",
         "mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
         "linux":{"resources":{"devices":[{"allow":false,"access":"rwm"}]},
         "namespaces":[{"type":"pid"},{"type":"network"},{"type":"time"}],
         "maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"],
         "seccomp":{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64"],
         "flags":["SECCOMP_FILTER_FLAG_LOG"],"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}}}
        """
        let spec = try JSONDecoder().decode(RuntimeSpec.self, from: Data(text.utf8))
        #expect(spec.process?.terminal == true)
        #expect(spec.process?.capabilities?.ambient == ["CAP_KILL"])
        #expect(spec.linux?.namespaces?.last?.type == .time)
        #expect(spec.linux?.seccomp?.defaultErrnoRet == 1)
        #expect(spec.linux?.seccomp?.syscalls?.first?.action == .allow)
    }
}
