import ArgumentParser
import Foundation
import PierClient

/// `-H/--host`: which daemon to talk to (default `unix:///run/pier/pier.sock`, or `PIER_HOST`).
struct DaemonOptions: ParsableArguments {
    @Option(name: [.customShort("H"), .long], help: "Daemon socket to connect to (also PIER_HOST).")
    var host: String?

    var socketPath: String { Daemon.socketPath(host: host) }

    func client() throws -> EngineClient { try Daemon.client(host: host) }
}

/// Starting the daemon on demand, so a new user never has to think about it.
enum Daemon {
    static let defaultSocket = "/run/pier/pier.sock"
    /// glibc's POSIX_SPAWN_SETSID (not exported to Swift): the child starts a new session.
    static let spawnSetsid: Int16 = 0x80
    /// pierd's exit status when another daemon already holds the data root.
    static let rootBusyStatus: Int32 = 3

    /// `-H/--host` for commands that parse their own flags (Flags.swift).
    static func hostFlag<Options>(_ set: @escaping (inout Options, String) -> Void) -> FlagTable<Options>.Flag {
        .string("-H, --host", "Daemon socket to connect to (also PIER_HOST).", set)
    }

    /// The socket `-H` names, else `PIER_HOST`, else the default.
    static func socketPath(host: String?) -> String {
        let value = host ?? getenv("PIER_HOST").map { String(cString: $0) } ?? defaultSocket
        return value.hasPrefix("unix://") ? String(value.dropFirst(7)) : value
    }

    /// A client, starting `pierd` first if nothing answers on the socket.
    static func client(host: String?) throws -> EngineClient {
        let client = EngineClient(socketPath: socketPath(host: host))
        try ensureRunning(client)
        return client
    }

    static var dataRoot: String {
        ProcessInfo.processInfo.environment["PIER_ROOT"] ?? "/var/lib/pier"
    }

    static func ensureRunning(_ client: EngineClient) throws {
        do {
            try client.checkReachable()
            return
        } catch let error as ClientError where error.code == .daemonUnavailable {
            try start(socketPath: client.socketPath)
        }
    }

    /// Spawns `pierd` (beside this executable) in its own session, logging to the data root,
    /// and waits until it answers.
    static func start(socketPath: String) throws {
        let executable = URL(fileURLWithPath: CommandLine.executablePath).deletingLastPathComponent()
            .appendingPathComponent("pierd").path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw CLIError("Cannot connect to the Pier daemon at unix://\(socketPath), and there is no pierd beside pier "
                           + "(\(executable)) to start. Start pierd yourself.")
        }
        let root = dataRoot
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let log = root + "/pierd.log"
        FileHandle.standardError.write(Data("Starting pierd (log: \(log))...\n".utf8))
        let arguments = [executable, "--host", socketPath, "--data-root", root]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Daemon.spawnSetsid)
        var cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, &cArguments, environ)
        guard result == 0 else {
            throw CLIError("could not start pierd: \(String(cString: strerror(result)))")
        }
        let client = EngineClient(socketPath: socketPath)
        var running = true
        for _ in 0..<200 {
            if (try? client.send("GET", "/_ping").readAll()) != nil { return }
            var status: Int32 = 0
            if running, waitpid(pid, &status, WNOHANG) == pid {
                // Status 3: another pierd holds the data root and is still starting; wait for it.
                guard status & 0x7f == 0, (status >> 8) & 0xff == rootBusyStatus else {
                    throw CLIError("pierd exited during start-up; see \(log)")
                }
                running = false
            }
            usleep(25_000)
        }
        throw CLIError("pierd did not answer on unix://\(socketPath) within 5 seconds; see \(log)")
    }
}

extension CommandLine {
    /// The real path of this executable.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments[0]
    }
}
