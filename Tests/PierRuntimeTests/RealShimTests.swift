import Foundation
import Logging
import PierOCI
import Testing
@testable import PierRuntime

/// End to end with the C `pier-shim`: a busybox container that writes to both streams and
/// exits 3. Cancelled (with the reason) while the shim is the placeholder that says
/// "not built yet", or when the binary or root is missing.
@Suite("the real pier-shim")
struct RealShimTests {
    static func shimExecutable() -> String? {
        if let path = ProcessInfo.processInfo.environment["PIER_SHIM"] { return path }
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        var dir = (String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) as NSString).deletingLastPathComponent
        for _ in 0..<4 {
            let candidate = dir + "/pier-shim"
            if access(candidate, X_OK) == 0 { return candidate }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return nil
    }

    @Test("busybox sh: output on attach and in the log, exit code 3 in the event and the exit file")
    func runsAContainer() throws {
        guard let shim = Self.shimExecutable() else {
            try Test.cancel("pier-shim is not built next to the test binary (swift build --product pier-shim, or set PIER_SHIM)")
        }
        guard getuid() == 0 else { try Test.cancel("running a container needs root") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/busybox") || FileManager.default.isExecutableFile(atPath: "/bin/busybox") else {
            try Test.cancel("no static busybox on this host to build a root filesystem from")
        }
        let root = TemporaryDirectory("pier-shim-real")
        let id = String(repeating: "5eed", count: 16)
        let layer = root.directory("layers/0")
        _ = root.directory("layers/0/bin")
        let busybox = FileManager.default.fileExists(atPath: "/usr/bin/busybox") ? "/usr/bin/busybox" : "/bin/busybox"
        try FileManager.default.copyItem(atPath: busybox, toPath: layer + "/bin/busybox")
        for tool in ["sh", "echo", "cat", "sleep"] { symlink("busybox", layer + "/bin/" + tool) }
        root.file("layers/0/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
        root.file("layers/0/etc/group", "root:x:0:root\n")
        let directory = root.directory("containers/\(id)")
        _ = root.directory("containers/\(id)/bundle/rootfs")
        _ = root.directory("containers/\(id)/upper")
        _ = root.directory("containers/\(id)/work")
        root.file("containers/\(id)/hostname", "\(id.prefix(12))\n")
        root.file("containers/\(id)/hosts", "127.0.0.1 localhost\n")
        root.file("containers/\(id)/resolv.conf", "nameserver 127.0.0.1\n")

        let hierarchy = try CgroupHierarchy.detect()
        let parent = "pier-test-\(UInt32.random(in: 0...UInt32.max))"
        let cgroup = try CgroupManager(hierarchy: hierarchy, id: id, parent: parent, logger: Logger(label: "test"))
        defer {
            try? cgroup.remove()
            CgroupManager.removeParentIfUnused(parent, in: hierarchy)
        }
        try cgroup.create()

        var image = ContainerConfig()
        image.Cmd = ["sh", "-c", "echo hello; echo oops >&2; exit 3"]
        let files = ShimFiles(directory: directory)
        let paths = ContainerPaths(bundle: files.bundle, lowerDirs: [layer], upperDir: directory + "/upper",
                                   workDir: directory + "/work", hostnameFile: directory + "/hostname",
                                   hostsFile: directory + "/hosts", resolvConfFile: directory + "/resolv.conf",
                                   cgroupProcsFiles: cgroup.procsFiles, cgroupsPath: cgroup.relativePath)
        let built = try SpecBuilder(host: HostEnvironment.current(cgroups: hierarchy))
            .build(ContainerSpec(id: id, image: image, paths: paths))
        try cgroup.apply(try #require(built.spec.linux?.resources))
        try built.write(toBundle: files.bundle)

        let shimProcess: ShimProcess
        do {
            shimProcess = try ShimLauncher(executable: shim).run(id: id, files: files)
        } catch {
            if error.message.contains("not built yet") { try Test.cancel("pier-shim says it is not built yet: \(error.message)") }
            throw error
        }
        defer { if ShimLiveness.isAlive(pid: shimProcess.pid, id: id) { kill(shimProcess.pid, SIGKILL) } }
        #expect(ShimLiveness.isAlive(pid: shimProcess.pid, id: id))

        let control = try ShimControl.connect(files)
        let pid = try control.waitForReady()
        #expect(pid > 0)
        let attach = try AttachConnection.connect(files)
        defer { attach.close() }
        #expect(try control.start() == .started(pid: pid))

        var exit: ShimEvent?
        while let event = try control.nextEvent(timeout: .seconds(20)) {
            if case .exited = event { exit = event }
        }
        #expect(exit == .exited(exitCode: 3, signal: 0, oomKilled: false))
        let (frames, _) = StdCopy.parse(FakeShimSocket.readAll(attach.fileDescriptor))
        #expect(frames.map(\.0) == [.stdout, .stderr])
        #expect(frames.map { String(decoding: $0.1, as: UTF8.self) } == ["hello\n", "oops\n"])
        #expect(try files.readExit()?.exitCode == 3)
        let log = JSONFileLog(directory: directory, id: id)
        #expect(try log.entries().map { String(decoding: $0.bytes, as: UTF8.self) } == ["hello\n", "oops\n"])
    }
}
