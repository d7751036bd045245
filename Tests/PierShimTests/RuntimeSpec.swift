import Foundation

/// The part of the OCI runtime-spec v1.1 `config.json` (specs-go/config.go) that pierd
/// writes for pier-shim (docs/runtime.md). Field names are the spec's JSON keys.
struct RuntimeSpec: Encodable {
    var ociVersion = "1.1.0"
    var process: Process
    var root: Root
    var hostname: String?
    var mounts: [Mount]
    var annotations: [String: String]
    var linux: Linux

    struct Process: Encodable {
        var terminal: Bool?
        var consoleSize: ConsoleSize?
        var user: User
        var args: [String]
        var env: [String]
        var cwd: String
        var capabilities: Capabilities?
        var rlimits: [Rlimit]?
        var noNewPrivileges: Bool?
        var oomScoreAdj: Int?
    }

    struct ConsoleSize: Encodable {
        var height: Int
        var width: Int
    }

    struct User: Encodable {
        var uid: UInt32
        var gid: UInt32
        var additionalGids: [UInt32]?
    }

    struct Capabilities: Encodable {
        var bounding: [String]
        var effective: [String]
        var permitted: [String]
        var inheritable: [String]?
        var ambient: [String]?

        init(_ set: [String]) {
            bounding = set
            effective = set
            permitted = set
        }
    }

    struct Rlimit: Encodable {
        var type: String
        var hard: UInt64
        var soft: UInt64
    }

    struct Root: Encodable {
        var path: String
        var readonly: Bool?
    }

    struct Mount: Encodable {
        var destination: String
        var type: String?
        var source: String?
        var options: [String]?
    }

    struct Linux: Encodable {
        var namespaces: [Namespace]
        var maskedPaths: [String]?
        var readonlyPaths: [String]?
        var sysctl: [String: String]?
        var seccomp: Seccomp?
    }

    struct Namespace: Encodable {
        var type: String
        var path: String?
    }

    struct Seccomp: Encodable {
        var defaultAction: String
        var architectures: [String]?
        var syscalls: [Syscall]
    }

    struct Syscall: Encodable {
        var names: [String]
        var action: String
        var errnoRet: UInt32?
    }
}

extension RuntimeSpec {
    /// Docker's default capability set.
    static let dockerCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]

    /// The same set as /proc/<pid>/status prints it (bits 0 1 3 4 5 6 7 8 10 13 18 27 29 31).
    static let dockerCapabilityMask = "00000000a80425fb"

    /// What pierd writes for `docker run <image> <args>`: Docker's namespaces, mounts,
    /// capabilities, masked and read-only paths, no_new_privs, and a seccomp filter that
    /// denies unshare and mount with EPERM.
    static func pierdDefault(args: [String], hostname: String, overlay: (lower: String, upper: String, work: String))
        -> RuntimeSpec
    {
        RuntimeSpec(
            process: Process(
                terminal: false,
                user: User(uid: 0, gid: 0),
                args: args,
                env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=\(hostname)"],
                cwd: "/",
                capabilities: Capabilities(dockerCapabilities),
                rlimits: [Rlimit(type: "RLIMIT_NOFILE", hard: 4096, soft: 4096)],
                noNewPrivileges: true,
                oomScoreAdj: 0),
            root: Root(path: "rootfs"),
            hostname: hostname,
            mounts: [
                Mount(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
                Mount(destination: "/dev", type: "tmpfs", source: "tmpfs",
                      options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
                Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
                Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
                Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
                Mount(destination: "/dev/shm", type: "tmpfs", source: "shm",
                      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]),
            ],
            annotations: [
                "org.pier.overlay.lowerdir": overlay.lower,
                "org.pier.overlay.upperdir": overlay.upper,
                "org.pier.overlay.workdir": overlay.work,
            ],
            linux: Linux(
                namespaces: ["mount", "pid", "uts", "ipc", "network", "cgroup"].map { Namespace(type: $0) },
                maskedPaths: [
                    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
                ],
                readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
                seccomp: Seccomp(
                    defaultAction: "SCMP_ACT_ALLOW",
                    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                    syscalls: [Syscall(names: ["unshare", "mount"], action: "SCMP_ACT_ERRNO", errnoRet: 1)])))
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
