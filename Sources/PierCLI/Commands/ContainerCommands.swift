import ArgumentParser
import Foundation
import PierAPI
import PierClient

/// `pier run [OPTIONS] IMAGE [COMMAND] [ARG...]`
struct Run: FlagCommand {
    static let configuration = CommandConfiguration(commandName: "run",
                                                    abstract: "Create and run a new container from an image")
    static let commandPath = "run"
    static let usage = "[OPTIONS] IMAGE [COMMAND] [ARG...]"
    static let positionals = Positionals.stopAtFirst
    static let table = FlagTable<Options>([
        Daemon.hostFlag { $0.host = $1 },
        .flag("-d, --detach", "Run container in background and print container ID") { $0.detach = $1 },
        .flag("--rm", "Automatically remove the container when it exits") { $0.rm = $1 },
    ] + ContainerOptions.table.lifted(\.container))

    struct Options {
        var host: String?
        var detach = false
        var rm = false
        var container = ContainerOptions()
    }

    @Argument(parsing: .allUnrecognized, help: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
              completion: .list(Run.table.completionWords)) var arguments: [String] = []

    func run() throws {
        let (flags, positionals) = try parse(into: Options(), positionalCount: 1...Int.max)
        let (detach, rm, options) = (flags.detach, flags.rm, flags.container)
        let image = positionals[0]
        let client = try call { try Daemon.client(host: flags.host) }
        let request = try options.request(image: image, command: Array(positionals.dropFirst()), autoRemove: rm,
                                          attach: !detach)
        let id = try Create.create(client, request: request, name: options.name, image: image)
        if detach {
            try runCall { try client.call("POST", "/containers/\(id)/start") }
            print(id)
            return
        }
        let stream = try runCall {
            try client.hijack("POST", "/containers/\(id)/attach",
                              query: [("stream", "1"), ("stdin", options.interactive ? "1" : "0"), ("stdout", "1"), ("stderr", "1")])
        }
        // Ask for the exit before the start, so a fast exit is never missed. pierd answers the
        // head at once and the body at the exit (with --rm, once the container is gone, as docker
        // waits, so its name is free when this returns); the body is read after the output.
        let wait = try runCall {
            try client.send("POST", "/containers/\(id)/wait", query: [("condition", rm ? "removed" : "next-exit")])
        }
        do {
            try client.call("POST", "/containers/\(id)/start")
        } catch let error as ClientError {
            throw Run.startError(error)
        }
        StreamIO.pump(stream, tty: options.tty, forwardStdin: options.interactive, resize: StreamIO.resizer(client, "/containers/\(id)"))
        throw ExitCode(Run.exitCode(from: wait))
    }

    /// The container's exit code from the answer to `wait`; 125 when there is none.
    /// (Read with the CLI's own JSON parser: JSONDecoder's first use in a process costs ~0.2 ms.)
    static func exitCode(from wait: HTTPResponse) -> Int32 {
        guard let bytes = try? (wait.status >= 400 ? wait.readAll() : wait.readFirstLine()), (try? wait.throwIfError(bytes)) != nil,
              let code = (try? JSONValue.parse(bytes))?["StatusCode"]?.intValue, let status = Int32(exactly: code) else {
            return 125
        }
        return status
    }

    /// docker maps a start failure to 126 (cannot execute) or 127 (not found), else 125.
    static func startError(_ error: ClientError) -> CLIError {
        let message = "pier: " + CLIError.daemon(error).message
        if error.message.contains("executable file not found") || error.message.contains("no such file or directory") {
            return CLIError(message, exitCode: 127)
        }
        if error.message.contains("permission denied") { return CLIError(message, exitCode: 126) }
        return CLIError(message, exitCode: 125)
    }
}

/// Runs a client call in `run`/`create`: daemon errors exit 125, as docker's do.
func runCall<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as ClientError {
        throw CLIError("pier: " + CLIError.daemon(error).message + "\nSee 'pier run --help'.", exitCode: 125)
    }
}

/// `pier create [OPTIONS] IMAGE [COMMAND] [ARG...]`
struct Create: FlagCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a new container")
    static let commandPath = "create"
    static let usage = "[OPTIONS] IMAGE [COMMAND] [ARG...]"
    static let positionals = Positionals.stopAtFirst
    static let table = FlagTable<Options>([
        Daemon.hostFlag { $0.host = $1 },
        .flag("--rm", "Automatically remove the container when it exits") { $0.rm = $1 },
    ] + ContainerOptions.table.lifted(\.container))

    struct Options {
        var host: String?
        var rm = false
        var container = ContainerOptions()
    }

    @Argument(parsing: .allUnrecognized, help: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
              completion: .list(Create.table.completionWords)) var arguments: [String] = []

    func run() throws {
        let (flags, positionals) = try parse(into: Options(), positionalCount: 1...Int.max)
        let client = try call { try Daemon.client(host: flags.host) }
        let request = try flags.container.request(image: positionals[0], command: Array(positionals.dropFirst()),
                                                  autoRemove: flags.rm, attach: false)
        print(try Create.create(client, request: request, name: flags.container.name, image: positionals[0]))
    }

    static func create(_ client: EngineClient, request: ContainerCreateRequest, name: String?, image: String) throws -> String {
        var query: [(String, String)] = []
        if let name { query.append(("name", name)) }
        do {
            // Read with the CLI's own parser: Foundation's decoder's first use costs `run` ~0.2 ms.
            let response = try client.send("POST", "/containers/create", query: query, body: EngineClient.jsonBody(request))
            let bytes = try response.readAll()
            try response.throwIfError(bytes)
            guard let id = (try? JSONValue.parse(bytes))?["Id"]?.stringValue else {
                throw CLIError("pier: unexpected answer from the daemon to POST /containers/create", exitCode: 125)
            }
            return id
        } catch let error as ClientError where error.status == 404 && error.message.hasPrefix("No such image") {
            var message = "Unable to find image '\(image)' locally\n"
            let base = image.split(separator: ":").first.map(String.init) ?? image
            if ["busybox", "debian", "python"].contains(base) {
                message += "pier: make it from this machine's packages first: pier bootstrap \(image)"
            } else {
                message += "pier: Error response from daemon: \(error.message)"
            }
            throw CLIError(message + "\nSee 'pier run --help'.", exitCode: 125)
        } catch let error as ClientError {
            throw CLIError("pier: " + CLIError.daemon(error).message + "\nSee 'pier run --help'.", exitCode: 125)
        }
    }
}

/// Commands that act on several containers and print each name as they succeed (`stop`, `rm`, …).
protocol EachContainerCommand {
    var containers: [String] { get }
}

extension EachContainerCommand {
    func forEach(_ action: (String) throws -> Void) throws {
        var failures: [String] = []
        for container in containers {
            do {
                try action(container)
                print(container)
            } catch let error as ClientError {
                failures.append(CLIError.daemon(error).message)
            }
        }
        if !failures.isEmpty { throw CLIError(failures.joined(separator: "\n")) }
    }
}

/// `pier start CONTAINER...`
struct Start: ParsableCommand, EachContainerCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start one or more stopped containers")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Attach STDOUT/STDERR and forward signals") var attach = false
    @Flag(name: .shortAndLong, help: "Attach container's STDIN") var interactive = false
    @Argument(help: "CONTAINER") var containers: [String]

    func run() throws {
        let client = try call { try daemon.client() }
        guard attach || interactive, let id = containers.first else {
            try forEach { try client.call("POST", "/containers/\($0)/start") }
            return
        }
        let info = try call { try client.json(ContainerInspect.self, "GET", "/containers/\(id)/json") }
        let stream = try call {
            try client.hijack("POST", "/containers/\(id)/attach",
                              query: [("stream", "1"), ("stdin", interactive ? "1" : "0"), ("stdout", "1"), ("stderr", "1")])
        }
        try call { try client.call("POST", "/containers/\(id)/start") }
        StreamIO.pump(stream, tty: info.Config.Tty ?? false, forwardStdin: interactive,
                      resize: StreamIO.resizer(client, "/containers/\(id)"))
        let result = try call { try client.json(ContainerWaitResponse.self, "POST", "/containers/\(id)/wait") }
        throw ExitCode(Int32(result.StatusCode))
    }
}

/// `pier stop [-t N] CONTAINER...`
struct Stop: ParsableCommand, EachContainerCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop one or more running containers")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: [.customShort("t"), .customLong("time")], help: "Seconds to wait before killing the container") var time: Int?
    @Argument(help: "CONTAINER") var containers: [String]

    func run() throws {
        let client = try call { try daemon.client() }
        try forEach { try client.call("POST", "/containers/\($0)/stop", query: time.map { [("t", String($0))] } ?? []) }
    }
}

/// `pier restart [-t N] CONTAINER...`
struct Restart: ParsableCommand, EachContainerCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart one or more containers")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: [.customShort("t"), .customLong("time")], help: "Seconds to wait before killing the container") var time: Int?
    @Argument(help: "CONTAINER") var containers: [String]

    func run() throws {
        let client = try call { try daemon.client() }
        try forEach { try client.call("POST", "/containers/\($0)/restart", query: time.map { [("t", String($0))] } ?? []) }
    }
}

/// `pier kill [-s SIGNAL] CONTAINER...`
struct Kill: ParsableCommand, EachContainerCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Kill one or more running containers")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Signal to send to the container") var signal: String = "KILL"
    @Argument(help: "CONTAINER") var containers: [String]

    func run() throws {
        let client = try call { try daemon.client() }
        try forEach { try client.call("POST", "/containers/\($0)/kill", query: [("signal", signal)]) }
    }
}

/// `pier rm [-f] CONTAINER...`
struct Rm: ParsableCommand, EachContainerCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more containers")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Force the removal of a running container (uses SIGKILL)") var force = false
    @Flag(name: .shortAndLong, help: "Remove anonymous volumes associated with the container") var volumes = false
    @Argument(help: "CONTAINER") var containers: [String]

    func run() throws {
        let client = try call { try daemon.client() }
        var query: [(String, String)] = force ? [("force", "1")] : []
        if volumes { query.append(("v", "1")) }
        try forEach { try client.call("DELETE", "/containers/\($0)", query: query) }
    }
}

/// `pier wait CONTAINER...`
struct Wait: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "wait",
                                                    abstract: "Block until one or more containers stop, then print their exit codes")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "CONTAINER") var containers: [String]

    func run() throws {
        let client = try call { try daemon.client() }
        for container in containers {
            let result = try call { try client.json(ContainerWaitResponse.self, "POST", "/containers/\(container)/wait") }
            print(result.StatusCode)
        }
    }
}

/// `pier ps`
struct Ps: ListContainers {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List containers")
    static let commandPath = "ps"
    @Argument(parsing: .allUnrecognized, help: "[OPTIONS]", completion: .list(PsArguments.table.completionWords))
    var arguments: [String] = []
}

/// `pier container ls`
struct ContainerLs: ListContainers {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List containers", aliases: ["list", "ps"])
    static let commandPath = "container ls"
    @Argument(parsing: .allUnrecognized, help: "[OPTIONS]", completion: .list(PsArguments.table.completionWords))
    var arguments: [String] = []
}

/// `ps` and `container ls`: the same flags and the same listing.
protocol ListContainers: FlagCommand where Options == PsArguments {}

extension ListContainers {
    static var usage: String { "[OPTIONS]" }
    static var positionals: Positionals { .interspersed }
    static var table: FlagTable<PsArguments> { PsArguments.table }
    func run() throws { try parse(into: PsArguments(), positionalCount: 0...0).0.run() }
}

struct PsArguments {
    var host: String?
    var all = false
    var quiet = false
    var last: Int?
    var latest = false
    var size = false
    var filter: [String] = []
    var format: String?
    var noTrunc = false

    static let table = FlagTable<PsArguments>([
        Daemon.hostFlag { $0.host = $1 },
        .flag("-a, --all", "Show all containers (default shows just running)") { $0.all = $1 },
        .flag("-q, --quiet", "Only display container IDs") { $0.quiet = $1 },
        .int("-n, --last", "Show n last created containers") { $0.last = $1 },
        .flag("-l, --latest", "Show the latest created container") { $0.latest = $1 },
        .flag("-s, --size", "Display total file sizes") { $0.size = $1 },
        .list("-f, --filter", "Filter output based on conditions provided") { $0.filter.append($1) },
        .string("--format", "Format output using a custom template") { $0.format = $1 },
        .flag("--no-trunc", "Don't truncate output") { $0.noTrunc = $1 },
    ])

    func run() throws {
        var query: [(String, String)] = []
        if all { query.append(("all", "1")) }
        if let limit = latest ? 1 : last { query.append(("limit", String(limit))) }
        let filters = try FilterFlags.parse(filter)
        if !filters.isEmpty { query.append(("filters", FilterFlags.encode(filters))) }
        let containers = try PsArguments.fetch(try call { try Daemon.client(host: host) }, query: query, members: members)
        if quiet {
            for container in containers {
                let id = container["Id"]?.stringValue ?? ""
                print(noTrunc ? id : String(id.prefix(12)))
            }
            return
        }
        if format == nil || format == "table" {
            // The default columns without the template engine, each made only when shown: `ps -a`
            // with 1,000 containers must print in a few milliseconds.
            let columns = ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"]
            var table = TableWriter()
            table.addRow(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"])
            for container in containers { table.addRow(columns.map { field($0, of: container) }) }
            print(table.render(), terminator: "")
            return
        }
        let keys = ["Command", "CreatedAt", "ID", "Image", "Labels", "Mounts", "Names", "Networks", "Ports",
                    "RunningFor", "Size", "State", "Status"]
        let rows: [JSONValue] = containers.map { container in .object(keys.map { ($0, .string(field($0, of: container))) }) }
        let table = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
        try Listing.print(rows: rows, format: format == "table" ? nil : format, defaultTable: table,
                          titles: ["ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "RunningFor": "CREATED",
                                   "Status": "STATUS", "Ports": "PORTS", "Names": "NAMES", "State": "STATE",
                                   "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS", "Size": "SIZE",
                                   "CreatedAt": "CREATED AT"])
    }

    /// One field of a listed container as a template sees it (`{{.Status}}`, …).
    func field(_ key: String, of container: JSONValue) -> String {
        func text(_ key: String) -> String { container[key]?.stringValue ?? "" }
        switch key {
        case "Command":
            let command = text("Command")
            return "\"\(noTrunc ? command : truncate(command, 20))\""
        case "CreatedAt": return Listing.createdAt(container["Created"]?.intValue ?? 0)
        case "ID":
            let id = text("Id")
            return noTrunc ? id : String(id.prefix(12))
        case "Labels":
            return (container["Labels"]?.objectValue ?? []).sorted { $0.0 < $1.0 }
                .map { "\($0.0)=\($0.1.stringValue ?? "")" }.joined(separator: ",")
        case "Mounts":
            return (container["Mounts"]?.arrayValue ?? []).compactMap { $0["Destination"]?.stringValue }.joined(separator: ",")
        case "Names":
            return (container["Names"]?.arrayValue ?? []).compactMap(\.stringValue).map { String($0.dropFirst()) }
                .joined(separator: ",")
        case "Networks": return container["HostConfig"]?["NetworkMode"]?.stringValue ?? ""
        case "Ports":
            guard let ports = container["Ports"]?.arrayValue, !ports.isEmpty else { return "" }
            return PortText.column(ports.map { port in
                PortSummary(IP: port["IP"]?.stringValue, PrivatePort: Int(port["PrivatePort"]?.intValue ?? 0),
                            PublicPort: port["PublicPort"]?.intValue.map { Int($0) }, Type: port["Type"]?.stringValue ?? "tcp")
            })
        case "RunningFor": return Listing.since(container["Created"]?.intValue ?? 0)
        case "Size": return "0B"
        default: return text(key)   // Image, State, Status
        }
    }

    /// The members of each listed container that the output shows: the ID alone for `-q`, the
    /// default columns' sources for the table, all of them for a template.
    var members: [String]? {
        if quiet { return ["Id"] }
        if format == nil || format == "table" { return ["Id", "Image", "Command", "Created", "Status", "Ports", "Names"] }
        return nil
    }

    /// `GET /containers/json`, read with the CLI's own JSON parser (Foundation's decoder is a
    /// large share of `ps -a`'s time with 1,000 containers), building only `members`.
    static func fetch(_ client: EngineClient, query: [(String, String)], members: [String]? = nil) throws -> [JSONValue] {
        let response = try call { try client.send("GET", "/containers/json", query: query) }
        let bytes = try call { try response.readAll() }
        try call { try response.throwIfError(bytes) }
        let parsed = try? members.map { members in try JSONValue.parse(bytes, keepingMembers: members) } ?? JSONValue.parse(bytes)
        guard let parsed, let list = parsed.arrayValue else {
            throw CLIError("unexpected answer from the daemon to GET /containers/json")
        }
        return list
    }
}

/// `pier logs CONTAINER`
struct Logs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Fetch the logs of a container")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Follow log output") var follow = false
    @Option(name: [.customShort("n"), .customLong("tail")], help: "Number of lines to show from the end of the logs") var tail: String = "all"
    @Flag(name: .shortAndLong, help: "Show timestamps") var timestamps = false
    @Option(help: "Show logs since timestamp or relative (e.g. 42m)") var since: String?
    @Option(help: "Show logs before a timestamp or relative (e.g. 42m)") var until: String?
    @Argument(help: "CONTAINER") var container: String

    func run() throws {
        let client = try call { try daemon.client() }
        let info = try call { try client.json(ContainerInspect.self, "GET", "/containers/\(container)/json") }
        var query = [("stdout", "1"), ("stderr", "1"), ("tail", tail)]
        if follow { query.append(("follow", "1")) }
        if timestamps { query.append(("timestamps", "1")) }
        if let since { query.append(("since", Logs.apiTime(since))) }
        if let until { query.append(("until", Logs.apiTime(until))) }
        let response = try call { try client.send("GET", "/containers/\(container)/logs", query: query) }
        if response.status >= 400 { try call { try response.throwIfError(try response.readAll()) } }
        let tty = info.Config.Tty ?? false
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var pending: [UInt8] = []
        while let n = try? buffer.withUnsafeMutableBytes({ try response.read(into: $0) }), n > 0 {
            if tty { StreamIO.writeAll(1, buffer[0..<n]); continue }
            pending.append(contentsOf: buffer[0..<n])
            while pending.count >= 8 {
                let length = Int(pending[4]) << 24 | Int(pending[5]) << 16 | Int(pending[6]) << 8 | Int(pending[7])
                guard pending.count >= 8 + length else { break }
                StreamIO.writeAll(pending[0] == 2 ? 2 : 1, pending[8..<(8 + length)])
                pending.removeFirst(8 + length)
            }
        }
    }

    /// `42m`, `1h` → seconds since the epoch; RFC 3339 and numbers pass through.
    static func apiTime(_ text: String) -> String {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        if let unit = text.last, let factor = units[unit], let value = Double(text.dropLast()) {
            return String(Int64(Date().timeIntervalSince1970 - value * factor))
        }
        return text
    }
}

/// `pier exec CONTAINER COMMAND [ARG...]`
struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "Execute a command in a running container")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Detached mode: run command in the background") var detach = false
    @Flag(name: .shortAndLong, help: "Keep STDIN open even if not attached") var interactive = false
    @Flag(name: .shortAndLong, help: "Allocate a pseudo-TTY") var tty = false
    @Option(name: .shortAndLong, help: "Set environment variables") var env: [String] = []
    @Option(name: .shortAndLong, help: "Username or UID (format: <name|uid>[:<group|gid>])") var user: String?
    @Option(name: .shortAndLong, help: "Working directory inside the container") var workdir: String?
    @Argument(help: "CONTAINER") var container: String
    @Argument(parsing: .captureForPassthrough, help: "COMMAND and ARG...") var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("\"exec\" requires at least 2 arguments.") }
    }

    func run() throws {
        let client = try call { try daemon.client() }
        var request = ExecCreateRequest(Cmd: command)
        request.AttachStdin = interactive
        request.AttachStdout = !detach
        request.AttachStderr = !detach
        request.Tty = tty
        request.Env = env.isEmpty ? nil : env.map(ContainerOptions.expandEnv)
        request.User = user
        request.WorkingDir = workdir
        let id = try call {
            try client.json(IDResponse.self, "POST", "/containers/\(container)/exec", body: EngineClient.jsonBody(request)).Id
        }
        let start = ExecStartRequest(Detach: detach, Tty: tty)
        if detach {
            try call { try client.call("POST", "/exec/\(id)/start", body: EngineClient.jsonBody(start)) }
            return
        }
        let body = (try? JSONEncoder().encode(start)).map { [UInt8]($0) } ?? []
        let stream: HijackedStream
        do { stream = try client.hijack("POST", "/exec/\(id)/start", jsonBody: body) } catch let error as ClientError {
            let message = CLIError.daemon(error).message
            let code: Int32 = error.message.contains("executable file not found") ? 127
                : error.message.contains("permission denied") ? 126 : 126
            throw CLIError(message, exitCode: code)
        }
        StreamIO.pump(stream, tty: tty, forwardStdin: interactive, resize: StreamIO.resizer(client, "/exec/\(id)"))
        for _ in 0..<200 {
            let info = try call { try client.json(ExecInspect.self, "GET", "/exec/\(id)/json") }
            if !info.Running, let code = info.ExitCode { throw ExitCode(Int32(code)) }
            usleep(10_000)
        }
        throw CLIError("the exec's exit code did not arrive")
    }
}

/// `pier container inspect CONTAINER...`
struct ContainerInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect",
                                                    abstract: "Display detailed information on one or more containers")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Format output using a custom template") var format: String?
    @Argument(help: "CONTAINER") var containers: [String]

    func run() throws {
        try ContainerInspectCommand.inspect(try call { try daemon.client() }, names: containers, format: format)
    }

    static func inspect(_ client: EngineClient, names: [String], format: String?) throws {
        var documents: [[UInt8]] = []
        var failures: [String] = []
        for name in names {
            let response = try call { try client.send("GET", "/containers/\(name)/json") }
            let bytes = try call { try response.readAll() }
            if response.status == 404 { failures.append("Error: No such container: \(name)"); continue }
            try call { try response.throwIfError(bytes) }
            documents.append(bytes)
        }
        if !documents.isEmpty || failures.isEmpty { try InspectOutput.print(documents, format: format) }
        if !failures.isEmpty {
            if documents.isEmpty && format == nil { print("[]") }
            throw CLIError(failures.joined(separator: "\n"))
        }
    }
}

struct ContainerGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "container", abstract: "Manage containers",
        subcommands: [ContainerLs.self, Run.self, Create.self, Start.self, Stop.self, Restart.self, Kill.self, Rm.self, Wait.self,
                      Logs.self, Exec.self, ContainerInspectCommand.self, Pause.self, Unpause.self, Rename.self, Top.self,
                      ContainerPrune.self, PortCommand.self])
}

/// `pier pause CONTAINER...`
struct Pause: ParsableCommand, EachContainerCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Pause all processes within one or more containers")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "CONTAINER") var containers: [String]
    func run() throws {
        let client = try call { try daemon.client() }
        try forEach { try client.call("POST", "/containers/\($0)/pause") }
    }
}

/// `pier unpause CONTAINER...`
struct Unpause: ParsableCommand, EachContainerCommand {
    static let configuration = CommandConfiguration(commandName: "unpause",
                                                    abstract: "Unpause all processes within one or more containers")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "CONTAINER") var containers: [String]
    func run() throws {
        let client = try call { try daemon.client() }
        try forEach { try client.call("POST", "/containers/\($0)/unpause") }
    }
}

/// `pier rename CONTAINER NEW_NAME`
struct Rename: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rename", abstract: "Rename a container")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "CONTAINER") var container: String
    @Argument(help: "NEW_NAME") var newName: String
    func run() throws {
        try call { try daemon.client().call("POST", "/containers/\(container)/rename", query: [("name", newName)]) }
    }
}

/// `pier top CONTAINER`
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "top", abstract: "Display the running processes of a container")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "CONTAINER") var container: String
    func run() throws {
        let top = try call { try daemon.client().json(TopResponse.self, "GET", "/containers/\(container)/top") }
        var table = TableWriter()
        table.addRow(top.Titles)
        for process in top.Processes { table.addRow(process) }
        print(table.render(), terminator: "")
    }
}

/// `pier container prune`
struct ContainerPrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove all stopped containers")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation") var force = false
    func run() throws {
        if !force, !Prompt.confirm("WARNING! This will remove all stopped containers.") { return }
        let report = try call { try daemon.client().json(ContainerPruneReport.self, "POST", "/containers/prune") }
        if let deleted = report.ContainersDeleted, !deleted.isEmpty {
            print("Deleted Containers:")
            for id in deleted { print(id) }
            print("")
        }
        print("Total reclaimed space: \(Units.humanSize(report.SpaceReclaimed))")
    }
}

/// `pier attach CONTAINER`: the running container's output (and, unless `--no-stdin`, its input)
/// on this terminal; ends when the container does, with its exit code.
struct Attach: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach", abstract: "Attach local standard input, output, and error streams to a running container")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .customLong("no-stdin"), help: "Do not attach STDIN") var noStdin = false
    @Flag(name: .customLong("sig-proxy"), inversion: .prefixedNo, help: "Proxy all received signals to the process")
    var sigProxy = true
    @Option(name: .customLong("detach-keys"), help: "Override the key sequence for detaching a container") var detachKeys: String?
    @Argument(help: "CONTAINER") var container: String

    func run() throws {
        let client = try call { try daemon.client() }
        let info = try call { try client.json(ContainerInspect.self, "GET", "/containers/\(container)/json") }
        guard info.State.Running else {
            throw CLIError("You cannot attach to a stopped container, start it first", exitCode: 1)
        }
        if info.State.Paused {
            throw CLIError("You cannot attach to a paused container, unpause it first", exitCode: 1)
        }
        let stdin = !noStdin && (info.Config.OpenStdin ?? false)
        var query = [("stream", "1"), ("stdin", stdin ? "1" : "0"), ("stdout", "1"), ("stderr", "1")]
        if let detachKeys { query.append(("detachKeys", detachKeys)) }
        let stream = try call { try client.hijack("POST", "/containers/\(info.Id)/attach", query: query) }
        StreamIO.pump(stream, tty: info.Config.Tty ?? false, forwardStdin: stdin,
                      resize: StreamIO.resizer(client, "/containers/\(info.Id)"))
        let result = try call { try client.json(ContainerWaitResponse.self, "POST", "/containers/\(info.Id)/wait") }
        throw ExitCode(Int32(result.StatusCode))
    }
}
