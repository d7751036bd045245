import Foundation
import Testing

/// A real `pierd` on a temporary socket and root, and helpers to run the real binaries
/// against it. Each test gets its own daemon; `stop()` kills it and removes its files.
final class TestDaemon: @unchecked Sendable {
    let directory: String
    let socket: String
    let root: String
    let process: Process

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
        directory = NSTemporaryDirectory() + "pier-test-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        socket = directory + "/pier.sock"
        root = directory + "/root"
        process = Process()
        process.executableURL = URL(fileURLWithPath: TestDaemon.pierd)
        process.arguments = ["--host", socket, "--data-root", root, "--log-level", "debug"]
        let log = FileHandle(forWritingAtPath: "/dev/null")
        FileManager.default.createFile(atPath: directory + "/pierd.log", contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: directory + "/pierd.log") ?? log
        process.standardError = process.standardOutput
        try process.run()
        try waitUntilReady()
    }

    func waitUntilReady() throws {
        for _ in 0..<400 {
            if FileManager.default.fileExists(atPath: socket), pier(["version"]).status == 0 { return }
            guard process.isRunning else { throw TestFailure("pierd exited: \(log())") }
            usleep(25_000)
        }
        throw TestFailure("pierd did not come up: \(log())")
    }

    func log() -> String {
        (try? String(contentsOfFile: directory + "/pierd.log", encoding: .utf8)) ?? ""
    }

    /// SIGKILL, as a crash would.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// A new daemon on the same root, after `kill()`.
    func restart() throws -> TestDaemon {
        try TestDaemon(reusing: self)
    }

    private init(reusing other: TestDaemon) throws {
        directory = other.directory
        socket = other.socket
        root = other.root
        process = Process()
        process.executableURL = URL(fileURLWithPath: TestDaemon.pierd)
        process.arguments = ["--host", socket, "--data-root", root, "--log-level", "debug"]
        process.standardOutput = FileHandle(forWritingAtPath: directory + "/pierd.log")
        process.standardError = process.standardOutput
        try process.run()
        try waitUntilReady()
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["PIER_HOST"] = "unix://" + socket
        env["PIER_ROOT"] = root
        env["DOCKER_HOST"] = "unix://" + socket
        env["DOCKER_CONFIG"] = directory + "/docker-config"
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

/// Runs a program to completion, capturing its output (through files, so large output cannot block).
func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil,
         stdin: String? = nil, stdinFile: String? = nil) -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let base = NSTemporaryDirectory() + "pier-run-" + UUID().uuidString
    FileManager.default.createFile(atPath: base + ".out", contents: nil)
    FileManager.default.createFile(atPath: base + ".err", contents: nil)
    defer {
        try? FileManager.default.removeItem(atPath: base + ".out")
        try? FileManager.default.removeItem(atPath: base + ".err")
        try? FileManager.default.removeItem(atPath: base + ".in")
    }
    process.standardOutput = FileHandle(forWritingAtPath: base + ".out")
    process.standardError = FileHandle(forWritingAtPath: base + ".err")
    if let stdinFile {
        process.standardInput = FileHandle(forReadingAtPath: stdinFile)
    } else if let stdin {
        FileManager.default.createFile(atPath: base + ".in", contents: Data(stdin.utf8))
        process.standardInput = FileHandle(forReadingAtPath: base + ".in")
    } else {
        process.standardInput = FileHandle.nullDevice
    }
    do { try process.run() } catch {
        return CommandResult(status: 127, stdout: "", stderr: "cannot run \(program): \(error)")
    }
    process.waitUntilExit()
    let out = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
    return CommandResult(status: process.terminationStatus, stdout: out, stderr: err)
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
