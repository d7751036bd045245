import PierOCI

/// Docker's default seccomp policy, expressed the other way round: Docker's profile
/// (moby/profiles `seccomp/default.json`) is an allow-list with `defaultAction` ERRNO(EPERM);
/// Pier writes `defaultAction` ALLOW plus ERRNO rules for what that allow-list leaves out, so
/// the shim's filter stays short and a syscall newer than the list still works (as it would on a
/// host without seccomp). The rules are capability-aware like Docker's `includes.caps`:
/// `--cap-add SYS_ADMIN` also lets `mount` and `unshare` through, as it does under Docker.
///
/// Checked against default.json vendored at moby b985e23 (2026-08). Differences from the list
/// Pier was first given, on purpose:
/// - not refused, because Docker allows them: `clock_adjtime` and `name_to_handle_at` (always),
///   `ptrace`, `process_vm_readv`, `process_vm_writev` (Docker allows them on kernels ≥ 4.8;
///   Pier supports no older kernel);
/// - refused too, because Docker refuses them: `io_uring_setup/enter/register`, `migrate_pages`,
///   `fanotify_init`, `fsopen/fsconfig/fsmount/fspick`, `move_mount`, `open_tree`,
///   `mount_setattr`, `quotactl_fd`, `sethostname`, `setdomainname`, `syslog`, `vhangup`,
///   `pidfd_getfd`, `process_madvise`, `set_mempolicy_home_node`, `clock_settime64`,
///   `lsm_set_self_attr` (and the other `lsm_*`), the never-implemented `afs_syscall`,
///   `getpmsg`, `putpmsg`, `security`, `tuxcall`, `vserver`;
/// - `clone3` fails with ENOSYS (not EPERM) without CAP_SYS_ADMIN, so that glibc falls back to
///   `clone`, whose namespace flags are refused by argument rules as Docker does;
/// - `socket(AF_ALG)` and `socket(AF_VSOCK)` are refused by argument rules as Docker does;
/// - not expressible as deny rules and so not enforced: Docker's `personality` allow-list
///   (only 0, 8, 0x20000, 0x20008, 0xffffffff pass under Docker).
///
/// Names that do not exist on an architecture (`stime`, `vm86` on x86_64) are listed for the
/// others: the shim must skip names libseccomp cannot resolve, as runc does.
public enum DockerSeccomp {
    static let eperm: UInt = 1
    static let enosys: UInt = 38

    /// Refused whatever the capabilities.
    static let alwaysRefused: [String] = [
        "_sysctl", "add_key", "afs_syscall", "create_module", "get_kernel_syms", "getpmsg",
        "io_uring_enter", "io_uring_register", "io_uring_setup", "kexec_file_load", "kexec_load",
        "keyctl", "migrate_pages", "move_pages", "nfsservctl", "pivot_root", "putpmsg", "query_module",
        "request_key", "security", "swapoff", "swapon", "sysfs", "tuxcall", "uselib", "userfaultfd",
        "ustat", "vm86", "vm86old", "vserver",
    ]

    /// Refused unless the container holds one of the capabilities that lists the name
    /// (default.json `includes.caps`; `syslog`, `bpf`, `perf_event_open` appear twice).
    static let refusedWithout: [(capability: String, names: [String])] = [
        ("CAP_SYS_ADMIN", ["bpf", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                           "lookup_dcookie", "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr",
                           "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
                           "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog",
                           "umount", "umount2", "unshare"]),
        ("CAP_SYS_BOOT", ["reboot"]),
        ("CAP_SYS_CHROOT", ["chroot"]),
        ("CAP_SYS_MODULE", ["delete_module", "init_module", "finit_module"]),
        ("CAP_SYS_PACCT", ["acct"]),
        ("CAP_SYS_PTRACE", ["kcmp", "pidfd_getfd", "process_madvise"]),
        ("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
        ("CAP_SYS_TIME", ["settimeofday", "stime", "clock_settime", "clock_settime64"]),
        ("CAP_SYS_TTY_CONFIG", ["vhangup"]),
        ("CAP_SYS_NICE", ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"]),
        ("CAP_SYSLOG", ["syslog"]),
        ("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
        ("CAP_BPF", ["bpf"]),
        ("CAP_PERFMON", ["perf_event_open"]),
    ]

    /// `CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
    /// CLONE_NEWPID | CLONE_NEWNET`: Docker's mask 0x7E020000, one bit a rule.
    static let cloneNamespaceFlags: [UInt64] = [0x0002_0000, 0x0200_0000, 0x0400_0000, 0x0800_0000,
                                                0x1000_0000, 0x2000_0000, 0x4000_0000]

    /// The architectures Docker's profile lists for the host's (so 32-bit binaries keep working).
    public static func architectures(for goarch: String) -> [String]? {
        switch goarch {
        case "amd64": return ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
        case "arm64": return ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
        case "ppc64le": return ["SCMP_ARCH_PPC64LE"]
        case "s390x": return ["SCMP_ARCH_S390", "SCMP_ARCH_S390X"]
        case "riscv64": return ["SCMP_ARCH_RISCV64"]
        default: return nil
        }
    }

    /// The seccomp section for a container holding `capabilities` (its bounding set).
    public static func profile(capabilities: [String], architecture: String) -> RuntimeSpec.LinuxSeccomp {
        let held = Set(capabilities)
        var grantedBy = [String: Set<String>]()
        for group in refusedWithout {
            for name in group.names { grantedBy[name, default: []].insert(group.capability) }
        }
        let refused = (Set(alwaysRefused).union(grantedBy.filter { $0.value.isDisjoint(with: held) }.keys)).sorted()

        var rules = [RuntimeSpec.LinuxSyscall(names: refused, action: .errno, errnoRet: eperm)]
        if !held.contains("CAP_SYS_ADMIN") {
            rules.append(RuntimeSpec.LinuxSyscall(names: ["clone3"], action: .errno, errnoRet: enosys))
            // s390 passes the flags in the second argument; everywhere else in the first.
            let flagsIndex: UInt = architecture == "s390x" ? 1 : 0
            for flag in cloneNamespaceFlags {
                rules.append(RuntimeSpec.LinuxSyscall(
                    names: ["clone"], action: .errno, errnoRet: eperm,
                    args: [RuntimeSpec.LinuxSeccompArg(index: flagsIndex, value: flag, valueTwo: flag, op: .maskedEqual)]))
            }
        }
        // AF_ALG (38) and AF_VSOCK (40).
        for family: UInt64 in [38, 40] {
            rules.append(RuntimeSpec.LinuxSyscall(
                names: ["socket"], action: .errno, errnoRet: eperm,
                args: [RuntimeSpec.LinuxSeccompArg(index: 0, value: family, op: .equalTo)]))
        }
        return RuntimeSpec.LinuxSeccomp(defaultAction: .allow, architectures: architectures(for: architecture),
                                        syscalls: rules)
    }
}
