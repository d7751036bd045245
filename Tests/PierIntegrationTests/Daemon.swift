import Foundation
import Testing

/// A real `pierd` on a temporary socket and root, and helpers to run the real binaries
/// against it. Each test gets its own daemon; `stop()` kills it and removes its files.
final class TestDaemon: @unchecked Sendable {
    let directory: String
    let socket: String
    let root: String
    let pid: pid_t

    static var binaries: URL {
        // The test bundle sits beside the built executables (.build/debug/).
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("pierd").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug")
    }

    static var pier: String { binaries.appendingPathComponent("pier").path }
    static var pierd: String { binaries.appendingPathComponent("pierd").path }

    init() throws {
        // Tests talk to sockets and pipes whose far end may hang up; that must be an error, not SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        directory = NSTemporaryDirectory() + "pier-test-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        socket = directory + "/pier.sock"
        root = directory + "/root"
        pid = try TestDaemon.startDaemon(socket: socket, root: root, log: directory + "/pierd.log")
        try waitUntilReady()
    }

    /// The default bridge of this test's daemon: its own device, so tests never touch a user's `pier0`.
    var bridge: String { TestDaemon.bridge(for: directory) }

    static func bridge(for directory: String) -> String { "pt-" + String(directory.suffix(8)) }

    static func startDaemon(socket: String, root: String, log: String) throws -> pid_t {
        let bridge = TestDaemon.bridge(for: (root as NSString).deletingLastPathComponent)
        guard let pid = spawn(pierd, ["--host", socket, "--data-root", root, "--log-level", "debug", "--bridge", bridge],
                              environment: nil, stdin: "/dev/null", stdout: log, stderr: log) else {
            throw TestFailure("cannot start \(pierd): \(String(cString: strerror(errno)))")
        }
        return pid
    }

    var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    func waitUntilReady() throws {
        for _ in 0..<400 {
            if FileManager.default.fileExists(atPath: socket), pier(["version"]).status == 0 { return }
            guard isRunning else { throw TestFailure("pierd exited: \(log())") }
            usleep(25_000)
        }
        throw TestFailure("pierd did not come up: \(log())")
    }

    func log() -> String {
        (try? String(contentsOfFile: directory + "/pierd.log", encoding: .utf8)) ?? ""
    }

    /// SIGKILL, as a crash would.
    func kill() {
        Foundation.kill(pid, SIGKILL)
        _ = waitForExit(pid)
        // A stale socket would make `pier version` in `restart()` start a pierd of its own.
        unlink(socket)
    }

    /// A new daemon on the same root, after `kill()`.
    func restart() throws -> TestDaemon {
        try TestDaemon(reusing: self)
    }

    private init(reusing other: TestDaemon) throws {
        directory = other.directory
        socket = other.socket
        root = other.root
        pid = try TestDaemon.startDaemon(socket: socket, root: root, log: directory + "/pierd.log")
        try waitUntilReady()
    }

    func stop() {
        if isRunning {
            Foundation.kill(pid, SIGTERM)
            _ = waitForExit(pid)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["PIER_HOST"] = "unix://" + socket
        env["PIER_ROOT"] = root
        env["DOCKER_HOST"] = "unix://" + socket
        env["DOCKER_CONFIG"] = directory + "/docker-config"
        // A pierd that `pier` starts on its own (after a kill) keeps this test's bridge, not the user's pier0.
        env["PIER_BRIDGE"] = bridge
        return env
    }

    /// Runs the real `pier` CLI against this daemon.
    @discardableResult
    func pier(_ arguments: [String], stdin: String? = nil, stdinFile: String? = nil) -> CommandResult {
        run(TestDaemon.pier, arguments, environment: environment, stdin: stdin, stdinFile: stdinFile)
    }

    /// Runs the real docker CLI against this daemon.
    @discardableResult
    func docker(_ arguments: [String], stdinFile: String? = nil) -> CommandResult {
        run("/usr/bin/env", ["docker"] + arguments, environment: environment, stdinFile: stdinFile)
    }

    /// Makes `python:3.11-slim`: bootstrapped (debootstrap + apt, minutes) the first time in a
    /// test run, then loaded from a saved copy (seconds) by every later test daemon.
    func bootstrapPython() throws {
        let cache = "/var/cache/pier-tests/python-3.11-slim.tar"
        if FileManager.default.fileExists(atPath: cache), pier(["load", "-q", "-i", cache]).status == 0 { return }
        let made = pier(["bootstrap", "python:3.11-slim"])
        guard made.status == 0 else { throw TestFailure("bootstrap python:3.11-slim failed: \(made)") }
        try FileManager.default.createDirectory(atPath: "/var/cache/pier-tests", withIntermediateDirectories: true)
        let partial = cache + ".\(getpid()).partial"
        if pier(["save", "-o", partial, "python:3.11-slim"]).status == 0 { rename(partial, cache) } else { unlink(partial) }
    }

    /// Makes `busybox:latest` with `pier bootstrap` (fast: the host's static busybox).
    func bootstrapBusybox() throws {
        let result = pier(["bootstrap", "busybox"])
        guard result.status == 0 else { throw TestFailure("bootstrap busybox failed: \(result)") }
    }
}

struct CommandResult: CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String
    var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a program to completion, capturing its output through files (large output cannot block).
/// posix_spawn and a blocking waitpid, not Foundation's Process: its exit monitoring can stall
/// when many short processes end at once on a loaded machine.
func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil,
         stdin: String? = nil, stdinFile: String? = nil) -> CommandResult {
    let base = NSTemporaryDirectory() + "pier-run-" + UUID().uuidString
    defer {
        for suffix in [".out", ".err", ".in"] { try? FileManager.default.removeItem(atPath: base + suffix) }
    }
    var input = stdinFile ?? "/dev/null"
    if stdinFile == nil, let stdin {
        FileManager.default.createFile(atPath: base + ".in", contents: Data(stdin.utf8))
        input = base + ".in"
    }
    guard let pid = spawn(program, arguments, environment: environment, stdin: input,
                          stdout: base + ".out", stderr: base + ".err") else {
        return CommandResult(status: 127, stdout: "", stderr: "cannot run \(program): \(String(cString: strerror(errno)))")
    }
    let status = waitForExit(pid)
    let out = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
    return CommandResult(status: status, stdout: out, stderr: err)
}

/// Starts a program with its standard streams on files; returns its pid.
func spawn(_ program: String, _ arguments: [String], environment: [String: String]?, stdin: String,
           stdout: String, stderr: String) -> pid_t? {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
    var cArguments = ([program] + arguments).map { strdup($0) } + [nil]
    var cEnvironment = env.map { strdup($0) } + [nil]
    defer {
        cArguments.forEach { free($0) }
        cEnvironment.forEach { free($0) }
    }
    var pid: pid_t = 0
    guard posix_spawn(&pid, program, &actions, nil, &cArguments, &cEnvironment) == 0 else { return nil }
    return pid
}

/// Waits for a child and returns its exit status (128+signal when killed), as a shell reports it.
func waitForExit(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        if errno != EINTR { return -1 }
    }
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
}

/// A peer program the interop tests need; in CI a missing peer fails the test rather than skipping it.
func requirePeer(_ name: String) throws {
    let found = ["/usr/bin/", "/usr/local/bin/", "/usr/sbin/", "/bin/"].contains {
        FileManager.default.isExecutableFile(atPath: $0 + name)
    }
    if !found { throw TestFailure("\(name) is not installed (run .ci/install-deps)") }
}

/// Runs a test body with a fresh daemon that is always stopped afterwards.
func withDaemon(_ body: (TestDaemon) throws -> Void) throws {
    let daemon = try TestDaemon()
    defer { daemon.stop() }
    try body(daemon)
}
