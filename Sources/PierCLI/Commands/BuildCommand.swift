import ArgumentParser
import Foundation
import PierAPI
import PierArchive
import PierClient
import PierDockerfile

/// `pier build [OPTIONS] PATH | -`: sends the context to `POST /build` as a tar streamed from
/// the directory (what .dockerignore excludes never leaves this machine) and prints the build.
struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "build", abstract: "Build an image from a Dockerfile")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Name and optionally a tag in the \"name:tag\" format") var tag: [String] = []
    @Option(name: .shortAndLong, help: "Name of the Dockerfile (default: \"PATH/Dockerfile\")") var file: String?
    @Option(name: .customLong("build-arg"), help: "Set build-time variables") var buildArg: [String] = []
    @Option(help: "Set the target build stage to build") var target: String?
    @Flag(name: .customLong("no-cache"), help: "Do not use cache when building the image") var noCache = false
    @Option(help: "Set metadata for an image") var label: [String] = []
    @Flag(name: .shortAndLong, help: "Suppress the build output and print image ID on success") var quiet = false
    @Option(help: "Write the image ID to the file") var iidfile: String?
    @Option(help: "Set type of progress output (auto, plain, tty, quiet)") var progress = "auto"
    @Flag(help: "Always attempt to pull a newer version of the image") var pull = false
    @Option(help: "Networking mode for the RUN instructions (RUN uses the host's network)") var network: String?
    @Flag(help: "Remove intermediate containers after a successful build (always)") var rm = false
    @Option(name: .customLong("add-host"), help: "Add a custom host-to-IP mapping (host:ip)") var addHost: [String] = []
    @Option(help: "Set the platform of the image (only this machine's: Pier does not emulate)") var platform: String?
    @Option(help: "Secret to expose to the build (id=NAME[,src=FILE|,env=VAR][,type=file|env])") var secret: [String] = []
    @Argument(help: "PATH | -") var context: String

    func run() throws {
        let mode = try outputMode()
        let client = try call { try daemon.client() }
        var query: [(String, String)] = tag.map { ("t", $0) }
        if let target { query.append(("target", target)) }
        if let platform { query.append(("platform", platform)) }
        if !addHost.isEmpty { query.append(("extrahosts", addHost.joined(separator: ","))) }
        if noCache { query.append(("nocache", "1")) }
        if pull { query.append(("pull", "1")) }
        if mode == .quiet { query.append(("q", "1")) }
        if !buildArg.isEmpty { query.append(("buildargs", try jsonObject(buildArguments()))) }
        if !label.isEmpty {
            var labels: [String: String] = [:]
            for item in label {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                labels[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
            query.append(("labels", try jsonObject(labels)))
        }

        var headers: [(String, String)] = pull ? try RegistryAuth.configHeader() : []
        if !secret.isEmpty {
            // Read here: the daemon gets the values, never the paths or variable names.
            var values: [String: [UInt8]] = [:]
            for item in secret {
                let source = try SecretSource(parsing: item)
                values[source.id] = try source.read()
            }
            let header = BuildSecrets(values).headerValue
            guard header.utf8.count <= BuildSecrets.maximumHeaderLength else {
                throw CLIError("the secrets are too large to send: \(header.utf8.count / 1024) KiB encoded, at most "
                               + "\(BuildSecrets.maximumHeaderLength / 1024) KiB (about 44 KiB of secret values in all)")
            }
            headers.append((BuildSecrets.headerName, header))
        }

        let response: HTTPResponse
        if GitContextURL(context) != nil {
            // pierd clones the repository itself: nothing to send but its URL.
            query.append(("remote", context))
            query.append(("dockerfile", file ?? "Dockerfile"))
            response = try call { try client.send("POST", "/build", query: query, headers: headers) }
        } else {
            let source = try ContextSource(context: context, dockerfile: file)
            query.append(("dockerfile", source.dockerfileName))
            response = try call {
                try client.send("POST", "/build", query: query, body: .stream(fd: source.fd, contentType: "application/x-tar"),
                                headers: headers)
            }
            source.finish()
            if let failure = source.failure { throw CLIError("error sending the build context: \(failure)") }
        }
        if response.status >= 400 { try call { try response.throwIfError(try response.readAll()) } }
        var printer = BuildPrinter(mode: mode)
        var imageID: String?
        var failure: String?
        try call {
            try response.forEachLine { line in
                guard let message = try? JSONDecoder().decode(ProgressMessage.self, from: Data(line.utf8)) else { return }
                if let error = message.error ?? message.errorDetail?.message {
                    failure = error
                } else if let id = message.aux?.ID {
                    imageID = id
                } else if let stream = message.stream {
                    printer.add(stream)
                }
            }
        }
        printer.finish(failed: failure != nil)
        if let failure { throw CLIError(failure) }
        guard let imageID else { throw CLIError("the daemon ended the build without an image ID") }
        if mode == .quiet { print(imageID) }
        if let iidfile {
            do { try imageID.write(toFile: iidfile, atomically: true, encoding: .utf8) } catch {
                throw CLIError("cannot write \(iidfile): \(error.localizedDescription)")
            }
        }
    }

    func outputMode() throws -> BuildPrinter.Mode {
        if quiet { return .quiet }
        switch progress {
        case "quiet": return .quiet
        case "plain": return .plain
        case "tty": return .tty
        case "auto": return isatty(1) != 0 ? .tty : .plain
        default: throw ValidationError("invalid --progress value \"\(progress)\": use auto, plain, tty or quiet")
        }
    }

    /// `NAME=VALUE`, or `NAME` alone to take the value from this environment (unset stays unset).
    func buildArguments() -> [String: String?] {
        var result: [String: String?] = [:]
        for item in buildArg {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            result[name] = parts.count > 1 ? String(parts[1]) : ProcessInfo.processInfo.environment[name]
        }
        return result
    }

    func jsonObject<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// One `--secret` of `pier build`, as BuildKit's clients take it: `id=NAME,src=FILE` (or
/// `type=file`), `id=NAME,env=VAR` (or `type=env,src=VAR`), or `id=NAME` alone: the variable
/// NAME when it is set, else the file NAME.
struct SecretSource: Equatable {
    enum Origin: Equatable {
        case file(String)
        case environment(String)
        case either(String)
    }

    var id: String
    var origin: Origin

    init(parsing specification: String) throws {
        func failure(_ message: String) -> CLIError { CLIError("invalid --secret \(specification): \(message)") }
        var id: String?
        var type: String?
        var source: String?
        var variable: String?
        for field in specification.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[1].isEmpty else { throw failure("\"\(field)\" is not a key=value pair") }
            let value = String(parts[1])
            switch parts[0].lowercased() {
            case "id": id = value
            case "type": type = value
            case "src", "source": source = value
            case "env": variable = value
            default: throw failure("unexpected key \"\(parts[0])\" (use id, src, env or type)")
            }
        }
        guard let id else { throw failure("id is required (id=NAME)") }
        self.id = id
        if source != nil && variable != nil { throw failure("give one source: src=FILE or env=VAR") }
        switch type {
        case "env": origin = .environment(variable ?? source ?? id)
        case "file":
            guard variable == nil else { throw failure("type=file takes src=FILE, not env=") }
            origin = .file(source ?? id)
        case nil:
            origin = variable.map(Origin.environment) ?? source.map(Origin.file) ?? .either(id)
        case let type?:
            throw failure("unsupported type \"\(type)\" (use file or env)")
        }
    }

    /// The secret's value, read now (the daemon never sees where it came from).
    func read() throws -> [UInt8] {
        let environment = ProcessInfo.processInfo.environment
        switch origin {
        case .environment(let name):
            guard let value = environment[name] else {
                throw CLIError("secret \(id): the environment variable \(name) is not set")
            }
            return Array(value.utf8)
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError("secret \(id): cannot read the file \(path)")
            }
            return [UInt8](data)
        case .either(let name):
            if let value = environment[name] { return Array(value.utf8) }
            if let data = FileManager.default.contents(atPath: name) { return [UInt8](data) }
            throw CLIError("secret \(id): no environment variable \(name) is set and there is no file \(name); "
                           + "give its source with src=FILE or env=VAR")
        }
    }
}

/// The build context as a tar stream on a descriptor: a directory archived on a thread into a
/// pipe (so it is never whole in memory), or stdin when the context is `-`.
final class ContextSource: @unchecked Sendable {
    // `failure` is written by the archiving thread before it closes the pipe and read after `finish`.
    let fd: Int32
    let dockerfileName: String
    var failure: String?
    private var writer: Thread?
    private let done = DispatchSemaphore(value: 0)
    private var threaded = false

    init(context: String, dockerfile: String?) throws {
        if context == "-" {
            guard dockerfile != "-" else { throw CLIError("the Dockerfile cannot come from stdin when the context does") }
            fd = 0
            dockerfileName = dockerfile ?? "Dockerfile"
            return
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: context, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("unable to prepare context: path \"\(context)\" not found")
        }
        let root = URL(fileURLWithPath: context).standardizedFileURL.path
        // A Dockerfile outside the context (or `-f -`) travels in the tar under a name of its own.
        var extra: (name: String, bytes: [UInt8])?
        var name = "Dockerfile"
        if let dockerfile {
            let path = URL(fileURLWithPath: dockerfile).standardizedFileURL.path
            if dockerfile != "-", path.hasPrefix(root + "/") {
                name = String(path.dropFirst(root.count + 1))
            } else {
                let bytes: Data
                if dockerfile == "-" {
                    bytes = FileHandle.standardInput.readDataToEndOfFile()
                } else {
                    guard let contents = FileManager.default.contents(atPath: path) else {
                        throw CLIError("unable to prepare context: the Dockerfile \(dockerfile) cannot be read")
                    }
                    bytes = contents
                }
                name = ".dockerfile.\(UUID().uuidString.prefix(12).lowercased())"
                extra = (name, [UInt8](bytes))
            }
        } else if !FileManager.default.fileExists(atPath: root + "/Dockerfile") {
            throw CLIError("unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat \(root)/Dockerfile: "
                           + "no such file or directory")
        }
        dockerfileName = name
        var ignore: DockerIgnore?
        var ignoreFiles = [root + "/.dockerignore"]
        if let dockerfile, dockerfile != "-" {
            ignoreFiles.insert(URL(fileURLWithPath: dockerfile).standardizedFileURL.path + ".dockerignore", at: 0)
        }
        if let bytes = ignoreFiles.lazy.compactMap({ FileManager.default.contents(atPath: $0) }).first {
            do { ignore = try DockerIgnore(String(decoding: bytes, as: UTF8.self)) } catch {
                throw CLIError("error checking context: \(error.description)")
            }
        }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw CLIError("cannot create a pipe: \(String(cString: strerror(errno)))") }
        fd = fds[0]
        let output = fds[1]
        let keep: Set<String> = [name, ".dockerignore", name + ".dockerignore"]
        threaded = true
        let files = ContextFiles(root: root, ignore: ignore, keep: keep, extra: extra)
        Thread.detachNewThread { [self] in
            do {
                let writer = try TarWriter(to: .fileDescriptor(output), digesting: false)
                try files.write(to: writer)
                try writer.finish()
            } catch {
                failure = "\(error)"
            }
            close(output)
            done.signal()
        }
    }

    /// Waits for the archiving thread.
    func finish() {
        if threaded { done.wait(); close(fd) }
    }
}

/// The files of a context directory that .dockerignore lets through, archived in byte order.
struct ContextFiles: Sendable {
    let root: String
    let ignore: DockerIgnore?
    /// Sent even when .dockerignore names them (the daemon needs them; it drops them from COPY).
    let keep: Set<String>
    let extra: (name: String, bytes: [UInt8])?

    func write(to writer: TarWriter) throws {
        try visit("", writer: writer)
        if let extra { try writer.writeBytes(extra.bytes, as: extra.name) }
    }

    func visit(_ relative: String, writer: TarWriter) throws {
        let directory = relative.isEmpty ? root : root + "/" + relative
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for name in names {
            let path = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(root + "/" + path, &info) == 0 else { continue }
            let isDirectory = info.st_mode & S_IFMT == S_IFDIR
            if let ignore, ignore.isExcluded(path), !keep.contains(path) {
                if isDirectory, ignore.hasExceptions, !ignore.canSkipDirectory(path) { try visit(path, writer: writer) }
                continue
            }
            if info.st_mode & S_IFMT == S_IFSOCK { continue }
            try writer.writeFile(atPath: root + "/" + path, as: isDirectory ? path + "/" : path)
            if isDirectory { try visit(path, writer: writer) }
        }
    }
}

/// Prints a build's stream: as the daemon sends it (plain), step by step with timings (tty),
/// or nothing (quiet).
struct BuildPrinter {
    enum Mode { case plain, tty, quiet }
    let mode: Mode
    var pending = ""
    var current: (text: String, start: Date, cached: Bool)?
    var headerOpen = false

    init(mode: Mode) { self.mode = mode }

    mutating func add(_ text: String) {
        switch mode {
        case .quiet: return
        case .plain:
            FileHandle.standardOutput.write(Data(text.utf8))
        case .tty:
            pending += text
            while let newline = pending.firstIndex(of: "\n") {
                let line = String(pending[..<newline])
                pending = String(pending[pending.index(after: newline)...])
                handle(line)
            }
        }
    }

    private mutating func handle(_ line: String) {
        if line.hasPrefix("Successfully ") {
            closeStep()
            write("\(line)\n")
        } else if line.hasPrefix("Step ") {
            closeStep()
            current = (line, Date(), false)
            // The header stays open: a step without output gets its time on the same line.
            write("\u{1B}[1m=> \(line)\u{1B}[0m")
            headerOpen = true
        } else if line == " ---> Using cache" {
            current?.cached = true
        } else if line.hasPrefix(" ---> ") || line.hasPrefix("Removing intermediate container") {
            return
        } else {
            if headerOpen { write("\n") }
            headerOpen = false
            write("   \(line)\n")
        }
    }

    private mutating func closeStep() {
        guard let step = current else { return }
        let seconds = Date().timeIntervalSince(step.start)
        let status = step.cached ? "CACHED" : String(format: "%.2fs", seconds)
        write(headerOpen ? "  \u{1B}[2m\(status)\u{1B}[0m\n" : "   \u{1B}[2m\(status)\u{1B}[0m\n")
        headerOpen = false
        current = nil
    }

    private func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    mutating func finish(failed: Bool) {
        if mode == .tty {
            if !pending.isEmpty { handle(pending) }
            if !failed { closeStep() } else if headerOpen { write("\n") }
        }
    }
}

/// `pier builder prune`: forgets the build cache; its layers that no image uses are freed.
struct BuilderGroup: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "builder", abstract: "Manage builds",
                                                    subcommands: [Build.self, BuilderPrune.self])
}

struct BuilderPrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove build cache")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Remove all unused build cache, not just dangling ones") var all = false
    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation") var force = false

    struct Report: Decodable {
        var CachesDeleted: [String]?
        var SpaceReclaimed: Int64
    }

    func run() throws {
        if !force, !Prompt.confirm("WARNING! This will remove all dangling build cache.") { return }
        let report = try call { try daemon.client().json(Report.self, "POST", "/build/prune", query: all ? [("all", "1")] : []) }
        if let deleted = report.CachesDeleted, !deleted.isEmpty {
            print("Deleted build cache objects:")
            for id in deleted { print(id) }
            print("")
        }
        print("Total reclaimed space: \(Units.humanSize(report.SpaceReclaimed))")
    }
}
