import Foundation
import PierOCI

/// The parts of a container's config that Docker fills in the same way for every container
/// (moby `daemon/pkg/oci/defaults.go`, runc's default devices and device rules).
public enum DockerDefaults {
    /// Hidden with /dev/null (files) or an empty read-only tmpfs (directories).
    public static let maskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/sched_debug", "/proc/scsi", "/proc/timer_list", "/proc/timer_stats",
        "/sys/devices/virtual/powercap", "/sys/firmware",
    ]

    /// Re-mounted read-only.
    public static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// Docker's default mounts, in Docker's order; `/dev/shm` gets its `size=` from `--shm-size`.
    public static func mounts(shmSize: Int64) -> [RuntimeSpec.Mount] {
        [
            .init(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
            .init(destination: "/dev", type: "tmpfs", source: "tmpfs",
                  options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            .init(destination: "/dev/pts", type: "devpts", source: "devpts",
                  options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            .init(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
            .init(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
                  options: ["ro", "nosuid", "noexec", "nodev"]),
            .init(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            .init(destination: "/dev/shm", type: "tmpfs", source: "shm",
                  options: ["nosuid", "noexec", "nodev", "mode=1777", "size=\(shmSize)"]),
        ]
    }

    /// The device nodes every container gets (runc's defaults; Docker's spec leaves them to runc).
    /// `/dev/ptmx` is a symlink to `pts/ptmx` and /dev/pts is a devpts mount, both made by the shim.
    public static let devices: [RuntimeSpec.LinuxDevice] = [
        ("/dev/null", 1, 3), ("/dev/zero", 1, 5), ("/dev/full", 1, 7), ("/dev/random", 1, 8),
        ("/dev/urandom", 1, 9), ("/dev/tty", 5, 0),
    ].map { RuntimeSpec.LinuxDevice(path: $0.0, type: "c", major: $0.1, minor: $0.2, fileMode: 0o666, uid: 0, gid: 0) }

    /// The device cgroup: Docker's rules (deny all; allow zero, null, urandom, random, tty,
    /// console; deny fuse), then what runc appends (mknod of anything, the default devices,
    /// ptys, ptmx, tun), since pierd plays runc's part.
    public static let deviceRules: [RuntimeSpec.LinuxDeviceCgroup] = {
        typealias Rule = RuntimeSpec.LinuxDeviceCgroup
        let docker: [Rule] = [
            Rule(allow: false, access: "rwm"),
            Rule(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),
            Rule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
            Rule(allow: true, type: "c", major: 1, minor: 9, access: "rwm"),
            Rule(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),
            Rule(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),
            Rule(allow: true, type: "c", major: 5, minor: 1, access: "rwm"),
            Rule(allow: false, type: "c", major: 10, minor: 229, access: "rwm"),
        ]
        let runc: [Rule] = [
            Rule(allow: true, type: "c", major: -1, minor: -1, access: "m"),
            Rule(allow: true, type: "b", major: -1, minor: -1, access: "m"),
            Rule(allow: true, type: "c", major: 1, minor: 7, access: "rwm"),
            Rule(allow: true, type: "c", major: 136, minor: -1, access: "rwm"),
            Rule(allow: true, type: "c", major: 5, minor: 2, access: "rwm"),
            Rule(allow: true, type: "c", major: 10, minor: 200, access: "rwm"),
        ]
        return docker + runc
    }()

    /// Every device node under `directory` (containerd's `HostDevices`: skips pts, shm, fd,
    /// mqueue and the console, and FIFOs), for `--privileged`. Blocks.
    public static func hostDevices(in directory: String = "/dev") -> [RuntimeSpec.LinuxDevice] {
        var result = [RuntimeSpec.LinuxDevice]()
        for name in PosixFile.list(directory).sorted() {
            let path = directory + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                if ["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"].contains(name) { continue }
                result += hostDevices(in: path)
            case S_IFCHR, S_IFBLK:
                if name == "console" { continue }
                // glibc's gnu_dev_major / gnu_dev_minor.
                let dev = UInt64(info.st_rdev)
                let major = Int64(((dev & 0x0000_0000_000f_ff00) >> 8) | ((dev & 0xffff_f000_0000_0000) >> 32))
                let minor = Int64((dev & 0xff) | ((dev & 0x0000_0fff_fff0_0000) >> 12))
                result.append(RuntimeSpec.LinuxDevice(
                    path: path, type: (info.st_mode & S_IFMT) == S_IFBLK ? "b" : "c", major: major, minor: minor,
                    fileMode: UInt32(info.st_mode & 0o7777), uid: info.st_uid, gid: info.st_gid))
            default:
                continue
            }
        }
        return result
    }
}
