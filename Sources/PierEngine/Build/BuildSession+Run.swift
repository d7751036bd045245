import Crypto
import Foundation
import PierDockerfile
import PierOCI
import PierRuntime
import Synchronization

/// `RUN`: a container of Pier's runtime on the stage's layers, with the stage's USER, WORKDIR
/// and ENV (plus the build arguments), in the host's network namespace so package managers
/// reach their registries. Its overlay upper directory becomes the step's layer.
extension BuildSession {
    func runStep(_ instruction: RunInstruction, line: Int, run: inout StageRun) throws {
        let config = run.config
        let environmentForMounts = run.environment
        let lexer = ShellLexer(escape: escape)
        let mounts: [RunMount]
        do {
            mounts = try instruction.mounts { (word: String) throws(DockerfileError) -> String in
                try lexer.expand(word, environment: environmentForMounts)
            }
        } catch {
            throw stepError(line, error.message)
        }
        let argv: [String]
        switch instruction.command {
        case .exec(let arguments):
            guard !arguments.isEmpty else { throw stepError(line, "RUN needs a command") }
            argv = arguments
        case .shell(let command):
            argv = (config.Shell ?? ["/bin/sh", "-c"]) + [BuildSession.script(command, heredocs: instruction.heredocs)]
        }
        // Build arguments reach the command as variables (ENV wins), and are part of the step's key.
        let envKeys = Set((config.Env ?? []).map { $0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? $0 })
        let arguments = run.arguments.filter { !envKeys.contains($0.key) }.sorted { $0.key < $1.key }
        var createdBy = instruction.command.isExecForm ? BuildSession.jsonArray(argv) : argv.joined(separator: " ")
        if instruction.network == .none { createdBy = "--network=none " + createdBy }
        if !arguments.isEmpty {
            createdBy = "|\(arguments.count) " + arguments.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + " " + createdBy
        }
        // Mounts: a bind's content is part of the step's key (the command reads it); a cache's is not,
        // nor a secret's (only its id and where it goes).
        let prepared = try prepareMounts(mounts, line: line)
        defer { prepared.release() }
        let environment = (config.Env ?? []) + arguments.map { "\($0.key)=\($0.value)" } + prepared.environment
        if !prepared.keys.isEmpty { createdBy = prepared.keys.joined(separator: " ") + " " + createdBy }
        let requests = prepared.requests
        let fileTargets = prepared.fileTargets
        try commitStep(&run, createdBy: createdBy, layer: true) { state in
            let layer = try runContainer(argv, environment: environment, mounts: requests, fileTargets: fileTargets,
                                         isolated: instruction.network == .none, state: state, line: line,
                                         display: instruction.command.isExecForm ? BuildSession.jsonArray(argv) : argv.joined(separator: " "))
            state.layers.append(layer)
            state.config.rootfs.diff_ids.append(layer.diffID)
        }
    }

    /// The host side of `RUN --mount`s, and what each adds to the step's key.
    struct PreparedMounts {
        var requests: [MountRequest] = []
        var keys: [String] = []
        var mountPoints: [String] = []
        /// `NAME=value` of secrets exposed as variables (`env=`).
        var environment: [String] = []
        /// Files bound into the container whose mount points the runtime creates (secrets):
        /// they are left out of the layer.
        var fileTargets: [String] = []

        func release() {
            for mountPoint in mountPoints {
                umount2(mountPoint, Int32(MNT_DETACH))
                rmdir(mountPoint)
            }
        }
    }

    func prepareMounts(_ mounts: [RunMount], line: Int) throws -> PreparedMounts {
        var prepared = PreparedMounts()
        do {
            for mount in mounts {
                switch mount.type {
                case .secret:
                    try prepareSecret(mount, line: line, into: &prepared)
                    continue
                case .ssh:
                    throw stepError(line, "RUN --mount=type=ssh is not supported: Pier's builder does not forward an SSH "
                                    + "agent (use a secret: RUN --mount=type=secret,id=NAME and pier build --secret id=NAME,src=FILE)")
                default:
                    break
                }
                guard let target = mount.target, !target.isEmpty else {
                    throw stepError(line, "RUN --mount of type \(mount.type.rawValue) needs a target")
                }
                switch mount.type {
                case .cache:
                    // One directory per id (the target by default), kept between builds.
                    let id = mount.id ?? target
                    let directory = builder.root + "/mounts/" + Digest.sha256(of: Array(id.utf8)).encoded
                    if !FileManager.default.fileExists(atPath: directory) {
                        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                        chmod(directory, mount.mode ?? 0o755)
                        chown(directory, mount.uid ?? 0, mount.gid ?? 0)
                    }
                    prepared.requests.append(MountRequest(type: .bind, source: directory, target: target, readOnly: mount.readOnly))
                    prepared.keys.append("--mount=type=cache,target=\(target)")
                case .tmpfs:
                    prepared.requests.append(MountRequest(type: .tmpfs, target: target, tmpfsSize: mount.sizeLimit ?? 0))
                    prepared.keys.append("--mount=type=tmpfs,target=\(target)")
                case .bind:
                    var tree = SourceTree(root: contextDirectory, ignore: ignore)
                    if let from = mount.from {
                        let state: BuildState
                        if let index = stageIndex(from), let result = shared.result(index) {
                            state = result
                        } else {
                            state = try imageState(from, line: line, instruction: "RUN --mount from=\(from):").state
                        }
                        tree = try mountTree(state)
                        if let mountPoint = tree.mountPoint { prepared.mountPoints.append(mountPoint) }
                    }
                    let relative = try treeRelative(mount.source ?? "", line: line)
                    let found = exactMatch(relative, in: tree, fromContext: mount.from == nil)
                    guard let match = found.first else {
                        throw stepError(line, "RUN --mount source \"\(mount.source ?? "")\" not found"
                                        + (mount.from.map { " in \($0)" } ?? " in the build context"))
                    }
                    var hasher = SHA256()
                    for entry in try walk(match, tree: tree, excludes: nil) { try hashEntry(entry, into: &hasher) }
                    let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
                    prepared.requests.append(MountRequest(type: .bind, source: match.host, target: target, readOnly: mount.readOnly))
                    prepared.keys.append("--mount=type=bind,target=\(target)\(mount.readOnly ? "" : ",rw"),content=\(digest)")
                case .secret, .ssh:
                    break   // above
                }
            }
        } catch {
            prepared.release()
            throw error
        }
        return prepared
    }

    /// `RUN --mount=type=secret`: the value given with `pier build --secret` goes to a file on a
    /// tmpfs of the build's own (never to disk), bound read-only at the target
    /// (`/run/secrets/<id>` by default), and/or to a variable (`env=`). Only the id, target and
    /// variable name are part of the step's key: a new value does not rerun the step.
    func prepareSecret(_ mount: RunMount, line: Int, into prepared: inout PreparedMounts) throws {
        guard let id = mount.id ?? mount.source ?? mount.target.map({ ($0 as NSString).lastPathComponent }), !id.isEmpty else {
            throw stepError(line, "RUN --mount=type=secret needs an id")
        }
        let target = mount.target ?? (mount.environmentVariable == nil ? "/run/secrets/" + id : nil)
        var key = "--mount=type=secret,id=\(id)"
        if let target { key += ",target=\(target)" }
        if let variable = mount.environmentVariable { key += ",env=\(variable)" }
        prepared.keys.append(key)
        guard let value = options.secrets[id] else {
            if mount.required {
                throw stepError(line, "secret \(id) is required but was not given: "
                                + "pass it with pier build --secret id=\(id),src=FILE (or env=VARIABLE)")
            }
            return   // an optional secret that was not given: neither file nor variable
        }
        if let variable = mount.environmentVariable {
            prepared.environment.append("\(variable)=\(String(decoding: value, as: UTF8.self))")
        }
        guard let target else { return }
        let directory = try makeScratchDirectory("secret")
        guard Glibc.mount("tmpfs", directory, "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), "mode=0700") == 0 else {
            throw EngineError(.internalError, "cannot mount a tmpfs for secret \(id): \(String(cString: strerror(errno)))")
        }
        prepared.mountPoints.append(directory)
        let file = directory + "/secret"
        let fd = open(file, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw EngineError(.internalError, "cannot write secret \(id): \(String(cString: strerror(errno)))")
        }
        defer { Glibc.close(fd) }
        var written = 0
        while written < value.count {
            let n = value[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw EngineError(.internalError, "cannot write secret \(id): \(String(cString: strerror(errno)))") }
            written += n
        }
        guard fchown(fd, mount.uid ?? 0, mount.gid ?? 0) == 0, fchmod(fd, mode_t(mount.mode ?? 0o400)) == 0 else {
            throw EngineError(.internalError, "cannot set the owner and mode of secret \(id): \(String(cString: strerror(errno)))")
        }
        prepared.requests.append(MountRequest(type: .bind, source: file, target: target, readOnly: true))
        prepared.fileTargets.append(target)
    }

    /// A shell-form command with its heredocs: a lone `<<EOF` runs the heredoc as the script;
    /// otherwise the shell reads the heredocs itself.
    static func script(_ command: String, heredocs: [Heredoc]) -> String {
        guard let first = heredocs.first else { return command }
        let trimmed = command.trimmingCharacters(in: .whitespacesAndNewlines)
        if heredocs.count == 1, trimmed.hasPrefix("<<"), !trimmed.contains(" ") {
            return first.effectiveContent
        }
        var script = command
        for heredoc in heredocs {
            script += "\n" + heredoc.content + (heredoc.content.hasSuffix("\n") || heredoc.content.isEmpty ? "" : "\n") + heredoc.name
        }
        return script + "\n"
    }

    /// Runs `argv` in a fresh container on `state`'s layers; returns its changes as a committed layer
    /// (without the mount points the runtime made for the files bound at `fileTargets`).
    func runContainer(_ argv: [String], environment: [String], mounts: [MountRequest] = [], fileTargets: [String] = [],
                      isolated: Bool = false,
                      state: BuildState, line: Int, display: String) throws -> BuildLayer {
        let id = ContainerService.newID()
        let directory = builder.root + "/containers/" + id
        var shimPid: Int32?
        defer {
            // The shim removes its sockets as it exits: the directory goes once it has finished, off
            // the build's path (the layer is committed by then; pierd's start removes leftovers).
            let shim = shimPid
            Thread.detachNewThread {
                if let shim { BuildSession.waitUntilGone(shim) }
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
        for sub in ["bundle/rootfs", "upper", "work"] {
            try FileManager.default.createDirectory(atPath: "\(directory)/\(sub)", withIntermediateDirectories: true)
        }
        try ContainerFiles.write(directory: directory, hostname: String(id.prefix(12)), domainname: nil,
                                 extraHosts: options.extraHosts, dns: [], dnsSearch: [])
        let config = state.config.config ?? ContainerConfig()
        var lowerDirs = state.layers.reversed().map { store.snapshots.filesystemPath($0.chainID) }
        if lowerDirs.isEmpty { lowerDirs = [builder.root + "/empty"] }
        let paths = ContainerPaths(
            bundle: directory + "/bundle", lowerDirs: lowerDirs, upperDir: directory + "/upper",
            workDir: directory + "/work", hostnameFile: directory + "/hostname", hostsFile: directory + "/hosts",
            resolvConfFile: directory + "/resolv.conf", seccompCache: builder.root + "/seccomp")
        var spec = ContainerSpec(id: id, image: config, paths: paths)
        spec.entrypoint = argv
        spec.cmd = []
        spec.env = environment
        spec.workingDir = config.WorkingDir
        spec.user = config.User
        // The host's network (like `--network host`) so package managers reach their registries;
        // `RUN --network=none` gets a namespace of its own with only loopback.
        spec.networkMode = isolated ? .private : .host
        spec.mounts = mounts
        let built: BuiltSpec
        do {
            built = try SpecBuilder(host: builder.containers.host).build(spec)
        } catch {
            throw stepError(line, "RUN: \(error.message)")
        }
        try built.write(toBundle: directory + "/bundle")
        try emit(" ---> Running in \(id.prefix(12))\n")

        let files = ShimFiles(directory: directory)
        shimPid = try builder.containers.launcher.run(id: id, files: files).pid
        let control = try ShimControl.connect(files)
        defer { control.shutdownConnection() }
        _ = try control.waitForReady()
        let attach = try AttachConnection.connect(files)
        let tail = OutputTail()
        let quiet = options.quiet
        let output = self.output
        let reader = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            BuildSession.relay(attach, tail: tail) { text in if !quiet { output(.stream(text)) } }
            attach.close()
            reader.signal()
        }
        var exitCode: Int32 = 0
        switch try control.start() {
        case .failed(let message, let code):
            control.shutdownConnection()
            reader.wait()
            throw EngineError(.invalidArgument, "The command '\(display)' returned a non-zero code: \(code ?? 125): \(message)")
        case .started:
            while let event = try BuildSession.nextEvent(control, cancellation: cancellation) {
                if case .exited(let code, _, _) = event {
                    exitCode = code
                    break
                }
            }
        }
        reader.wait()
        if cancellation.isCancelled { throw EngineError(.internalError, "build cancelled") }
        guard exitCode == 0 else {
            // Docker's words first (scripts match them), then where and why: the step and its last output.
            var message = "The command '\(display)' returned a non-zero code: \(exitCode)"
            message += "\n(Dockerfile:\(line), step \(step)/\(totalSteps))"
            let lines = tail.lines()
            if !lines.isEmpty { message += "; the last lines of its output:\n" + lines.joined(separator: "\n") }
            throw EngineError(.invalidArgument, message)
        }
        try emit("Removing intermediate container \(id.prefix(12))\n")
        let upper = directory + "/upper"
        BuildSession.removeMountPoints(upper: upper, lowerDirs: lowerDirs)
        for target in fileTargets { BuildSession.removeFileMountPoint(target, upper: upper, lowerDirs: lowerDirs) }
        let committed = try builder.transfer.commitLayer(directory: upper, parentChainID: state.layers.last?.chainID,
                                                         overlayUpper: true, token: token,
                                                         sourceDateEpoch: sourceDateEpoch)
        return BuildLayer(descriptor: committed.descriptor, diffID: committed.diffID, chainID: committed.chainID,
                          unpackedSize: committed.unpackedSize)
    }

    /// The empty file the runtime made to bind a file on (a secret), and the directories it made
    /// for it, are not the command's doing: they stay out of the layer.
    static func removeFileMountPoint(_ target: String, upper: String, lowerDirs: [String]) {
        let path = cleanAbsolute(target)
        var info = stat()
        guard LayeredPath.stat(path, in: lowerDirs) == nil, lstat(upper + path, &info) == 0,
              info.st_mode & S_IFMT == S_IFREG, info.st_size == 0 else { return }
        unlink(upper + path)
        var parent = (path as NSString).deletingLastPathComponent
        while parent != "/", LayeredPath.stat(parent, in: lowerDirs) == nil, rmdir(upper + parent) == 0 {
            parent = (parent as NSString).deletingLastPathComponent
        }
    }

    /// Waits (up to 5 s) for a process that is not our child to end (a zombie has ended: whoever
    /// adopted it reaps it in its own time).
    static func waitUntilGone(_ pid: Int32) {
        for _ in 0..<2500 {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return }
            let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
            if state == "Z" || state == "X" { return }
            usleep(2_000)
        }
    }

    /// The shim's next event; while none comes, a cancelled build kills the command.
    static func nextEvent(_ control: ShimControl, cancellation: BuildCancellation) throws -> ShimEvent? {
        while true {
            let result = Result { () throws(RuntimeError) -> ShimEvent? in try control.nextEvent(timeout: .milliseconds(500)) }
            switch result {
            case .success(let event):
                return event
            case .failure(let error):
                guard error.code == .timeout else { throw error }
                if cancellation.isCancelled { try? control.send(.kill(signal: SIGKILL)) }
            }
        }
    }

    /// Copies the container's output (stdcopy frames) to the build output, line by line.
    static func relay(_ attach: AttachConnection, tail: OutputTail, _ send: (String) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        var pending: [UInt8] = []
        while true {
            let n = buffer.withUnsafeMutableBytes { read(attach.fileDescriptor, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            pending.append(contentsOf: buffer[0..<n])
            var payload: [UInt8] = []
            while pending.count >= 8 {
                let length = Int(pending[4]) << 24 | Int(pending[5]) << 16 | Int(pending[6]) << 8 | Int(pending[7])
                guard pending.count >= 8 + length else { break }
                payload.append(contentsOf: pending[8..<(8 + length)])
                pending.removeFirst(8 + length)
            }
            if !payload.isEmpty {
                let text = String(decoding: payload, as: UTF8.self)
                tail.add(text)
                send(text)
            }
        }
    }

    /// Mount points the runtime had to create for /etc/hosts, /etc/resolv.conf, /proc ... in an
    /// image that lacked them are not the command's doing: they stay out of the layer.
    static func removeMountPoints(upper: String, lowerDirs: [String]) {
        let manager = FileManager.default
        for path in ["etc/hosts", "etc/hostname", "etc/resolv.conf"] {
            let full = upper + "/" + path
            guard let attributes = try? manager.attributesOfItem(atPath: full),
                  attributes[.type] as? FileAttributeType == .typeRegular,
                  (attributes[.size] as? NSNumber)?.int64Value == 0,
                  LayeredPath.stat("/" + path, in: lowerDirs) == nil else { continue }
            unlink(full)
        }
        for path in ["dev", "proc", "sys", "etc"] where LayeredPath.stat("/" + path, in: lowerDirs) == nil {
            rmdir(upper + "/" + path)   // only when empty
        }
    }
}

/// The last lines of a RUN's output, for the error of a failed step.
final class OutputTail: Sendable {
    private let text = Mutex("")

    func add(_ chunk: String) {
        text.withLock { value in
            value += chunk
            if value.utf8.count > 8192 { value = String(value.suffix(4096)) }
        }
    }

    func lines(_ count: Int = 10) -> [String] {
        text.withLock { value in value.split(separator: "\n").suffix(count).map(String.init) }
    }
}

/// Looks a path up in overlay layer directories (top first), as the mounted overlay would
/// show it: the topmost layer that has it wins; a whiteout on the way hides it.
enum LayeredPath {
    static func stat(_ path: String, in layers: [String]) -> Glibc.stat? {
        find(path, in: layers)?.info
    }

    /// The entry and the host path it was found at.
    static func find(_ path: String, in layers: [String]) -> (info: Glibc.stat, host: String)? {
        let components = path.split(separator: "/").map(String.init)
        for layer in layers {
            var host = layer
            var hidden = false
            for component in components {
                host += "/" + component
                var info = Glibc.stat()
                guard lstat(host, &info) == 0 else { break }
                if info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0 { hidden = true; break }
            }
            if hidden { return nil }
            var info = Glibc.stat()
            if lstat(host, &info) == 0, host == layer + "/" + components.joined(separator: "/") { return (info, host) }
        }
        return nil
    }

    /// `path` with every symlink among its components followed inside the image (as Docker
    /// resolves a COPY destination: `/bin/` on a merged-/usr image is `/usr/bin/`).
    static func resolve(_ path: String, in layers: [String]) -> String {
        var pending = path.split(separator: "/").map(String.init)
        var resolved: [String] = []
        var links = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component == "." { continue }
            if component == ".." { _ = resolved.popLast(); continue }
            let candidate = "/" + (resolved + [component]).joined(separator: "/")
            if links < 40, let found = find(candidate, in: layers), found.info.st_mode & S_IFMT == S_IFLNK,
               let target = try? FileManager.default.destinationOfSymbolicLink(atPath: found.host) {
                links += 1
                if target.hasPrefix("/") { resolved = [] }
                pending = target.split(separator: "/").map(String.init) + pending
                continue
            }
            resolved.append(component)
        }
        return "/" + resolved.joined(separator: "/")
    }
}
