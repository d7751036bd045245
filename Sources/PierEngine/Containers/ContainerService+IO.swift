import Foundation
import PierAPI
import PierOCI
import PierRuntime
import PierStore
import Synchronization

/// Attach, logs and exec: the streams of a container.
extension ContainerService {
    // MARK: attach

    /// A connection to the container's stdio. For a container not yet started, waits for
    /// `start` (which in turn waits for such attachers, so no output is lost).
    public func attach(_ reference: String) async throws(EngineError) -> (AttachConnection, ContainerRecord) {
        let record = try resolve(reference)
        let files = ShimFiles(directory: store.directory(record.id))
        if record.state.status == .running || record.state.status == .paused {
            do {
                return (try AttachConnection.connect(files, timeout: .seconds(2)), record)
            } catch {
                throw EngineError(.internalError, "cannot attach to \(record.shortID): \(error.description)")
            }
        }
        pendingAttach.withLock { $0[record.id, default: 0] += 1 }
        defer { attachDone(record.id) }
        let socket = files.directory + "/" + files.attachSocketName
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let now = store.get(record.id), now.state.status == .exited, now.state.finishedAt > record.state.finishedAt {
                throw EngineError(.conflict, "container \(record.shortID) exited before it could be attached")
            }
            if FileManager.default.fileExists(atPath: socket),
               let connection = try? AttachConnection.connect(files, timeout: .milliseconds(100)) {
                return (connection, record)
            }
            await waitForShim(record.id, socket: socket, upTo: .milliseconds(20))
        }
        throw EngineError(.internalError, "container \(record.shortID) was not started within a minute of attaching")
    }

    /// Called by `start` between `ready` and `start`: gives attachers waiting for this container
    /// up to two seconds to connect.
    func waitForPendingAttach(_ id: String) {
        let deadline = Date().addingTimeInterval(2)
        attachConnected.lock()
        defer { attachConnected.unlock() }
        while pendingAttach.withLock({ $0[id] ?? 0 }) > 0, Date() < deadline {
            _ = attachConnected.wait(until: deadline)
        }
    }

    /// An attach request that waited for `start` is done (connected, or gave up): tells `start`.
    func attachDone(_ id: String) {
        attachConnected.lock()
        pendingAttach.withLock { $0[id, default: 1] -= 1 }
        attachConnected.broadcast()
        attachConnected.unlock()
    }

    /// Until the container's shim is up (`shimIsUp`, from `launch`), its attach socket exists, or
    /// `limit` has passed, whichever is first.
    func waitForShim(_ id: String, socket: String, upTo limit: Duration) async {
        let key = shimWaiterKeys.add(1, ordering: .relaxed).newValue
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            shimWaiters.withLock { $0[id, default: [:]][key] = continuation }
            // Whoever takes the continuation out resumes it: the shim, the check below, or the timer.
            if FileManager.default.fileExists(atPath: socket) {
                shimWaiters.withLock { $0[id]?.removeValue(forKey: key) }?.resume()
                return
            }
            Task {
                try? await Task.sleep(for: limit)
                shimWaiters.withLock { $0[id]?.removeValue(forKey: key) }?.resume()
            }
        }
    }

    /// Wakes the attach requests waiting for this container's shim.
    func shimIsUp(_ id: String) {
        let waiting = shimWaiters.withLock { $0.removeValue(forKey: id) ?? [:] }
        for continuation in waiting.values { continuation.resume() }
    }

    /// Whether the container's stdio is a terminal (raw stream) or multiplexed (stdcopy frames).
    public func usesTerminal(_ record: ContainerRecord) -> Bool { record.config.Tty ?? false }

    // MARK: resize

    public func resize(_ reference: String, rows: Int, columns: Int) throws(EngineError) {
        let record = try resolve(reference)
        guard record.state.status == .running else {
            throw EngineError(.conflict, "Container \(record.shortID) is not running")
        }
        try send(record.id, .resize(rows: UInt16(clamping: rows), columns: UInt16(clamping: columns)))
    }

    // MARK: logs

    public func logs(_ reference: String, options: LogReadOptions) throws(EngineError)
        -> (AsyncThrowingStream<[UInt8], any Error>, ContainerRecord) {
        let record = try resolve(reference)
        let log = JSONFileLog(directory: store.directory(record.id), id: record.id)
        let id = record.id
        let stream = log.stream(options, shouldStop: { [store] in
            guard let now = store.get(id) else { return true }
            return now.state.status != .running && now.state.status != .restarting && now.state.status != .paused
        })
        return (stream, record)
    }

    // MARK: list and inspect

    /// `GET /containers/json`'s body, made from each container's kept head. With 1,000
    /// containers this is what `ps -a` waits for.
    public func listJSON(all: Bool, limit: Int?, filters: [String: [String]]) throws(EngineError) -> [UInt8] {
        let entries = try select(all: all, limit: limit, filters: filters)
        var out: [UInt8] = []
        out.reserveCapacity(entries.count * 512 + 2)
        out.append(UInt8(ascii: "["))
        for (index, entry) in entries.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            entry.listedHead.withLock { head in
                if head == nil { head = FastJSON.head(of: summary(entry.record)) }
                out.append(contentsOf: head!)
            }
            // The state alone, not the whole record: copying records was most of this loop. Only
            // a running (or paused) container has ports; the record is read for those alone.
            let state = entry.record.state
            let ports = state.status == .running || state.status == .paused ? portSummaries(entry.record) : []
            FastJSON.tail(ports: ports, sizeRootFs: nil, sizeRw: nil, state: state.status.rawValue,
                          status: ContainerService.statusText(state), into: &out)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// The containers a list shows, newest first. The store's entries are shared: sorting and
    /// filtering a thousand of them moves pointers, not records.
    func select(all: Bool, limit: Int?, filters: [String: [String]]) throws(EngineError) -> [ContainerStore.Entry] {
        var entries = store.entries().sorted { $0.createdOrder > $1.createdOrder }
        func keep(_ test: (ContainerRecord) -> Bool) { entries = entries.filter { test($0.record) } }
        if !all && limit == nil { keep { $0.state.status == .running || $0.state.status == .paused || $0.state.status == .restarting } }
        for (key, values) in filters {
            switch key {
            case "status": keep { values.contains($0.state.status.rawValue) }
            case "name": keep { record in values.contains { record.name.contains($0) } }
            case "id": keep { record in values.contains { record.id.hasPrefix($0) } }
            case "label":
                keep { record in
                    values.allSatisfy { item in
                        let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                        guard let value = record.config.Labels?[parts[0]] else { return false }
                        return parts.count == 1 || value == parts[1]
                    }
                }
            case "health": keep { values.contains($0.state.health?.Status ?? "none") }
            case "exited": keep { $0.state.status == .exited && values.contains(String($0.state.exitCode)) }
            case "ancestor":
                keep { record in
                    values.contains { record.imageName == $0 || (try? images.resolve($0))?.id == record.imageID }
                }
            default:
                throw EngineError(.invalidArgument, "invalid filter '\(key)'")
            }
        }
        if let limit, limit > 0 { entries = Array(entries.prefix(limit)) }
        return entries
    }

    func summary(_ record: ContainerRecord) -> ContainerSummary {
        let command = ([record.path] + record.args).map { $0.contains(" ") ? "\"\($0)\"" : $0 }.joined(separator: " ")
        return ContainerSummary(
            Id: record.id, Names: ["/" + record.name], Image: record.imageName, ImageID: record.imageID.description,
            Command: command, Created: Timestamp.parse(record.created) ?? 0, Labels: record.config.Labels ?? [:],
            State: record.state.status.rawValue, Status: "",  // the clock's: written by each list (FastJSON.tail)
            NetworkMode: record.hostConfig.NetworkMode ?? "default", Mounts: mountPoints(record))
    }

    /// Docker's STATUS column: `Up 3 minutes`, `Exited (0) 2 seconds ago`, `Created`.
    static func statusText(_ state: ContainerRecord.State) -> String {
        let now = Date().timeIntervalSince1970
        switch state.status {
        case .created: return "Created"
        case .running:
            let up = "Up " + humanDuration(now - Double(Timestamp.parse(state.startedAt) ?? Int64(now)))
            switch state.health?.Status {
            case "starting": return up + " (health: starting)"
            case let status?: return up + " (\(status))"
            case nil: return up
            }
        case .paused:
            return "Up " + humanDuration(now - Double(Timestamp.parse(state.startedAt) ?? Int64(now))) + " (Paused)"
        case .restarting:
            return "Restarting (\(state.exitCode)) " + humanDuration(now - Double(Timestamp.parse(state.finishedAt) ?? Int64(now))) + " ago"
        case .exited, .dead:
            return "Exited (\(state.exitCode)) "
                + humanDuration(now - Double(Timestamp.parse(state.finishedAt) ?? Int64(now))) + " ago"
        }
    }

    /// go-units HumanDuration.
    static func humanDuration(_ seconds: Double) -> String {
        let s = Int(seconds)
        if s < 1 { return "Less than a second" }
        if s == 1 { return "1 second" }
        if s < 60 { return "\(s) seconds" }
        let minutes = s / 60
        if minutes == 1 { return "About a minute" }
        if minutes < 60 { return "\(minutes) minutes" }
        let hours = Int((seconds / 3600).rounded())
        if hours == 1 { return "About an hour" }
        if hours < 48 { return "\(hours) hours" }
        if hours < 24 * 7 * 2 { return "\(hours / 24) days" }
        if hours < 24 * 30 * 2 { return "\(hours / 24 / 7) weeks" }
        if hours < 24 * 365 * 2 { return "\(hours / 24 / 30) months" }
        return "\(hours / 24 / 365) years"
    }

    func mountPoints(_ record: ContainerRecord) -> [MountPoint] {
        var points: [MountPoint] = []
        for bind in record.hostConfig.Binds ?? [] where bind.hasPrefix("/") {
            let parts = bind.split(separator: ":").map(String.init)
            guard parts.count >= 2 else { continue }
            let mode = parts.count > 2 ? parts[2] : ""
            points.append(MountPoint(Type: "bind", Source: parts[0], Destination: parts[1], Mode: mode,
                                     RW: !mode.split(separator: ",").contains("ro")))
        }
        for mount in record.hostConfig.Mounts ?? [] where (mount.Type ?? "volume") != "volume" {
            points.append(MountPoint(Type: mount.Type ?? "volume", Source: mount.Source ?? "", Destination: mount.Target ?? "",
                                     Mode: "", RW: !(mount.ReadOnly ?? false)))
        }
        return points + volumeMountPoints(record)
    }

    public func inspect(_ reference: String) throws(EngineError) -> ContainerInspect {
        let record = try resolve(reference)
        let directory = store.directory(record.id)
        let state = ContainerState(
            Status: record.state.status.rawValue, Running: record.state.status == .running || record.state.status == .paused,
            Paused: record.state.status == .paused, Restarting: record.state.status == .restarting,
            OOMKilled: record.state.oomKilled, Dead: record.state.status == .dead, Pid: Int(record.state.pid),
            ExitCode: Int(record.state.exitCode), Error: record.state.error, StartedAt: record.state.startedAt,
            FinishedAt: record.state.finishedAt, Health: record.state.health)
        var lower = ""
        if let image = images.store.index.image(id: record.imageID),
           let dirs = try? images.store.lowerDirectories(of: image) {
            lower = dirs.joined(separator: ":")
        }
        var config = record.config
        config.Image = record.imageName
        return ContainerInspect(
            Id: record.id, Created: record.created, Path: record.path, Args: record.args, State: state,
            Image: record.imageID.description, ResolvConfPath: directory + "/resolv.conf",
            HostnamePath: directory + "/hostname", HostsPath: directory + "/hosts",
            LogPath: directory + "/\(record.id)-json.log", Name: "/" + record.name, RestartCount: record.restartCount,
            HostConfig: record.hostConfig,
            GraphDriver: GraphDriverData(Name: "overlay2", Data: [
                "LowerDir": lower, "UpperDir": directory + "/upper", "WorkDir": directory + "/work",
                "MergedDir": directory + "/bundle/rootfs",
            ]),
            Mounts: mountPoints(record), Config: config,
            NetworkSettings: networkSettings(record))
    }
}
