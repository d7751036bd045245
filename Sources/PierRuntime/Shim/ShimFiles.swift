import Foundation

/// The files one shim keeps in the container directory (docs/runtime.md, "Per-container
/// directory"): the container's own shim uses `shim.pid`, `control.sock`, `attach.sock`,
/// `exit`; an exec's shim the same names prefixed with `exec-<execID>.`.
public struct ShimFiles: Sendable, Hashable {
    /// `<root>/containers/<id>`.
    public var directory: String
    /// "" for the container, `exec-<execID>.` for an exec.
    public var prefix: String

    public init(directory: String, prefix: String = "") {
        self.directory = directory
        self.prefix = prefix
    }

    /// The files of `pier-shim exec --id <execID>`.
    public static func exec(directory: String, execID: String) -> ShimFiles {
        ShimFiles(directory: directory, prefix: "exec-\(execID).")
    }

    public var bundle: String { joinPath(directory, "bundle") }
    public var pidFileName: String { prefix + "shim.pid" }
    public var controlSocketName: String { prefix + "control.sock" }
    public var attachSocketName: String { prefix + "attach.sock" }
    public var exitFileName: String { prefix + "exit" }
    /// Where pierd sends the shim's own stderr (its start-up errors), so nothing is lost
    /// even after pierd restarts. Not part of the shim's contract; pierd owns it.
    public var stderrFileName: String { prefix + "shim.stderr" }

    public var pidFile: String { joinPath(directory, pidFileName) }
    public var exitFile: String { joinPath(directory, exitFileName) }
    public var stderrFile: String { joinPath(directory, stderrFileName) }

    /// The shim's pid from its pid file; nil while the file does not exist yet. Blocks.
    public func readPid() throws(RuntimeError) -> Int32? {
        guard let text = try PosixFile.readText(pidFile) else { return nil }
        guard let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else {
            throw RuntimeError(.protocolViolation, "\(pidFile) holds \"\(text)\", not a pid")
        }
        return pid
    }

    /// The exit record, or nil while the process has not exited. Blocks.
    public func readExit() throws(RuntimeError) -> ExitRecord? {
        guard let bytes = try PosixFile.read(exitFile) else { return nil }
        do {
            return try JSONDecoder().decode(ExitRecord.self, from: Data(bytes))
        } catch {
            throw RuntimeError(.protocolViolation, "\(exitFile) is not an exit record: \(String(decoding: bytes.prefix(200), as: UTF8.self))",
                               cause: ErrorText(error))
        }
    }
}

/// The `exit` file the shim writes atomically when the process has ended and its output is drained.
public struct ExitRecord: Codable, Sendable, Hashable {
    /// The status, or 128 + signal when a signal killed the process; 125–127 for start failures.
    public var exitCode: Int32
    public var signal: Int32
    public var oomKilled: Bool
    /// RFC 3339 with nanoseconds.
    public var startedAt: String
    public var finishedAt: String
    /// Why the process could not start ("" when it ran).
    public var error: String

    public init(exitCode: Int32, signal: Int32 = 0, oomKilled: Bool = false, startedAt: String = "",
                finishedAt: String = "", error: String = "") {
        self.exitCode = exitCode
        self.signal = signal
        self.oomKilled = oomKilled
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.error = error
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        exitCode = try container.decode(Int32.self, forKey: .exitCode)
        signal = try container.decodeIfPresent(Int32.self, forKey: .signal) ?? 0
        oomKilled = try container.decodeIfPresent(Bool.self, forKey: .oomKilled) ?? false
        startedAt = try container.decodeIfPresent(String.self, forKey: .startedAt) ?? ""
        finishedAt = try container.decodeIfPresent(String.self, forKey: .finishedAt) ?? ""
        error = try container.decodeIfPresent(String.self, forKey: .error) ?? ""
    }
}

/// Checks on shim processes that may have outlived a previous pierd (live restore).
public enum ShimLiveness {
    /// Whether `pid` is a live (not zombie) `pier-shim` for this container or exec `id`: the pid
    /// alone could have been reused by an unrelated process since the pid file was written.
    /// Blocks (reads /proc).
    public static func isAlive(pid: Int32, id: String) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 && errno != EPERM { return false }
        guard let stat = (try? PosixFile.readText("/proc/\(pid)/stat")) ?? nil,
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        if state == "Z" || state == "X" { return false }
        // A process in the middle of execve shows an empty cmdline for a moment.
        var cmdline = [UInt8]()
        for _ in 0..<50 {
            guard let bytes = (try? PosixFile.read("/proc/\(pid)/cmdline")) ?? nil else { return false }
            cmdline = bytes
            if !cmdline.isEmpty { break }
            sleepMilliseconds(1)
        }
        let args = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard let program = args.first, program.hasSuffix("pier-shim") else { return false }
        guard let idIndex = args.firstIndex(of: "--id"), idIndex + 1 < args.count else { return false }
        return args[idIndex + 1] == id
    }

    /// Whether the shim recorded in `files` is running for `id`.
    public static func isAlive(_ files: ShimFiles, id: String) -> Bool {
        guard let pid = (try? files.readPid()) ?? nil else { return false }
        return isAlive(pid: pid, id: id)
    }
}
