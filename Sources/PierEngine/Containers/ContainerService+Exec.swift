import Foundation
import PierAPI
import PierOCI
import PierRuntime
import PierStore
import Synchronization

/// An exec instance (`docker exec`): created, then started once.
public struct ExecRecord: Sendable {
    public let id: String
    public let containerID: String
    public let request: ExecCreateRequest
    public var running = false
    public var exitCode: Int?
    public var pid: Int32 = 0
    public var started = false
}

extension ContainerService {
    public func createExec(_ reference: String, _ request: ExecCreateRequest) throws(EngineError) -> String {
        let record = try resolve(reference)
        guard record.state.status == .running else {
            throw EngineError(.conflict, "Container \(record.id) is not running")
        }
        guard let command = request.Cmd, !command.isEmpty else {
            throw EngineError(.invalidArgument, "No exec command specified")
        }
        let id = ContainerService.newID()
        execs.withLock { $0[id] = ExecRecord(id: id, containerID: record.id, request: request) }
        return id
    }

    public func exec(_ id: String) throws(EngineError) -> ExecRecord {
        guard let exec = execs.withLock({ $0[id] }) else { throw EngineError(.notFound, "No such exec instance: \(id)") }
        return exec
    }

    /// Launches the exec's process under its own shim and returns once it runs (or failed).
    /// `attach` is called between `ready` and `start`, so the caller sees all output.
    public func startExec(_ id: String, attach: (ShimFiles) throws -> Void) throws(EngineError) {
        var exec = try self.exec(id)
        guard !exec.started else { throw EngineError(.conflict, "exec \(id) has already been started") }
        let container = try resolve(exec.containerID)
        guard container.state.status == .running else {
            throw EngineError(.conflict, "Container \(container.id) is not running")
        }
        exec.started = true
        execs.withLock { $0[id] = exec }
        let directory = store.directory(container.id)
        do {
            let bundleConfig = try Data(contentsOf: URL(fileURLWithPath: directory + "/bundle/config.json"))
            let spec = try JSONDecoder().decode(RuntimeSpec.self, from: bundleConfig)
            var process = spec.process ?? RuntimeSpec.Process()
            process.args = exec.request.Cmd
            process.terminal = exec.request.Tty ?? false
            var env = process.env ?? []
            for item in exec.request.Env ?? [] {
                let key = item.split(separator: "=", maxSplits: 1).first.map(String.init) ?? item
                env.removeAll { $0.hasPrefix(key + "=") }
                env.append(item)
            }
            process.env = env
            if let dir = exec.request.WorkingDir, !dir.isEmpty { process.cwd = dir }
            if let user = exec.request.User, !user.isEmpty {
                let image = try images.resolve(container.imageID.description)
                let layers = [directory + "/upper"] + (try images.store.lowerDirectories(of: image))
                let resolved = try UserLookup.resolve(user, in: LayeredRootfs(layers: layers))
                process.user = RuntimeSpec.User(uid: resolved.uid, gid: resolved.gid, additionalGids: resolved.additionalGids)
            }
            let encoder = JSONEncoder()
            let processFile = directory + "/exec-\(id).process.json"
            try FileSystem.writeAtomically(Array(try encoder.encode(process)), to: processFile, durable: false)
            let shim = try launcher.exec(execID: id, containerPid: container.state.pid, processFile: processFile,
                                         directory: directory)
            let control = try ShimControl.connect(shim.files)
            _ = try control.waitForReady()
            try attach(shim.files)
            switch try control.start() {
            case .started(let pid):
                execs.withLock { $0[id]?.running = true; $0[id]?.pid = pid }
                Thread.detachNewThread { [self] in
                    var code: Int32 = 255
                    while let event = try? control.nextEvent() {
                        if case .exited(let exitCode, _, _) = event { code = exitCode; break }
                    }
                    if code == 255, let record = try? shim.files.readExit() { code = record.exitCode }
                    execs.withLock { $0[id]?.running = false; $0[id]?.exitCode = Int(code) }
                    try? FileManager.default.removeItem(atPath: processFile)
                }
            case .failed(let message, let exitCode):
                execs.withLock { $0[id]?.exitCode = Int(exitCode ?? 126) }
                throw EngineError(.invalidArgument, "OCI runtime exec failed: exec failed: \(message): unknown")
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw ContainerService.engineError(error)
        }
    }

    /// `POST /exec/{id}/resize`: the exec's terminal size, through its shim.
    public func resizeExec(_ id: String, rows: Int, columns: Int) throws(EngineError) {
        let exec = try self.exec(id)
        guard exec.running else { throw EngineError(.conflict, "exec \(id) is not running") }
        let files = ShimFiles.exec(directory: store.directory(exec.containerID), execID: id)
        do {
            try ShimControl.connect(files, timeout: .seconds(2))
                .send(.resize(rows: UInt16(clamping: rows), columns: UInt16(clamping: columns)))
        } catch {
            throw EngineError(.internalError, "cannot resize exec \(id): \(error)")
        }
    }

    public func inspectExec(_ id: String) throws(EngineError) -> ExecInspect {
        let exec = try self.exec(id)
        return ExecInspect(ID: exec.id, Running: exec.running, ExitCode: exec.running ? nil : exec.exitCode,
                           OpenStdin: exec.request.AttachStdin ?? false, ContainerID: exec.containerID, Pid: Int(exec.pid),
                           tty: exec.request.Tty ?? false, command: exec.request.Cmd ?? [], user: exec.request.User ?? "")
    }
}
