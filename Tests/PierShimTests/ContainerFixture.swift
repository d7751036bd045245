import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The exit file (docs/runtime.md, "exit").
struct ExitRecord: Decodable, Equatable {
    var exitCode: Int
    var signal: Int
    var oomKilled: Bool
    var startedAt: String
    var finishedAt: String
    var error: String
}

/// One line of the json-file log.
struct LogEntry: Decodable {
    var log: String
    var stream: String
    var time: String
}

/// What a user of `docker run` would see of one container run.
struct ContainerRun {
    var events: [String]
    var stdout: String
    var stderr: String
    var exit: ExitRecord
    var pid: Int32?

    var output: String { stdout + stderr }
}

/// The pier-shim and pier-init binaries: beside the test bundle or in a directory above it.
enum BuiltBinary {
    static func path(_ name: String) throws -> String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        throw ShimTestError("\(name) not found beside \(CommandLine.arguments[0]) (build it first)")
    }
}

/// A container directory laid out as pierd lays it out (docs/runtime.md), with a
/// busybox root filesystem as the overlay's lower layer. `remove()` kills what is left
/// of the container and its shims, removes the cgroups it made and deletes every file.
final class ContainerFixture {
    let base: String
    let id: String
    let directory: String
    let lower: String
    var spec: RuntimeSpec
    private var cgroups: [String] = []

    static var isRoot: Bool { getuid() == 0 }

    init(_ args: [String], hostname: String = "pier-test") throws {
        var template = Array("/tmp/pier-shim-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ShimTestError("mkdtemp failed") }
        base = String(cString: made)
        id = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        directory = "\(base)/containers/\(id)"
        lower = "\(base)/layers/busybox"
        spec = RuntimeSpec.pierdDefault(
            args: args, hostname: hostname,
            overlay: (lower: lower, upper: "\(directory)/upper", work: "\(directory)/work"))
        do {
            try makeBusyboxLayer()
            for dir in ["bundle/rootfs", "upper", "work"] {
                try FileManager.default.createDirectory(
                    atPath: "\(directory)/\(dir)", withIntermediateDirectories: true)
            }
        } catch {
            remove()
            throw error
        }
    }

    var rootfs: String { "\(directory)/bundle/rootfs" }

    /// /bin/busybox with a symlink for each applet, and the directories of an image.
    private func makeBusyboxLayer() throws {
        let fm = FileManager.default
        for dir in ["bin", "etc", "proc", "sys", "dev", "tmp", "root", "sbin"] {
            try fm.createDirectory(atPath: "\(lower)/\(dir)", withIntermediateDirectories: true)
        }
        try fm.copyItem(atPath: "/bin/busybox", toPath: "\(lower)/bin/busybox")
        let applets = try Self.capture("/bin/busybox", ["--list"]).split(separator: "\n")
        for applet in applets where applet != "busybox" {
            try fm.createSymbolicLink(atPath: "\(lower)/bin/\(applet)", withDestinationPath: "busybox")
        }
        try "root:x:0:0:root:/root:/bin/sh\n".write(toFile: "\(lower)/etc/passwd", atomically: true, encoding: .utf8)
    }

    static func capture(_ path: String, _ args: [String]) throws -> String {
        let p = Foundation.Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// A fresh cgroup under a v1 controller (say "pids"), removed with the fixture.
    func makeCgroup(controller: String) throws -> String {
        let path = "/sys/fs/cgroup/\(controller)/pier-test-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(path, 0o755) == 0 else { throw ShimTestError("mkdir \(path): \(String(cString: strerror(errno)))") }
        cgroups.append(path)
        return path
    }

    // MARK: the shim

    struct Launch {
        var status: Int32
        var stderr: String
    }

    /// Runs `pier-shim <mode> ...` as pierd does and waits for its first process to exit.
    @discardableResult
    func launchShim(_ arguments: [String]) throws -> Launch {
        let p = Foundation.Process()
        p.executableURL = URL(fileURLWithPath: try BuiltBinary.path("pier-shim"))
        p.arguments = arguments
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Launch(status: p.terminationStatus, stderr: String(decoding: data, as: UTF8.self))
    }

    func writeSpec() throws {
        try spec.encoded().write(to: URL(fileURLWithPath: "\(directory)/bundle/config.json"))
    }

    /// Writes config.json and starts `pier-shim run`; the shim is detached when this returns.
    func startShim(_ extra: [String] = []) throws {
        try writeSpec()
        let launch = try launchShim(["run", "--bundle", "\(directory)/bundle", "--id", id] + extra)
        guard launch.status == 0 else {
            throw ShimTestError("pier-shim run exited \(launch.status): \(launch.stderr)")
        }
    }

    /// Connects as pierd does, through a descriptor of the directory (its path is long).
    func connect(_ name: String) throws -> UnixSocket {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ShimTestError("open \(directory): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return try UnixSocket(connectingTo: "/proc/self/fd/\(fd)/\(name)")
    }

    func exitRecord(_ name: String = "exit") throws -> ExitRecord {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)"))
        return try JSONDecoder().decode(ExitRecord.self, from: data)
    }

    func logEntries(_ name: String? = nil) throws -> [LogEntry] {
        let text = try String(contentsOfFile: "\(directory)/\(name ?? "\(id)-json.log")", encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(LogEntry.self, from: Data($0.utf8)) }
    }

    func fileExists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: "\(directory)/\(name)") }

    /// Runs the container to its end as `docker run` does: connect control.sock, wait for
    /// `ready`, attach, send `start` and `commands`, feed `stdin`, call `afterStart` (with the
    /// pid and the control connection), read all output, then the `exited` event and the
    /// exit file. With `launched`, it drives a shim already started; `prefix` ("exec-<id>.")
    /// names an exec shim's files.
    func run(_ extra: [String] = [], commands: [String] = [], stdin: String? = nil, launched: Bool = false,
             prefix: String = "", afterStart: ((Int32?, UnixSocket) throws -> Void)? = nil) throws -> ContainerRun {
        if !launched && prefix.isEmpty { try startShim(extra) }
        let control = try connect("\(prefix)control.sock")
        var events: [String] = []
        var pid: Int32?
        // Until ready (or an error: a setup failure comes instead of ready).
        while let line = try control.readLine() {
            events.append(line)
            if line.hasPrefix("ready ") { pid = Int32(line.dropFirst(6)); break }
            if line.hasPrefix("exited ") { break }
        }
        let attach = try? connect("\(prefix)attach.sock")
        if pid != nil {
            try control.send("start\n")
            for command in commands { try control.send(command + "\n") }
            if let stdin {
                try attach?.send(stdin)
                attach?.shutdownWrite()
            }
            try afterStart?(pid, control)
        }
        let raw = try attach?.readAll() ?? []
        while events.last?.hasPrefix("exited ") != true, let line = try control.readLine() { events.append(line) }
        // After `exited` the shim closes the connection.
        while let line = try control.readLine() { events.append(line) }
        var stdout: [UInt8] = [], stderr: [UInt8] = []
        if spec.process.terminal == true {
            stdout = raw
        } else {
            for frame in try Frame.decode(raw) {
                if frame.stream == 1 { stdout += frame.payload } else { stderr += frame.payload }
            }
        }
        let exitName = prefix.isEmpty ? "exit" : "\(prefix)exit"
        return ContainerRun(events: events, stdout: String(decoding: stdout, as: UTF8.self),
                            stderr: String(decoding: stderr, as: UTF8.self), exit: try exitRecord(exitName), pid: pid)
    }

    // MARK: cleanup

    private static func children(of pid: pid_t) -> [pid_t] {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8) else {
            return []
        }
        return text.split(separator: " ").compactMap { pid_t($0) }
    }

    private static func isShim(_ pid: pid_t) -> Bool {
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe") else {
            return false
        }
        return exe.hasSuffix("/pier-shim")
    }

    /// Every pier-shim started for this fixture: their command lines name its directory.
    private func shims() -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { pid in
            guard Self.isShim(pid),
                  let cmdline = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return false }
            return String(decoding: cmdline, as: UTF8.self).contains(directory)
        }
    }

    func remove() {
        let shims = shims()
        for shim in shims {
            for child in Self.children(of: shim) { kill(child, SIGKILL) }
            kill(shim, SIGKILL)
        }
        let deadline = ContinuousClock.now + .seconds(10)
        for shim in shims {
            while kill(shim, 0) == 0 && Self.isShim(shim) && ContinuousClock.now < deadline { usleep(20_000) }
        }
        for cgroup in cgroups.reversed() {
            while rmdir(cgroup) != 0 && errno == EBUSY && ContinuousClock.now < deadline { usleep(20_000) }
        }
        try? FileManager.default.removeItem(atPath: base)
    }
}
