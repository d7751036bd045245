import Foundation

/// Linux capability names and Docker's rules for `--cap-add`, `--cap-drop` and `--privileged`
/// (moby `daemon/pkg/oci/caps`).
public enum Capabilities {
    /// Every capability the kernel defines, by number (linux/capability.h, up to 5.9).
    public static let known: [String] = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
        "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
        "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
    ]

    /// The set Docker gives a container that asks for nothing (moby `caps.DefaultCapabilities`).
    public static let dockerDefault: [String] = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]

    /// The names of the bits set in a `/proc/<pid>/status` capability mask.
    public static func names(mask: UInt64) -> [String] {
        known.enumerated().compactMap { index, name in mask & (UInt64(1) << UInt64(index)) != 0 ? name : nil }
    }

    /// The calling process's effective set, which is what a privileged container can get
    /// (Docker uses dockerd's own effective set). Nil when /proc cannot be read. Blocks.
    public static func currentEffective() -> [String]? {
        guard let text = try? PosixFile.readText("/proc/self/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("CapEff:") {
            let hex = line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces)
            guard let mask = UInt64(hex, radix: 16) else { return nil }
            return names(mask: mask)
        }
        return nil
    }

    /// Upper-cases, adds the `CAP_` prefix and checks names against `known` and `available`,
    /// keeping the magic `ALL`. Errors are Docker's.
    public static func normalize(_ names: [String], available: [String]) throws(RuntimeError) -> [String] {
        var result = [String]()
        for raw in names {
            var name = raw.uppercased()
            if name == "ALL" { result.append(name); continue }
            if !name.hasPrefix("CAP_") { name = "CAP_" + name }
            guard known.contains(name) else {
                throw RuntimeError(.invalidArgument, "unknown capability: \"\(name)\"")
            }
            guard available.contains(name) else {
                throw RuntimeError(.invalidArgument,
                                   "capability not supported by your kernel or not available in the current environment: \"\(name)\"")
            }
            result.append(name)
        }
        return result
    }

    /// Docker's `TweakCapabilities`: privileged gets everything available; `--cap-add ALL`
    /// gets everything available but the drops; `--cap-drop ALL` keeps only the adds;
    /// otherwise the defaults minus the drops plus the adds.
    public static func resolve(add: [String], drop: [String], privileged: Bool,
                               available: [String]) throws(RuntimeError) -> [String] {
        if privileged { return available }
        if add.isEmpty && drop.isEmpty { return dockerDefault }
        let drops = try normalize(drop, available: available)
        let adds = try normalize(add, available: available)
        var result = [String]()
        if adds.contains("ALL") {
            result = available.filter { !drops.contains($0) }
        } else if drops.contains("ALL") {
            result = adds
        } else {
            result = dockerDefault.filter { !drops.contains($0) } + adds
        }
        var seen = Set<String>()
        return result.filter { seen.insert($0).inserted }
    }
}
