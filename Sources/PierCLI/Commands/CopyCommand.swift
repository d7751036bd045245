import ArgumentParser
import Foundation
import PierAPI
import PierArchive
import PierClient

/// `pier cp`: files between a container and the host, as tar streams through the Engine API,
/// with docker's rules for names (`dir` vs `dir/.`, existing vs new destinations).
struct Copy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cp", abstract: "Copy files/folders between a container and the local filesystem",
        discussion: "Use '-' as the source to read a tar archive from stdin and extract it to a directory destination in "
            + "a container. Use '-' as the destination to stream a tar archive of a container source to stdout.")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Archive mode (copy all uid/gid information)") var archive = false
    @Flag(name: [.customShort("L"), .customLong("follow-link")], help: "Always follow symbol link in SRC_PATH") var followLink = false
    @Flag(name: .shortAndLong, help: "Suppress progress output during copy") var quiet = false
    @Argument(help: "SRC_PATH (CONTAINER:SRC_PATH to copy from a container)") var source: String
    @Argument(help: "DEST_PATH (CONTAINER:DEST_PATH to copy into a container)") var destination: String

    /// `CONTAINER:PATH` → (container, path); a local path (`./a:b`, `/x:y`) → nil.
    static func split(_ argument: String) -> (String, String)? {
        guard !argument.hasPrefix("/"), !argument.hasPrefix("."), let colon = argument.firstIndex(of: ":") else { return nil }
        let container = String(argument[..<colon])
        guard !container.isEmpty, !container.contains("/") else { return nil }
        return (container, String(argument[argument.index(after: colon)...]))
    }

    func run() throws {
        switch (Copy.split(source), Copy.split(destination)) {
        case (let from?, nil): try copyOut(container: from.0, path: from.1)
        case (nil, let to?): try copyIn(container: to.0, path: to.1)
        case (.some, .some):
            throw CLIError("copying between containers is not supported", exitCode: 1)
        case (nil, nil):
            throw CLIError("must specify at least one container source", exitCode: 1)
        }
    }

    // MARK: container → host

    func copyOut(container: String, path: String) throws {
        let client = try daemon.client()
        let response = try call { try client.send("GET", "/containers/\(container)/archive", query: [("path", path)]) }
        if response.status >= 400 { try call { try response.throwIfError(try response.readAll()) } }
        if destination == "-" {
            var buffer = [UInt8](repeating: 0, count: 256 * 1024)
            while true {
                let count = try buffer.withUnsafeMutableBytes { try response.read(into: $0) }
                if count == 0 { break }
                var offset = 0
                while offset < count {
                    let written = buffer[offset..<count].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
                    guard written > 0 else { throw CLIError("cannot write to stdout: \(String(cString: strerror(errno)))") }
                    offset += written
                }
            }
            return
        }
        let stat = Copy.pathStat(response.headers["x-docker-container-path-stat"])
        let isDirectory = (stat?.mode ?? 0) & (1 << 31) != 0
        let name = path.hasSuffix("/.") ? "." : (stat?.name ?? (path as NSString).lastPathComponent)
        let source = ArchiveSource.pull { buffer in try response.read(into: buffer) }
        var info = Glibc.stat()
        if lstat(destination, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            // Into an existing directory, under the source's own name.
            try Copy.extract(source, into: destination)
            return
        }
        if destination.hasSuffix("/") {
            throw CLIError("Error: destination directory \"\(destination)\" must exist when copying a directory", exitCode: 1)
        }
        // A new name: unpack beside it, then rename into place (and over an existing file).
        let parent = (destination as NSString).deletingLastPathComponent
        let scratch = (parent.isEmpty ? "." : parent) + "/.pier-cp-\(getpid())"
        guard mkdir(scratch, 0o700) == 0 else {
            throw CLIError("cannot copy to \(destination): \(String(cString: strerror(errno)))", exitCode: 1)
        }
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try Copy.extract(source, into: scratch)
        let made = name == "." ? scratch : scratch + "/" + name
        if isDirectory, name == "." { chmod(scratch, mode_t((stat?.mode ?? 0o755) & 0o7777)) }
        if name == "." {
            guard rename(scratch, destination) == 0 else {
                throw CLIError("cannot copy to \(destination): \(String(cString: strerror(errno)))", exitCode: 1)
            }
            return
        }
        guard rename(made, destination) == 0 else {
            throw CLIError("cannot copy to \(destination): \(String(cString: strerror(errno)))", exitCode: 1)
        }
    }

    static func extract(_ source: ArchiveSource, into directory: String) throws {
        do {
            try LayerExtractor.extract(from: source, into: directory, mode: .apply)
        } catch {
            throw CLIError("cannot extract into \(directory): \(error)", exitCode: 1)
        }
    }

    static func pathStat(_ header: String?) -> ContainerPathStat? {
        guard let header, let data = Data(base64Encoded: header) else { return nil }
        return try? JSONDecoder().decode(ContainerPathStat.self, from: data)
    }

    // MARK: host → container

    func copyIn(container: String, path: String) throws {
        let client = try daemon.client()
        if source == "-" {
            let response = try call {
                try client.send("PUT", "/containers/\(container)/archive", query: [("path", path)],
                                body: .stream(fd: 0, contentType: "application/x-tar"))
            }
            try call { try response.throwIfError(try response.readAll()) }
            return
        }
        var info = Glibc.stat()
        guard lstat(source, &info) == 0 else {
            throw CLIError("stat \(source): no such file or directory", exitCode: 1)
        }
        // Where the tar is unpacked, and the name its top entry gets.
        let target: (directory: String, name: String)
        let head = try call { try client.send("HEAD", "/containers/\(container)/archive", query: [("path", path)]) }
        let existing = head.status == 200 ? Copy.pathStat(head.headers["x-docker-container-path-stat"]) : nil
        if head.status != 200 && head.status != 404 { try call { try head.throwIfError(try head.readAll()) } }
        let base = source.hasSuffix("/.") ? "." : (source as NSString).lastPathComponent
        if let existing, existing.mode & (1 << 31) != 0 {
            target = (path, base)
        } else {
            if path.hasSuffix("/") {
                throw CLIError("Error response from daemon: Could not find the file \(path) in container \(container)",
                               exitCode: 1)
            }
            let parent = (path as NSString).deletingLastPathComponent
            target = (parent.isEmpty ? "/" : parent, (path as NSString).lastPathComponent)
        }
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { throw CLIError("pipe: \(String(cString: strerror(errno)))") }
        let (readEnd, writeEnd) = (pipeFDs[0], pipeFDs[1])
        let sourcePath = source.hasSuffix("/.") ? String(source.dropLast(2)) : source
        let producer = TarProducer()
        let thread = Thread {
            defer { close(writeEnd) }
            do {
                try LayerWriter.writeTree(at: sourcePath, as: target.name == "." ? "." : target.name,
                                          to: .fileDescriptor(writeEnd))
            } catch {
                producer.fail(error)
            }
        }
        thread.start()
        defer { close(readEnd) }
        let response = try call {
            try client.send("PUT", "/containers/\(container)/archive", query: [("path", target.directory)],
                            body: .stream(fd: readEnd, contentType: "application/x-tar"))
        }
        if let error = producer.error { throw CLIError("cannot read \(source): \(error)", exitCode: 1) }
        try call { try response.throwIfError(try response.readAll()) }
    }
}

/// The stat header of `/containers/{id}/archive`.
struct ContainerPathStat: Decodable {
    var name: String
    var size: Int64
    var mode: UInt32
    var linkTarget: String?
}

/// The error, if any, of the thread writing a tar into a pipe.
final class TarProducer: @unchecked Sendable {
    private let lock = NSLock()
    private var failure: (any Error)?
    func fail(_ error: any Error) { lock.withLock { failure = error } }
    var error: (any Error)? { lock.withLock { failure } }
}
