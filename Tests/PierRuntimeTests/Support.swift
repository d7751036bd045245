import Foundation
@testable import PierRuntime

/// A directory under /tmp removed when the value goes away.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init(_ label: String = "pier-runtime") {
        var template = Array("/tmp/\(label)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        path = made.map { String(cString: $0) } ?? "/tmp/\(label)-\(UInt32.random(in: 0...UInt32.max))"
        if made == nil { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ relative: String, _ text: String, mode: Int = 0o644) {
        let full = path + "/" + relative
        try? FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: full, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
    }

    func directory(_ relative: String) -> String {
        let full = path + "/" + relative
        try? FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        return full
    }

    /// An overlayfs whiteout: a 0/0 character device (needs CAP_MKNOD, which root has).
    func whiteout(_ relative: String) -> Bool {
        let full = path + "/" + relative
        try? FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        return mknod(full, S_IFCHR | 0o000, 0) == 0
    }

    func read(_ relative: String) -> String? {
        (try? String(contentsOfFile: path + "/" + relative, encoding: .utf8))
    }
}

/// A container directory laid out as pierd lays it out, with an image whose /etc has a passwd
/// and group file like alpine's.
struct FakeContainer {
    let root: TemporaryDirectory
    let id = String(repeating: "ab12cd34", count: 8)

    init(passwd: String = FakeContainer.alpinePasswd, group: String = FakeContainer.alpineGroup) {
        root = TemporaryDirectory("pier-container")
        root.file("layers/0/etc/passwd", passwd)
        root.file("layers/0/etc/group", group)
        _ = root.directory("upper")
        _ = root.directory("work")
        _ = root.directory("bundle/rootfs")
        root.file("hostname", "\(id.prefix(12))\n")
        root.file("hosts", "127.0.0.1 localhost\n")
        root.file("resolv.conf", "nameserver 10.0.0.1\n")
    }

    var paths: ContainerPaths {
        ContainerPaths(bundle: root.path + "/bundle", lowerDirs: [root.path + "/layers/0"], upperDir: root.path + "/upper",
                       workDir: root.path + "/work", hostnameFile: root.path + "/hostname",
                       hostsFile: root.path + "/hosts", resolvConfFile: root.path + "/resolv.conf",
                       cgroupProcsFiles: ["/sys/fs/cgroup/memory/pier/\(id)/cgroup.procs"],
                       cgroupsPath: "/pier/\(id)", initBinary: "/usr/libexec/pier-init")
    }

    static let alpinePasswd = """
        root:x:0:0:root:/root:/bin/sh
        bin:x:1:1:bin:/bin:/sbin/nologin
        daemon:x:2:2:daemon:/sbin:/sbin/nologin
        nobody:x:65534:65534:nobody:/:/sbin/nologin
        postgres:x:70:70:PostgreSQL:/var/lib/postgresql:/bin/sh
        www-data:x:82:82:Linux User,,,:/home/www-data:/sbin/nologin

        """
    static let alpineGroup = """
        root:x:0:root
        bin:x:1:root,bin,daemon
        daemon:x:2:root,bin,daemon
        wheel:x:10:root
        # a comment line
        postgres:x:70:
        www-data:x:82:
        audio:x:18:postgres
        video:x:27:root,postgres
        nogroup:x:65533:
        nobody:x:65534:

        """
}

/// A host description that does not depend on the machine running the tests.
func testHost(_ mode: CgroupMode = .hybrid) -> HostEnvironment {
    HostEnvironment(cgroupMode: mode, capabilities: Capabilities.known.filter { $0 != "CAP_SYS_RESOURCE" },
                    cpuCount: 2, architecture: "amd64", thermalThrottlePaths: [],
                    hardLimits: ["RLIMIT_NOFILE": 1_048_576, "RLIMIT_NPROC": UInt64.max])
}

/// A value behind a lock, for state shared with helper threads.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
