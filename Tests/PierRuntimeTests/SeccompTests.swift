import PierOCI
import Testing
@testable import PierRuntime

@Suite("Docker's seccomp policy as ALLOW + ERRNO rules")
struct SeccompTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var capabilities: [String]
        var refused: [String]
        var allowed: [String]
        var testDescription: String { capabilities.isEmpty ? "no capabilities" : capabilities.joined(separator: " ") }
    }

    static let cases: [Case] = [
        .init(capabilities: [], refused: ["syslog", "bpf", "perf_event_open", "chroot", "reboot", "mount"],
              allowed: ["ptrace", "process_vm_readv", "clock_adjtime", "name_to_handle_at"]),
        .init(capabilities: ["CAP_SYSLOG"], refused: ["mount"], allowed: ["syslog"]),
        .init(capabilities: ["CAP_BPF", "CAP_PERFMON"], refused: ["mount", "syslog"], allowed: ["bpf", "perf_event_open"]),
        .init(capabilities: ["CAP_SYS_ADMIN"], refused: ["reboot", "kexec_load"],
              allowed: ["mount", "umount2", "unshare", "setns", "syslog", "bpf", "perf_event_open", "sethostname"]),
        .init(capabilities: ["CAP_SYS_TIME", "CAP_SYS_NICE"], refused: ["mount"],
              allowed: ["settimeofday", "clock_settime", "mbind", "set_mempolicy"]),
        .init(capabilities: ["CAP_SYS_PTRACE", "CAP_SYS_MODULE", "CAP_SYS_BOOT"], refused: ["keyctl", "add_key", "userfaultfd"],
              allowed: ["kcmp", "pidfd_getfd", "init_module", "reboot"]),
    ]

    @Test(arguments: cases)
    func rules(_ c: Case) {
        let profile = DockerSeccomp.profile(capabilities: c.capabilities, architecture: "amd64")
        #expect(profile.defaultAction == .allow)
        let refused = Set(profile.syscalls?.first?.names ?? [])
        for name in c.refused { #expect(refused.contains(name), "\(name) should be refused") }
        for name in c.allowed { #expect(!refused.contains(name), "\(name) should be allowed") }
        let cloneRules = profile.syscalls?.filter { $0.names == ["clone"] } ?? []
        #expect(cloneRules.count == (c.capabilities.contains("CAP_SYS_ADMIN") ? 0 : 7))
        #expect(cloneRules.allSatisfy { $0.args?.first?.op == .maskedEqual && $0.args?.first?.index == 0 })
        let socketFamilies = profile.syscalls?.filter { $0.names == ["socket"] }.compactMap { $0.args?.first?.value }
        #expect(socketFamilies == [38, 40])
    }

    @Test(arguments: [("amd64", ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
                      ("arm64", ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"])])
    func architectures(_ goarch: String, _ expected: [String]) {
        #expect(DockerSeccomp.profile(capabilities: [], architecture: goarch).architectures == expected)
    }
}
