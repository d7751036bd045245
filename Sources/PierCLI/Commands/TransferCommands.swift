import ArgumentParser
import Foundation
import PierAPI
import PierClient

/// `pier save [-o FILE] IMAGE...`
struct Save: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save", abstract: "Save one or more images to a tar archive (streamed to STDOUT by default)")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Write to a file, instead of STDOUT") var output: String?
    @Argument(help: "IMAGE") var images: [String]

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("\"save\" requires at least 1 argument.") }
    }

    func run() throws {
        if output == nil, isatty(1) != 0 {
            throw CLIError("Cowardly refusing to save to a terminal. Use the -o flag or redirect")
        }
        let client = try call { try daemon.client() }
        let response = try call { try client.send("GET", "/images/get", query: images.map { ("names", $0) }) }
        if response.status >= 400 {
            try call { try response.throwIfError(try response.readAll()) }
        }
        // Write to a temp file beside the target and rename, so an interrupted save leaves no half
        // archive. No fsync (as `docker save`, `tar`, `cp`): the archive is a copy of images that stay
        // in the store, so a power cut that takes it loses nothing a second `save` cannot remake, and
        // waiting for the disk was a quarter of the command's time (~6 ms for busybox).
        var fd: Int32 = 1
        var temp: String?
        if let output {
            let path = output + ".pier-partial-\(getpid())"
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw CLIError("failed to save image: unable to create \(output): \(String(cString: strerror(errno)))") }
            temp = path
        }
        do {
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = try call { try buffer.withUnsafeMutableBytes { try response.read(into: $0) } }
                if n == 0 { break }
                try buffer.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < n {
                        let written = write(fd, raw.baseAddress! + offset, n - offset)
                        if written < 0 {
                            if errno == EINTR { continue }
                            throw CLIError("failed to save image: \(String(cString: strerror(errno)))")
                        }
                        offset += written
                    }
                }
            }
            if let temp, let output {
                guard rename(temp, output) == 0 else {
                    throw CLIError("failed to save image: cannot write \(output): \(String(cString: strerror(errno)))")
                }
                close(fd)
            }
        } catch {
            if let temp { close(fd); unlink(temp) }
            throw error
        }
    }
}

/// `pier load [-i FILE]`
struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load",
                                                    abstract: "Load an image from a tar archive or STDIN")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Read from tar archive file, instead of STDIN") var input: String?
    @Flag(name: .shortAndLong, help: "Suppress the load output") var quiet = false

    func run() throws {
        var fd: Int32 = 0
        if let input {
            fd = open(input, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw CLIError("open \(input): \(String(cString: strerror(errno)))") }
        } else if isatty(0) != 0 {
            throw CLIError("requested load from stdin, but stdin is empty")
        }
        defer { if fd != 0 { close(fd) } }
        let client = try call { try daemon.client() }
        let query = quiet ? [("quiet", "1")] : []
        let response = try call {
            try client.send("POST", "/images/load", query: query, body: .stream(fd: fd, contentType: "application/x-tar"))
        }
        try ProgressStream.print(response)
    }
}

/// `pier import FILE|- [REPOSITORY[:TAG]]`
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import the contents from a tarball to create a filesystem image")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Apply Dockerfile instruction to the created image") var change: [String] = []
    @Option(name: .shortAndLong, help: "Set commit message for imported image") var message: String?
    @Argument(help: "file|-") var file: String
    @Argument(help: "REPOSITORY[:TAG]") var reference: String?

    func run() throws {
        var fd: Int32 = 0
        if file != "-" {
            fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw CLIError("open \(file): \(String(cString: strerror(errno)))") }
        }
        defer { if fd != 0 { close(fd) } }
        var query: [(String, String)] = [("fromSrc", "-")]
        if let reference { query.append(("repo", reference)) }
        if let message { query.append(("message", message)) }
        for item in change { query.append(("changes", item)) }
        let client = try call { try daemon.client() }
        let response = try call {
            try client.send("POST", "/images/create", query: query, body: .stream(fd: fd, contentType: "application/x-tar"))
        }
        try ProgressStream.print(response)
    }
}

/// JSON progress streams (`load`, `import`, `bootstrap`): print what a user should see, fail on an error line.
enum ProgressStream {
    static func print(_ response: HTTPResponse) throws {
        if response.status >= 400 {
            try call { try response.throwIfError(try response.readAll()) }
        }
        var failure: String?
        try call {
            try response.forEachLine { line in
                guard let message = try? JSONDecoder().decode(ProgressMessage.self, from: Data(line.utf8)) else { return }
                if let error = message.error ?? message.errorDetail?.message {
                    failure = error
                } else if let stream = message.stream {
                    Swift.print(stream, terminator: "")
                } else if let status = message.status {
                    Swift.print(message.id.map { "\($0): \(status)" } ?? status)
                }
            }
        }
        if let failure { throw CLIError(failure) }
    }
}

/// `pier bootstrap NAME`: make a base image from this machine's packages.
struct Bootstrap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bootstrap",
        abstract: "Make a base image (busybox, debian:bookworm-slim, python:3.11-slim) from this machine's packages")
    @OptionGroup var daemon: DaemonOptions
    @Flag(help: "List the images bootstrap can make") var list = false
    @Flag(help: "Make the image again even if it exists") var force = false
    @Argument(help: "NAME[:TAG]") var name: String?

    func run() throws {
        let client = try call { try daemon.client() }
        if list {
            let recipes = try call { try client.json([BootstrapRecipe].self, "GET", "/pier/bootstrap") }
            var table = TableWriter()
            table.addRow(["NAME", "PRESENT", "MADE FROM"])
            for recipe in recipes { table.addRow([recipe.name, recipe.present ? "yes" : "no", recipe.source]) }
            Swift.print(table.render(), terminator: "")
            return
        }
        guard let name else { throw ValidationError("\"bootstrap\" requires an image name, or --list.") }
        var query = [("name", name)]
        if force { query.append(("force", "1")) }
        let response = try call { try client.send("POST", "/pier/bootstrap", query: query) }
        try ProgressStream.print(response)
    }
}
