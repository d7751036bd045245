import ArgumentParser
import Foundation
import PierAPI
import PierClient
import PierOCI

// Registry commands: pull, push, login, logout, search, and `registry serve|gc` (which exec
// `pier-registry`). Credentials live in Docker's config.json, exactly as Docker keeps them, so
// a login made with either tool serves both.

/// `pier pull [-a] [--platform P] NAME[:TAG|@DIGEST]` / `pier image pull`
struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Download an image from a registry")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: [.short, .customLong("all-tags")], help: "Download all tagged images in the repository") var allTags = false
    @Option(help: "Set platform if server is multi-platform capable") var platform: String?
    @Flag(name: .shortAndLong, help: "Suppress verbose output") var quiet = false
    @Argument(help: "NAME[:TAG|@DIGEST]") var name: String

    func run() throws {
        let reference: ImageReference
        do { reference = try ImageReference(parsingWithoutDefaultTag: name) } catch {
            throw CLIError(error.message)
        }
        if allTags, reference.tag != nil || reference.digest != nil {
            throw CLIError("tag can't be used with --all-tags/-a")
        }
        var query: [(String, String)] = [("fromImage", reference.familiarRepository)]
        if !allTags {
            query.append(("tag", reference.digest?.description ?? reference.tag ?? ImageReference.defaultTag))
        }
        if let platform { query.append(("platform", platform)) }
        let headers = try RegistryAuth.header(for: reference.domain)
        let client = try call { try daemon.client() }
        let response = try call { try client.send("POST", "/images/create", query: query, headers: headers) }
        try TransferDisplay.show(response, quiet: quiet)
        if !allTags {
            let full = ImageReference(domain: reference.domain, path: reference.path,
                                      tag: reference.digest == nil ? reference.tag ?? ImageReference.defaultTag : nil,
                                      digest: reference.digest)
            print(full.description)
        }
    }
}

/// `pier push [-a] NAME[:TAG]` / `pier image push`
struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Upload an image to a registry")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: [.short, .customLong("all-tags")], help: "Push all tags of an image to the repository") var allTags = false
    @Flag(name: .shortAndLong, help: "Suppress verbose output") var quiet = false
    @Argument(help: "NAME[:TAG]") var name: String

    func run() throws {
        let reference: ImageReference
        do { reference = try ImageReference(parsingWithoutDefaultTag: name) } catch {
            throw CLIError(error.message)
        }
        guard reference.digest == nil else { throw CLIError("cannot push a digest reference") }
        if allTags, reference.tag != nil { throw CLIError("tag can't be used with --all-tags/-a") }
        let tag = allTags ? "" : reference.tag ?? ImageReference.defaultTag
        let headers = try RegistryAuth.header(for: reference.domain)
        let client = try call { try daemon.client() }
        let path = "/images/\(reference.familiarRepository)/push"
        let response = try call { try client.send("POST", path, query: [("tag", tag)], headers: headers) }
        try TransferDisplay.show(response, quiet: quiet)
        if quiet { print(reference.familiarRepository + (tag.isEmpty ? "" : ":\(tag)")) }
    }
}

/// `pier login [-u USER] [-p PASS | --password-stdin] [SERVER]`
struct Login: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login", abstract: "Authenticate to a registry (defaults to Docker Hub)")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Username") var username: String?
    @Option(name: .shortAndLong, help: "Password or Personal Access Token (PAT)") var password: String?
    @Flag(name: .customLong("password-stdin"), help: "Take the Password or Personal Access Token (PAT) from stdin")
    var passwordStdin = false
    @Argument(help: "SERVER") var server: String?

    func run() throws {
        let address = RegistryAuth.serverAddress(server)
        var user = username
        var secret = password
        if secret != nil {
            FileHandle.standardError.write(Data("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n".utf8))
            if passwordStdin { throw CLIError("--password and --password-stdin are mutually exclusive") }
        }
        if passwordStdin {
            guard user != nil else { throw CLIError("Must provide --username with --password-stdin") }
            let data = FileHandle.standardInput.readDataToEndOfFile()
            secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: "\r\n"))
        }
        if user == nil || secret == nil {
            guard isatty(0) != 0 else { throw CLIError("Error: Cannot perform an interactive login from a non TTY device") }
            if user == nil {
                FileHandle.standardOutput.write(Data("Username: ".utf8))
                user = readLine()?.trimmingCharacters(in: .whitespaces)
            }
            if secret == nil, let pointer = getpass("Password: ") { secret = String(cString: pointer) }
        }
        guard let user, !user.isEmpty else { throw CLIError("Error: Non-null Username Required") }
        guard let secret, !secret.isEmpty else { throw CLIError("Error: Password Required") }
        let request = AuthRequest(username: user, password: secret, serveraddress: address)
        let client = try call { try daemon.client() }
        let answer = try call { try client.json(AuthAnswer.self, "POST", "/auth", body: EngineClient.jsonBody(request)) }
        var config = try DockerConfig.load()
        try config.store(RegistryAuth.configKey(address), username: user, secret: secret,
                         identityToken: answer.IdentityToken.flatMap { $0.isEmpty ? nil : $0 })
        print(answer.Status ?? "Login Succeeded")
    }
}

/// `pier logout [SERVER]`
struct Logout: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Log out from a registry")
    @Argument(help: "SERVER") var server: String?

    func run() throws {
        let key = RegistryAuth.configKey(RegistryAuth.serverAddress(server))
        var config = try DockerConfig.load()
        if try config.erase(key) {
            print("Removing login credentials for \(key)")
        } else {
            print("Not logged in to \(key)")
        }
    }
}

/// `pier search [--limit N] [-f FILTER] TERM`
struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "Search a registry for images")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Filter output based on conditions provided") var filter: [String] = []
    @Option(help: "Pretty-print search using a Go template") var format: String?
    @Option(help: "Max number of search results") var limit: Int = 25
    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output") var noTrunc = false
    @Argument(help: "TERM") var term: String

    struct Result: Decodable {
        var name: String
        var description: String?
        var star_count: Int?
        var is_official: Bool?
    }

    func run() throws {
        var query: [(String, String)] = [("term", term), ("limit", String(limit))]
        let filters = try FilterFlags.parse(filter)
        if !filters.isEmpty { query.append(("filters", FilterFlags.encode(filters))) }
        var host = "docker.io"
        if let slash = term.firstIndex(of: "/") {
            let first = String(term[..<slash])
            if first.contains(".") || first.contains(":") || first == "localhost" { host = first }
        }
        let headers = try RegistryAuth.header(for: host)
        let client = try call { try daemon.client() }
        let response = try call { try client.send("GET", "/images/search", query: query, headers: headers) }
        let bytes = try call { try response.readAll() }
        try call { try response.throwIfError(bytes) }
        let results: [Result]
        do { results = try JSONDecoder().decode([Result].self, from: Data(bytes)) } catch {
            throw CLIError("unexpected search answer from the daemon: \(error)")
        }
        let rows: [JSONValue] = results.map { result in
            var description = (result.description ?? "").replacingOccurrences(of: "\n", with: " ")
            if !noTrunc, description.count > 45 { description = String(description.prefix(44)) + "…" }
            return .object([("Name", .string(result.name)), ("Description", .string(description)),
                            ("StarCount", .string(String(result.star_count ?? 0))),
                            ("IsOfficial", .string(result.is_official == true ? "[OK]" : ""))])
        }
        if let format {
            try Listing.print(rows: rows, format: format, defaultTable: "")
            return
        }
        var table = TableWriter()
        table.addRow(["NAME", "DESCRIPTION", "STARS", "OFFICIAL"])
        for result in results {
            var description = (result.description ?? "").replacingOccurrences(of: "\n", with: " ")
            if !noTrunc, description.count > 45 { description = String(description.prefix(44)) + "…" }
            table.addRow([result.name, description, String(result.star_count ?? 0), result.is_official == true ? "[OK]" : ""])
        }
        print(table.render(), terminator: "")
    }
}

/// `pier registry serve|gc …`: Pier's own registry, in the `pier-registry` executable beside `pier`
/// (exec'd, so `pier` stays small and quick to start).
struct RegistryGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry", abstract: "Run Pier's own OCI registry",
        subcommands: [RegistryServe.self, RegistryCollect.self])
}

struct RegistryServe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a registry: --addr HOST:PORT --storage DIR [--tls-cert F --tls-key F] [--htpasswd F] "
            + "[--token-issuer NAME] [--anonymous-read]",
        helpNames: [])  // --help goes to pier-registry, which knows the flags
    @Argument(parsing: .allUnrecognized) var arguments: [String] = []

    func run() throws { try RegistryExec.exec(["serve"] + arguments) }
}

struct RegistryCollect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc", abstract: "Remove registry blobs no manifest references: --storage DIR [--dry-run]",
        helpNames: [])
    @Argument(parsing: .allUnrecognized) var arguments: [String] = []

    func run() throws { try RegistryExec.exec(["gc"] + arguments) }
}

enum RegistryExec {
    /// Replaces this process with `pier-registry ARGUMENTS`.
    static func exec(_ arguments: [String]) throws {
        let executable = URL(fileURLWithPath: CommandLine.executablePath).deletingLastPathComponent()
            .appendingPathComponent("pier-registry").path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw CLIError("pier-registry is not installed beside pier (\(executable))")
        }
        var cArguments = ([executable] + arguments).map { strdup($0) } + [nil]
        execv(executable, &cArguments)
        let reason = String(cString: strerror(errno))
        cArguments.forEach { free($0) }
        throw CLIError("cannot run \(executable): \(reason)")
    }
}

// MARK: - credentials

struct AuthRequest: Encodable {
    var username: String
    var password: String
    var serveraddress: String
}

struct AuthAnswer: Decodable {
    var Status: String?
    var IdentityToken: String?
}

/// The `X-Registry-Auth` header and the names Docker files credentials under.
enum RegistryAuth {
    static let dockerHubKey = "https://index.docker.io/v1/"

    /// What `login` was given, or Docker Hub.
    static func serverAddress(_ server: String?) -> String {
        guard let server, !server.isEmpty else { return dockerHubKey }
        return server
    }

    /// The key config.json uses: Docker Hub's legacy URL, otherwise the bare host.
    static func configKey(_ address: String) -> String {
        let host = hostName(address)
        return isDockerHub(host) ? dockerHubKey : host
    }

    static func hostName(_ address: String) -> String {
        var text = Substring(address)
        if let scheme = text.range(of: "://") { text = text[scheme.upperBound...] }
        if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        return String(text)
    }

    static func isDockerHub(_ host: String) -> Bool {
        ["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"].contains(host)
    }

    /// The header carrying the stored credentials for `domain`, if there are any.
    static func header(for domain: String) throws -> [(String, String)] {
        let config = try DockerConfig.load()
        guard let object = try login(configKey(domain), in: config) else { return [] }
        return [("X-Registry-Auth", base64URL(object))]
    }

    /// `X-Registry-Config` for `build --pull`: every login in config.json (`auths` and
    /// `credHelpers`), by its config key, as the docker CLI sends them with a build.
    static func configHeader() throws -> [(String, String)] {
        let config = try DockerConfig.load()
        var keys = Set((config.document["auths"] as? [String: Any] ?? [:]).keys.map(configKey))
        keys.formUnion((config.document["credHelpers"] as? [String: String] ?? [:]).keys.map(configKey))
        var logins: [String: [String: String]] = [:]
        for key in keys { logins[key] = try login(key, in: config) }
        return logins.isEmpty ? [] : [("X-Registry-Config", base64URL(logins))]
    }

    /// One login as the Engine API carries it.
    private static func login(_ key: String, in config: DockerConfig) throws -> [String: String]? {
        guard let entry = try config.credentials(for: key) else { return nil }
        var object: [String: String] = ["serveraddress": key]
        if let token = entry.identityToken {
            object["identitytoken"] = token
        } else {
            object["username"] = entry.username
            object["password"] = entry.secret
        }
        return object
    }

    private static func base64URL<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return json.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }
}

/// Docker's client configuration (`$DOCKER_CONFIG/config.json`, default `~/.docker/config.json`):
/// `auths` (base64 `user:password`, or an `identitytoken`), `credsStore` and `credHelpers`
/// (`docker-credential-NAME get|store|erase`). Keys Pier does not know are kept as they are.
struct DockerConfig {
    struct Entry {
        var username: String
        var secret: String
        var identityToken: String?
    }

    let path: String
    var document: [String: Any]

    static var directory: String {
        if let value = ProcessInfo.processInfo.environment["DOCKER_CONFIG"], !value.isEmpty { return value }
        return NSHomeDirectory() + "/.docker"
    }

    static func load() throws -> DockerConfig {
        let path = directory + "/config.json"
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else {
            return DockerConfig(path: path, document: [:])
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CLIError("\(path) is not valid JSON; fix or remove it")
        }
        return DockerConfig(path: path, document: object)
    }

    /// The helper that holds `key`'s credentials, if one does.
    func helper(for key: String) -> String? {
        if let helpers = document["credHelpers"] as? [String: String] {
            if let name = helpers[key] ?? helpers[RegistryAuth.hostName(key)] { return name }
        }
        return document["credsStore"] as? String
    }

    func credentials(for key: String) throws -> Entry? {
        if let helper = helper(for: key) {
            let output = try DockerConfig.runHelper(helper, "get", input: key, allowFailure: true)
            guard let output, let answer = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
                  let user = answer["Username"] as? String, let secret = answer["Secret"] as? String else { return nil }
            return user == "<token>" ? Entry(username: "", secret: "", identityToken: secret) : Entry(username: user, secret: secret)
        }
        let auths = document["auths"] as? [String: Any] ?? [:]
        let match = auths.first { RegistryAuth.configKey($0.key) == key }
        guard let entry = match?.value as? [String: Any] else { return nil }
        if let token = entry["identitytoken"] as? String, !token.isEmpty {
            return Entry(username: "", secret: "", identityToken: token)
        }
        if let auth = entry["auth"] as? String, let data = Data(base64Encoded: auth),
           let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":") {
            return Entry(username: String(text[..<colon]), secret: String(text[text.index(after: colon)...]))
        }
        if let user = entry["username"] as? String, let password = entry["password"] as? String {
            return Entry(username: user, secret: password)
        }
        return nil
    }

    mutating func store(_ key: String, username: String, secret: String, identityToken: String?) throws {
        if let helper = helper(for: key) {
            let payload: [String: String] = ["ServerURL": key, "Username": identityToken == nil ? username : "<token>",
                                             "Secret": identityToken ?? secret]
            let data = try JSONSerialization.data(withJSONObject: payload)
            _ = try DockerConfig.runHelper(helper, "store", input: String(decoding: data, as: UTF8.self), allowFailure: false)
            return
        }
        var auths = document["auths"] as? [String: Any] ?? [:]
        for existing in auths.keys where RegistryAuth.configKey(existing) == key && existing != key {
            auths.removeValue(forKey: existing)
        }
        var entry: [String: Any] = [:]
        if let identityToken {
            entry["auth"] = Data("\(username):".utf8).base64EncodedString()
            entry["identitytoken"] = identityToken
        } else {
            entry["auth"] = Data("\(username):\(secret)".utf8).base64EncodedString()
        }
        auths[key] = entry
        document["auths"] = auths
        try save()
    }

    /// Forgets `key`'s credentials; false if there were none.
    mutating func erase(_ key: String) throws -> Bool {
        if let helper = helper(for: key) {
            return try DockerConfig.runHelper(helper, "erase", input: key, allowFailure: true) != nil
        }
        var auths = document["auths"] as? [String: Any] ?? [:]
        let matching = auths.keys.filter { RegistryAuth.configKey($0) == key }
        guard !matching.isEmpty else { return false }
        for name in matching { auths.removeValue(forKey: name) }
        document["auths"] = auths
        try save()
        return true
    }

    /// Writes the file through a temporary file and a rename, readable only by its owner.
    func save() throws {
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        let temp = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temp, contents: data, attributes: [.posixPermissions: 0o600]),
              rename(temp, path) == 0 else {
            unlink(temp)
            throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Runs `docker-credential-NAME ACTION` with `input` on stdin; nil when it fails and that is allowed.
    static func runHelper(_ name: String, _ action: String, input: String, allowFailure: Bool) throws -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["docker-credential-\(name)", action]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do { try process.run() } catch {
            throw CLIError("cannot run the credential helper docker-credential-\(name): \(error)")
        }
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try? stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            if allowFailure { return nil }
            let text = String(decoding: output + errors, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw CLIError("error storing credentials - err: docker-credential-\(name) \(action): \(text)")
        }
        return String(decoding: output, as: UTF8.self)
    }
}

// MARK: - progress

/// Shows a pull or push progress stream the way the docker CLI does (moby `jsonmessage`): on a
/// terminal one line per layer, redrawn in place with its progress bar; otherwise only status
/// changes, without bars. An error line ends it with that error.
enum TransferDisplay {
    static func show(_ response: HTTPResponse, quiet: Bool) throws {
        if response.status >= 400 {
            try call { try response.throwIfError(try response.readAll()) }
        }
        let terminal = !quiet && isatty(1) != 0
        var lines: [String: Int] = [:]
        var failure: String?
        try call {
            try response.forEachLine { line in
                guard let message = try? JSONDecoder().decode(ProgressMessage.self, from: Data(line.utf8)) else { return }
                if let error = message.error ?? message.errorDetail?.message {
                    failure = error
                    return
                }
                if quiet { return }
                guard let status = message.status, !status.isEmpty else { return }
                let hasProgress = message.progressDetail != nil
                let bar = message.progress ?? ""
                if !terminal {
                    if !bar.isEmpty { return }   // docker prints no bars off a terminal
                    print(message.id.map { "\($0): \(status)" } ?? status)
                    return
                }
                guard let id = message.id, hasProgress else {
                    lines.removeAll()
                    print(message.id.map { "\($0): \(status)" } ?? status)
                    return
                }
                var index = lines[id]
                if index == nil {
                    index = lines.count
                    lines[id] = lines.count
                    FileHandle.standardOutput.write(Data("\n".utf8))
                }
                let up = lines.count - (index ?? 0)
                let text = "\u{1B}[\(up)A\u{1B}[2K\r\(id): \(status)\(bar.isEmpty ? "" : " " + bar)\r\u{1B}[\(up)B"
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
        if let failure { throw CLIError(failure) }
    }
}
