import Foundation

/// A shim that is up: its pid and files.
public struct ShimProcess: Sendable, Hashable {
    public var pid: Int32
    public var files: ShimFiles

    public init(pid: Int32, files: ShimFiles) {
        self.pid = pid
        self.files = files
    }
}

/// Starts `pier-shim` with posix_spawn (never fork: pierd is multi-threaded). The shim forks
/// once and its first process exits at once, so the launcher reaps that process itself; the
/// daemon must not reap children it did not start (no `waitpid(-1)` loops).
public struct ShimLauncher: Sendable {
    /// The `pier-shim` executable.
    public var executable: String
    /// How long to wait for the shim's pid file and control socket to appear.
    public var startTimeout: Duration

    public init(executable: String, startTimeout: Duration = .seconds(10)) {
        self.executable = executable
        self.startTimeout = startTimeout
    }

    /// `pier-shim run --bundle <dir>/bundle --id <id> [--log-max-size N] [--log-max-files N]`;
    /// returns once the shim's control socket exists. Blocks up to `startTimeout`.
    public func run(id: String, files: ShimFiles, logMaxSize: Int64? = nil, logMaxFiles: Int? = nil) throws(RuntimeError) -> ShimProcess {
        var args = ["run", "--bundle", files.bundle, "--id", id]
        if let logMaxSize { args += ["--log-max-size", String(logMaxSize)] }
        if let logMaxFiles { args += ["--log-max-files", String(logMaxFiles)] }
        return try launch(args, files: files)
    }

    /// `pier-shim exec --bundle <dir>/bundle --id <execID> --pid <containerPid> --process <process.json>`
    /// (the exec's files are `exec-<execID>.*`). Blocks up to `startTimeout`.
    public func exec(execID: String, containerPid: Int32, processFile: String, directory: String) throws(RuntimeError) -> ShimProcess {
        let files = ShimFiles.exec(directory: directory, execID: execID)
        let args = ["exec", "--bundle", files.bundle, "--id", execID, "--pid", String(containerPid), "--process", processFile]
        return try launch(args, files: files)
    }

    func launch(_ arguments: [String], files: ShimFiles) throws(RuntimeError) -> ShimProcess {
        guard access(executable, X_OK) == 0 else {
            throw RuntimeError(.shim, "cannot run \(executable)", cause: SystemError("access", errno: errno))
        }
        // Stale files from an earlier run would make the wait below return at once.
        for name in [files.pidFileName, files.controlSocketName, files.attachSocketName, files.exitFileName] {
            unlink(joinPath(files.directory, name))
        }
        let pid = try spawn([executable] + arguments, stderrPath: files.stderrFile)
        let status = waitForExit(pid)
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        if exitCode != 0 {
            throw RuntimeError(.shim, "pier-shim \(arguments.first ?? "") failed with exit code \(exitCode): \(stderrText(files))")
        }
        let deadline = monotonicNanoseconds() + UInt64(startTimeout.components.seconds) * 1_000_000_000
            + UInt64(startTimeout.components.attoseconds / 1_000_000_000)
        let socket = joinPath(files.directory, files.controlSocketName)
        while true {
            if let shimPid = try files.readPid() {
                if PosixFile.exists(socket) { return ShimProcess(pid: shimPid, files: files) }
                if kill(shimPid, 0) != 0 && errno == ESRCH {
                    throw RuntimeError(.shim, "pier-shim (pid \(shimPid)) exited before opening its control socket: \(stderrText(files))")
                }
            }
            if monotonicNanoseconds() > deadline {
                throw RuntimeError(.timeout, "pier-shim did not create \(files.pidFileName) and \(files.controlSocketName) in \(files.directory) within \(startTimeout): \(stderrText(files))")
            }
            sleepMilliseconds(5)
        }
    }

    func stderrText(_ files: ShimFiles) -> String {
        let text = (((try? PosixFile.readText(files.stderrFile)) ?? nil) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "(no message; see \(files.stderrFile))" : text
    }

    /// posix_spawn in a new session, stdin/stdout on /dev/null, stderr to a file, every other
    /// descriptor closed, default signal dispositions and an empty signal mask (pierd ignores
    /// SIGPIPE; the shim and the container must not inherit that).
    func spawn(_ argv: [String], stderrPath: String) throws(RuntimeError) -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // POSIX_SPAWN_SETSID is 0x80 in glibc ≥ 2.26; Swift does not import it.
        let setsid: Int32 = 0x80
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | setsid))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if let closeFrom = Self.addCloseFrom?.call { _ = closeFrom(&actions, 3) }

        let cArgs = argv.map { strdup($0) }
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        var cArgv = cArgs + [nil]
        var result: Int32 = 0
        // ETXTBSY: another thread of this process forked while the executable was open for
        // writing (a fresh install or upgrade of pier-shim); it clears once that child execs.
        for attempt in 0..<20 {
            result = cArgv.withUnsafeMutableBufferPointer { buffer -> Int32 in
                guard let base = buffer.baseAddress else { return EINVAL }
                return posix_spawn(&pid, argv[0], &actions, &attributes, base, environ)
            }
            guard result == ETXTBSY else { break }
            sleepMilliseconds(5 * (attempt + 1))
        }
        guard result == 0 else {
            throw RuntimeError(.shim, "cannot start \(argv[0])", cause: SystemError("posix_spawn", errno: result))
        }
        return pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift does not import;
    /// without it the shim inherits pierd's descriptors that lack O_CLOEXEC.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private struct CloseFromCall: @unchecked Sendable {  // a C function pointer, immutable after load
        let call: AddCloseFrom
    }
    private static let addCloseFrom: CloseFromCall? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { CloseFromCall(call: unsafeBitCast($0, to: AddCloseFrom.self)) }

    func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 0 }
        }
        return status
    }
}
