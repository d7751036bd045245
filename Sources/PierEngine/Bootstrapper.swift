import Foundation
import Logging
import PierAPI
import PierOCI
import PierStore

/// `pier bootstrap`: base images made from this machine's own packages, for a world without
/// Docker Hub. Each image says how it was made in the `org.pier.bootstrap.*` labels.
public final class Bootstrapper: Sendable {
    let transfer: ImageTransfer
    let scratch: String
    let logger: Logger

    init(transfer: ImageTransfer, scratch: String, logger: Logger) {
        self.transfer = transfer
        self.scratch = scratch
        self.logger = logger
    }

    /// A base image Pier knows how to make.
    struct Recipe: Sendable {
        let name: String
        let source: String
        let aliases: [String]
    }

    static let recipes: [Recipe] = [
        Recipe(name: "busybox:latest", source: "the host's busybox-static (/bin/busybox)", aliases: ["busybox"]),
        Recipe(name: "debian:bookworm-slim", source: "debootstrap --variant=minbase from the host's apt source",
               aliases: ["debian:bookworm", "debian"]),
        Recipe(name: "python:3.11-slim", source: "debian:bookworm-slim + apt python3, pip, venv",
               aliases: ["python:3.11", "python"]),
    ]

    public func list() -> [BootstrapRecipe] {
        Bootstrapper.recipes.map { recipe in
            BootstrapRecipe(name: recipe.name, present: transfer.store.index.resolve(recipe.name) != nil,
                            source: recipe.source)
        }
    }

    /// How to get a missing base image that `pier bootstrap` can make, or nil.
    public static func hint(for name: String) -> String? {
        recipe(named: name).map { "make it from this machine's packages first: pier bootstrap \($0.name)" }
    }

    static func recipe(named name: String) -> Recipe? {
        let wanted = (try? ImageReference(parsing: name))?.familiarDescription ?? name
        return recipes.first { $0.name == wanted || $0.aliases.contains(name) }
    }

    /// Makes the image unless it exists (or `force`); reports progress lines through `progress`.
    public func bootstrap(_ name: String, force: Bool, progress: @escaping @Sendable (String) -> Void) throws(EngineError) -> String {
        guard let recipe = Bootstrapper.recipe(named: name) else {
            let known = Bootstrapper.recipes.map(\.name).joined(separator: ", ")
            throw EngineError(.invalidArgument, "pier bootstrap cannot make \"\(name)\": it can make \(known)")
        }
        if !force, let existing = transfer.store.index.resolve(recipe.name) {
            progress("\(recipe.name) already exists (\(existing.id.shortID)); use --force to make it again")
            return existing.id.description
        }
        let work = scratch + "/bootstrap-\(UUID().uuidString)"
        let token = UUID()
        defer {
            transfer.store.pins.release(token)
            try? FileManager.default.removeItem(atPath: work)
        }
        do {
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            let record: ImageRecord
            switch recipe.name {
            case "busybox:latest": record = try makeBusybox(work: work, token: token, progress: progress)
            case "debian:bookworm-slim": record = try makeDebian(work: work, token: token, progress: progress)
            default: record = try makePython(work: work, token: token, progress: progress)
            }
            progress("Made \(recipe.name) (\(record.id.shortID))")
            return record.id.description
        } catch {
            throw ImageTransfer.engineError(error, context: "bootstrapping \(recipe.name)")
        }
    }

    // MARK: busybox

    func makeBusybox(work: String, token: UUID, progress: @Sendable (String) -> Void) throws -> ImageRecord {
        let busybox = ["/bin/busybox", "/usr/bin/busybox"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let busybox, Bootstrapper.isStatic(busybox) else {
            throw EngineError(.notFound, "busybox-static is not installed: run `apt-get install busybox-static`")
        }
        progress("Making busybox from \(busybox)")
        let root = work + "/rootfs"
        let files = FileManager.default
        for dir in ["bin", "sbin", "usr/bin", "usr/sbin", "etc", "root", "tmp", "var", "home", "dev", "proc", "sys"] {
            try files.createDirectory(atPath: "\(root)/\(dir)", withIntermediateDirectories: true)
        }
        chmod(root + "/tmp", 0o1777)
        chmod(root + "/root", 0o700)
        try files.copyItem(atPath: busybox, toPath: root + "/bin/busybox")
        chmod(root + "/bin/busybox", 0o755)
        let applets = try Bootstrapper.output(busybox, ["--list-full"])
        for applet in applets.split(separator: "\n") where !applet.isEmpty && applet != "bin/busybox" {
            let path = "\(root)/\(applet)"
            try? files.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if !files.fileExists(atPath: path) { try files.createSymbolicLink(atPath: path, withDestinationPath: "/bin/busybox") }
        }
        try "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
            .write(toFile: root + "/etc/passwd", atomically: false, encoding: .utf8)
        try "root:x:0:\nnobody:x:65534:\n".write(toFile: root + "/etc/group", atomically: false, encoding: .utf8)
        let version = (try? Bootstrapper.output("dpkg-query", ["-W", "-f=${Version}", "busybox-static"])) ?? "unknown"
        let layer = try transfer.commitLayer(directory: root, parentChainID: nil, overlayUpper: false, token: token)
        var config = ContainerConfig()
        config.Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        config.Cmd = ["sh"]
        config.Labels = labels(source: "busybox-static \(version) from the host's \(busybox)")
        let now = Timestamp.now()
        let image = ImageConfig(created: now, config: config, rootfs: RootFS(diffIDs: [layer.diffID]), history: [
            History(created: now, createdBy: "pier bootstrap busybox: /bin/busybox from busybox-static \(version)"),
            History(created: now, createdBy: "CMD [\"sh\"]", emptyLayer: true),
        ])
        return try transfer.commitImage(config: image, layers: [layer], names: [try ImageReference(parsing: "busybox:latest")],
                                        token: token)
    }

    func labels(source: String) -> [String: String] {
        ["org.pier.bootstrap": "true", "org.pier.bootstrap.source": source,
         "org.pier.bootstrap.host": ProcessInfo.processInfo.hostName]
    }

    // MARK: helpers

    static func isStatic(_ path: String) -> Bool {
        guard let text = try? output("file", ["-L", path]) else {
            // Without file(1), trust the Debian package: busybox-static ships a static binary.
            return true
        }
        return text.contains("statically linked") || text.contains("static-pie")
    }

    /// Runs a host program and returns its standard output; fails with its standard error.
    @discardableResult
    static func output(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program.hasPrefix("/") ? program : "/usr/bin/env")
        process.arguments = program.hasPrefix("/") ? arguments : [program] + arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let tail = String(decoding: errData, as: UTF8.self).split(separator: "\n").suffix(10).joined(separator: "\n")
            throw EngineError(.internalError, "\(program) \(arguments.joined(separator: " ")) failed "
                              + "(exit \(process.terminationStatus)):\n\(tail)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
