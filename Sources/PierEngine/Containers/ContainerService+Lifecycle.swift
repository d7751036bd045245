import Foundation
import Logging
import PierAPI
import PierOCI
import PierRuntime
import PierStore

extension ContainerService {
    // MARK: start

    /// Starts a created or exited container. Blocks (spawns the shim, waits for the process).
    public func start(_ reference: String) throws(EngineError) {
        let record = try resolve(reference)
        if record.state.status == .running || record.state.status == .paused { throw EngineError(.notModified, "") }
        do {
            try launch(record)
        } catch let error as EngineError {
            throw error
        } catch {
            throw ContainerService.engineError(error)
        }
    }

    func launch(_ original: ContainerRecord) throws {
        var record = original
        let directory = store.directory(record.id)
        let image = try images.store.index.image(id: record.imageID).map { $0 }
            ?? { throw EngineError(.notFound, "No such image: \(record.imageName)") }()
        let lowerDirs = try images.store.lowerDirectories(of: image)
        var cgroup: CgroupManager?
        let files = ShimFiles(directory: directory)
        let shim: ShimProcess
        var phases = StartPhases()
        let networking: ContainerNetworking?
        do {
            cgroup = try makeCgroup(record.id)
            phases.mark("cgroup")
            let allocationStart = ContinuousClock.now
            networking = try allocateNetworking(record)
            logger.debug("network allocated", metadata: ["id": "\(record.shortID)", "took": "\(ContinuousClock.now - allocationStart)"])
        } catch {
            try? cgroup?.remove()
            if record.hostConfig.AutoRemove == true { forget(record) }
            throw error
        }
        do {
            let spec = try containerSpec(record, lowerDirs: lowerDirs, cgroup: cgroup)
            let built = try SpecBuilder(host: host).build(spec)
            phases.mark("spec")
            if let cgroup, let resources = built.spec.linux?.resources { try cgroup.apply(resources) }
            phases.mark("limits")
            try built.write(toBundle: directory + "/bundle")
            phases.mark("bundle")
            let logOptions = record.hostConfig.LogConfig?.Config ?? [:]
            shim = try launcher.run(id: record.id, files: files,
                                    logMaxSize: logOptions["max-size"].flatMap(ContainerService.parseSize),
                                    logMaxFiles: logOptions["max-file"].flatMap { Int($0) })
            shimIsUp(record.id)
            phases.mark("shim")
        } catch {
            // Nothing of a container that could not start stays behind; `--rm` removes the container too.
            try? cgroup?.remove()
            networks.release(containerID: record.id)
            if record.hostConfig.AutoRemove == true { forget(record) }
            throw error
        }
        let control: ShimControl
        let outcome: StartOutcome
        do {
            control = try ShimControl.connect(files)
            do {
                let pid = try control.waitForReady()
                phases.mark("ready")
                if networking != nil {
                    let plumbStart = ContinuousClock.now
                    defer { logger.debug("network plumbed", metadata: ["id": "\(record.shortID)", "took": "\(ContinuousClock.now - plumbStart)"]) }
                    do { try networks.plumb(containerID: record.id, pid: pid) } catch {
                        try? control.send(.kill(signal: SIGKILL))
                        throw error
                    }
                    phases.mark("network")
                }
                // A `run` that attached before `start` must see all the output: let those clients connect first.
                waitForPendingAttach(record.id)
                outcome = try control.start()
                phases.mark("exec")
            } catch let error as RuntimeError where error.code == .shim {
                // Setup failed before the process could start (the shim reports it, then `exited`).
                let exit = try? files.readExit()
                outcome = .failed(message: error.message.replacingOccurrences(of: "the container could not be set up: ", with: ""),
                                  exitCode: exit?.exitCode ?? ContainerService.exitCode(for: error.message))
            }
        } catch {
            try? cgroup?.remove()
            networks.release(containerID: record.id)
            if record.hostConfig.AutoRemove == true { forget(record) }
            throw error
        }
        switch outcome {
        case .started(let pid):
            record.state = ContainerRecord.State(status: .running, pid: pid, shimPid: shim.pid, startedAt: Timestamp.now())
            try store.save(record, durable: false)
            controls.withLock { $0[record.id] = control }
            monitor(record.id, control: control, cgroup: cgroup)
            logger.info("started container", metadata: ["id": "\(record.shortID)", "pid": "\(pid)"])
            logger.debug("start phases", metadata: ["id": "\(record.shortID)", "ms": "\(phases.summary)"])
            emit(record, "start")
            watchHealth(record.id)
        case .failed(let message, let exitCode):
            let code = exitCode ?? 125
            // Docker leaves a container whose process never started as "created", with the code.
            record.state.status = .created
            record.state.exitCode = code
            record.state.error = message
            record.state.finishedAt = Timestamp.now()
            try store.save(record, durable: false)
            try? cgroup?.remove()
            networks.release(containerID: record.id)
            notifyExit(record)
            if record.hostConfig.AutoRemove == true { forget(record) }
            throw EngineError(code == 125 ? .internalError : .invalidArgument,
                              "failed to create task for container: failed to create shim task: OCI runtime create failed: "
                              + "unable to start container process: \(message): unknown")
        }
    }

    func containerSpec(_ record: ContainerRecord, lowerDirs: [String], cgroup: CgroupManager?) throws -> ContainerSpec {
        let directory = store.directory(record.id)
        let imageConfig = try images.store.config(of: try images.resolve(record.imageID.description)).config ?? ContainerConfig()
        let paths = ContainerPaths(
            bundle: directory + "/bundle", lowerDirs: lowerDirs, upperDir: directory + "/upper",
            workDir: directory + "/work", hostnameFile: directory + "/hostname", hostsFile: directory + "/hosts",
            resolvConfFile: directory + "/resolv.conf", cgroupProcsFiles: cgroup?.procsFiles ?? [],
            cgroupsPath: cgroup?.relativePath, initBinary: initBinary, seccompCache: seccompCache)
        var spec = ContainerSpec(id: record.id, image: imageConfig, paths: paths)
        let config = record.config
        let host = record.hostConfig
        spec.cmd = config.Cmd
        spec.entrypoint = config.Entrypoint
        spec.env = config.Env ?? []
        spec.workingDir = config.WorkingDir
        spec.user = config.User
        spec.hostname = config.Hostname
        spec.domainname = config.Domainname
        spec.tty = config.Tty ?? false
        spec.openStdin = config.OpenStdin ?? false
        spec.stdinOnce = config.StdinOnce ?? false
        spec.stopSignal = config.StopSignal
        spec.readOnlyRootfs = host.ReadonlyRootfs ?? false
        spec.privileged = host.Privileged ?? false
        spec.capAdd = host.CapAdd ?? []
        spec.capDrop = host.CapDrop ?? []
        spec.securityOpt = host.SecurityOpt ?? []
        spec.ulimits = (host.Ulimits ?? []).map { Ulimit(name: $0.Name, soft: $0.Soft, hard: $0.Hard) }
        spec.tmpfs = host.Tmpfs ?? [:]
        spec.binds = try volumeBinds(record, lowerDirs: lowerDirs)
        spec.mounts = try (host.Mounts ?? []).filter { ($0.Type ?? "volume") != "volume" }.map(ContainerService.mountRequest)
        spec.initProcess = host.Init ?? false
        spec.groupAdd = host.GroupAdd ?? []
        spec.sysctls = host.Sysctls ?? [:]
        spec.oomScoreAdj = host.OomScoreAdj ?? 0
        if let size = host.ConsoleSize, size.count == 2, size[0] > 0 {
            spec.consoleSize = RuntimeSpec.Box(height: UInt(size[0]), width: UInt(size[1]))
        }
        spec.resources = Resources(
            memory: host.Memory ?? 0, memorySwap: host.MemorySwap ?? 0, memoryReservation: host.MemoryReservation ?? 0,
            nanoCPUs: host.NanoCpus ?? 0, cpuShares: host.CpuShares ?? 0, cpuPeriod: host.CpuPeriod ?? 0,
            cpuQuota: host.CpuQuota ?? 0, pidsLimit: host.PidsLimit, shmSize: host.ShmSize ?? Resources.defaultShmSize)
        switch host.NetworkMode ?? "default" {
        case "host": spec.networkMode = .host
        case let mode where mode.hasPrefix("container:"):
            let other = try resolve(String(mode.dropFirst(10)))
            guard other.state.status == .running else {
                throw EngineError(.conflict, "cannot join network of a non running container: \(other.shortID)")
            }
            spec.networkMode = .path("/proc/\(other.state.pid)/ns/net")
        default: spec.networkMode = .private
        }
        if host.PidMode == "host" { spec.pidMode = .host }
        if host.IpcMode == "host" { spec.ipcMode = .host }
        if host.UTSMode == "host" { spec.utsMode = .host }
        return spec
    }

    /// The code Docker gives a process that could not start, from the runtime's message.
    static func exitCode(for message: String) -> Int32 {
        if message.contains("executable file not found") || message.contains("no such file or directory") { return 127 }
        if message.contains("permission denied") || message.contains("not executable") { return 126 }
        return 125
    }

    static func mountRequest(_ mount: MountSpec) throws -> MountRequest {
        guard let target = mount.Target, !target.isEmpty else {
            throw EngineError(.invalidArgument, "invalid mount config: Target must not be empty")
        }
        switch mount.Type ?? "volume" {
        case "bind":
            guard let source = mount.Source, !source.isEmpty else {
                throw EngineError(.invalidArgument, "invalid mount config for type \"bind\": field Source must not be empty")
            }
            guard FileManager.default.fileExists(atPath: source) else {
                throw EngineError(.invalidArgument, "invalid mount config for type \"bind\": bind source path does not exist: \(source)")
            }
            return MountRequest(type: .bind, source: source, target: target, readOnly: mount.ReadOnly ?? false)
        case "tmpfs":
            var request = MountRequest(type: .tmpfs, target: target, readOnly: mount.ReadOnly ?? false)
            request.tmpfsSize = mount.TmpfsOptions?.SizeBytes ?? 0
            request.tmpfsMode = mount.TmpfsOptions?.Mode ?? 0
            return request
        case let other:
            throw EngineError(.invalidArgument, "mount type \"\(other)\" is not supported yet (use bind or tmpfs)")
        }
    }

    static func parseSize(_ text: String) -> Int64? {
        let lower = text.lowercased()
        let units: [(String, Int64)] = [("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10), ("b", 1)]
        for (suffix, factor) in units where lower.hasSuffix(suffix) {
            return Int64(lower.dropLast()).map { $0 * factor }
        }
        return Int64(lower)
    }

    // MARK: monitoring

    /// Watches the shim's control socket on its own thread until the process exits.
    func monitor(_ id: String, control: ShimControl, cgroup: CgroupManager?) {
        Thread.detachNewThread { [self] in
            var exit: (Int32, Bool)?
            while true {
                guard let event = try? control.nextEvent() else { break }
                if case .exited(let code, _, let oom) = event {
                    exit = (code, oom)
                    break
                }
            }
            finish(id, observed: exit, cgroup: cgroup)
        }
    }

    /// Records how a container ended (from the event, else the shim's exit file), frees its
    /// cgroup, wakes waiters, and applies `--rm` and the restart policy.
    func finish(_ id: String, observed: (Int32, Bool)?, cgroup: CgroupManager?) {
        controls.withLock { _ = $0.removeValue(forKey: id) }
        guard let current = store.get(id) else { return }
        let files = ShimFiles(directory: store.directory(id))
        let exitRecord = try? files.readExit()
        let oom = (observed?.1 ?? false) || (exitRecord?.oomKilled ?? false) || (cgroup?.oomKilled() ?? false)
        let exited = { (record: inout ContainerRecord) in
            record.state.status = .exited
            record.state.pid = 0
            record.state.exitCode = observed?.0 ?? exitRecord?.exitCode ?? 255
            record.state.oomKilled = oom
            record.state.finishedAt = exitRecord.map { $0.finishedAt.isEmpty ? Timestamp.now() : $0.finishedAt } ?? Timestamp.now()
            if let message = exitRecord?.error, !message.isEmpty { record.state.error = message }
        }
        // An `--rm` container's file is deleted in a moment: writing its exit there first only
        // made `run --rm` wait for the disk.
        let record = current.hostConfig.AutoRemove == true
            ? store.updateInMemory(id, exited) : try? store.update(id, durable: false, exited)
        let finished = record ?? current
        logger.info("container exited", metadata: ["id": "\(finished.shortID)", "code": "\(finished.state.exitCode)"])
        emit(finished, "die", ["exitCode": "\(finished.state.exitCode)"])
        // The exit is told first; freeing the cgroup and the network is the kernel's slow part.
        notifyExit(finished)
        if finished.hostConfig.AutoRemove == true {
            try? remove(id, force: true, volumes: true)  // frees both
            return
        }
        do { try cgroup?.remove() } catch {
            logger.warning("cannot remove the container's cgroup", metadata: ["id": "\(finished.shortID)", "error": "\(error)"])
        }
        networks.release(containerID: id)
        applyRestartPolicy(finished)
    }

    func applyRestartPolicy(_ record: ContainerRecord) {
        let policy = record.hostConfig.RestartPolicy?.Name ?? "no"
        let limit = record.hostConfig.RestartPolicy?.MaximumRetryCount ?? 0
        let restart: Bool
        switch policy {
        case "always": restart = !record.state.stoppedByUser
        case "unless-stopped": restart = !record.state.stoppedByUser
        case "on-failure": restart = record.state.exitCode != 0 && !record.state.stoppedByUser
            && (limit == 0 || record.restartCount < limit)
        default: restart = false
        }
        guard restart else { return }
        // Docker's back-off: 100 ms doubling per consecutive restart, capped at a minute.
        let delay = min(60_000, 100 * (1 << min(record.restartCount, 10)))
        _ = try? store.update(record.id, durable: false) { $0.restartCount += 1; $0.state.status = .restarting }
        Thread.detachNewThread { [self] in
            usleep(UInt32(delay) * 1000)
            guard let current = store.get(record.id), current.state.status == .restarting else { return }
            do { try launch(current) } catch {
                logger.warning("restart failed", metadata: ["id": "\(record.shortID)", "error": "\(error)"])
                _ = try? store.update(record.id, durable: false) { $0.state.status = .exited; $0.state.error = "\(error)" }
            }
        }
    }

    /// Waits for the deletion of removed containers' files (a clean shutdown).
    public func finishDeletions() {
        store.finishDeletions()
    }

    /// Wakes the callers waiting for this container to stop running.
    func notifyExit(_ record: ContainerRecord) {
        let woken = exitWaiters.withLock { waiters -> [ExitWaiter] in
            guard let all = waiters[record.id] else { return [] }
            let remaining = all.filter(\.untilRemoved)
            waiters[record.id] = remaining.isEmpty ? nil : remaining
            return all.filter { !$0.untilRemoved }
        }
        for waiter in woken { waiter.continuation.resume(returning: record) }
    }

    /// Forgets a container and wakes everyone still waiting on it (`condition=removed` too).
    func forget(_ record: ContainerRecord) {
        let last = store.get(record.id) ?? record  // with the exit code, if it exited meanwhile
        store.remove(record.id)
        let woken = exitWaiters.withLock { $0.removeValue(forKey: record.id) ?? [] }
        for waiter in woken { waiter.continuation.resume(returning: last) }
    }

    // MARK: waiting

    /// `POST /containers/{id}/wait`: `not-running` (default), `next-exit`, or `removed`, as
    /// Docker has them: `removed` answers once the container is gone (what `run --rm` waits for,
    /// so its name is free again when the command returns).
    public func wait(_ reference: String, condition: String) async throws(EngineError) -> ContainerRecord {
        let record = try resolve(reference)
        let running = record.state.status == .running || record.state.status == .restarting
            || record.state.status == .paused
        let untilRemoved = condition == "removed"
        if condition != "next-exit", !untilRemoved, !running { return record }
        return await withCheckedContinuation { continuation in
            exitWaiters.withLock { $0[record.id, default: []].append(ExitWaiter(untilRemoved: untilRemoved, continuation: continuation)) }
            // The container may have exited, or gone, between the check and the registration.
            if store.get(record.id) == nil {
                let woken = exitWaiters.withLock { $0.removeValue(forKey: record.id) ?? [] }
                for waiter in woken { waiter.continuation.resume(returning: record) }
            } else if !untilRemoved, condition != "next-exit", let now = store.get(record.id), now.state.status == .exited {
                notifyExit(now)
            }
        }
    }

    // MARK: stop, kill, restart

    /// Sends the stop signal, waits `timeout` seconds, then SIGKILL.
    public func stop(_ reference: String, timeout: Int?) async throws(EngineError) {
        let record = try resolve(reference)
        guard record.state.status == .running || record.state.status == .paused || record.state.status == .restarting else {
            throw EngineError(.notModified, "")
        }
        _ = try? store.update(record.id, durable: true) { $0.state.stoppedByUser = true }
        if record.state.status == .restarting {
            _ = try? store.update(record.id, durable: false) { $0.state.status = .exited }
            return
        }
        let signal = (try? Signals.parse(record.config.StopSignal ?? "SIGTERM")) ?? SIGTERM
        let seconds = timeout ?? record.config.StopTimeout ?? 10
        try send(record.id, .kill(signal: signal))
        let exited = await waitForExit(record.id, seconds: seconds)
        if !exited {
            try? send(record.id, .kill(signal: SIGKILL))
            _ = await waitForExit(record.id, seconds: 30)
        }
        emit(record, "stop")
    }

    func waitForExit(_ id: String, seconds: Int) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if let record = store.get(id), record.state.status != .running, record.state.status != .paused { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    public func kill(_ reference: String, signal text: String?) throws(EngineError) {
        let record = try resolve(reference)
        guard record.state.status == .running || record.state.status == .paused else {
            throw EngineError(.conflict, "Cannot kill container: \(reference): Container \(record.id) is not running")
        }
        let signal: Int32
        do { signal = try Signals.parse(text ?? "SIGKILL") } catch {
            throw EngineError(.invalidArgument, error.message)
        }
        _ = try? store.update(record.id, durable: true) { $0.state.stoppedByUser = true }
        try send(record.id, .kill(signal: signal))
        emit(record, "kill", ["signal": "\(signal)"])
    }

    func send(_ id: String, _ command: ShimCommand) throws(EngineError) {
        let control = controls.withLock { $0[id] }
        do {
            if let control {
                try control.send(command)
            } else {
                try ShimControl.connect(ShimFiles(directory: store.directory(id)), timeout: .seconds(2)).send(command)
            }
        } catch {
            throw EngineError(.internalError, "cannot signal the container: \(error.description)")
        }
    }

    public func restart(_ reference: String, timeout: Int?) async throws(EngineError) {
        let record = try resolve(reference)
        if record.state.status == .running { try await stop(reference, timeout: timeout) }
        _ = try? store.update(record.id, durable: true) { $0.state.stoppedByUser = false }
        let result: Result<Void, EngineError> = await Task.detached {
            do { try self.start(record.id); return .success(()) } catch let error as EngineError { return .failure(error) }
            catch { return .failure(EngineError(.internalError, "\(error)")) }
        }.value
        try result.get()
    }

    // MARK: remove

    public func remove(_ reference: String, force: Bool, volumes removeVolumes: Bool = false) throws(EngineError) {
        let record = try resolve(reference)
        if record.state.status == .running || record.state.status == .paused || record.state.status == .restarting {
            guard force else {
                throw EngineError(.conflict, "You cannot remove a running container \(record.id). Stop the container before "
                                  + "attempting removal or force remove")
            }
            _ = try? store.update(record.id, durable: true) { $0.state.stoppedByUser = true; $0.hostConfig.AutoRemove = false }
            try? send(record.id, .kill(signal: SIGKILL))
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, let now = store.get(record.id), now.state.status == .running {
                usleep(5_000)
            }
        }
        // Its addresses are free before anyone learns it is gone (`network rm` may come next);
        // the network's state file is written after the answer that `run --rm` waits for.
        let released = networks.release(containerID: record.id, persist: false)
        forget(record)
        if released { networks.persist() }
        // After the answer: a cgroup is named by the container's ID, which nothing reuses.
        if hierarchy != nil, let manager = try? CgroupManager(hierarchy: hierarchy!, id: record.id, logger: logger) {
            do { try manager.remove() } catch {
                logger.warning("cannot remove the container's cgroup", metadata: ["id": "\(record.shortID)", "error": "\(error)"])
            }
        }
        if removeVolumes { removeAnonymousVolumes(record) }
        logger.info("removed container", metadata: ["id": "\(record.shortID)"])
        emit(record, "destroy")
    }

    // MARK: live restore

    /// After pierd starts: reconnect to the shims of running containers, and record the exit
    /// of those that ended while pierd was down.
    public func restore() {
        // A `cp` into a stopped container that pierd did not live to finish left its mount.
        for record in store.all() {
            let mountPoint = store.directory(record.id) + "/cp-root"
            if access(mountPoint, F_OK) == 0 {
                umount2(mountPoint, Int32(MNT_DETACH))
                rmdir(mountPoint)
            }
        }
        for record in store.all() where record.state.status == .running || record.state.status == .paused
            || record.state.status == .restarting {
            let files = ShimFiles(directory: store.directory(record.id))
            let cgroup = hierarchy.flatMap { try? CgroupManager(hierarchy: $0, id: record.id, logger: logger) }
            if ShimLiveness.isAlive(files, id: record.id),
               let control = try? ShimControl.connect(files, timeout: .seconds(2)) {
                controls.withLock { $0[record.id] = control }
                monitor(record.id, control: control, cgroup: cgroup)
                watchHealth(record.id, resumed: true)
                logger.info("reattached to running container", metadata: ["id": "\(record.shortID)"])
            } else {
                finish(record.id, observed: nil, cgroup: cgroup)
            }
        }
        // As Docker does: an `--rm` container that is not running now will not run again.
        for record in store.all() where record.hostConfig.AutoRemove == true && record.state.status != .running
            && record.state.status != .paused {
            try? remove(record.id, force: true, volumes: true)
        }
        networks.restore(running: Set(store.all().filter { $0.state.status == .running || $0.state.status == .paused }.map(\.id)))
        // Containers that should run whenever pierd runs.
        for record in store.all() where record.state.status == .exited && !record.state.stoppedByUser {
            if record.hostConfig.RestartPolicy?.Name == "always" || record.hostConfig.RestartPolicy?.Name == "unless-stopped" {
                try? start(record.id)
            }
        }
    }
}

/// Milliseconds spent in each step of a container start, for the debug log.
struct StartPhases {
    private var last = ContinuousClock.now
    private var steps: [(String, Duration)] = []

    mutating func mark(_ name: String) {
        let now = ContinuousClock.now
        steps.append((name, now - last))
        last = now
    }

    var summary: String {
        steps.map { name, duration in
            let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
            return "\(name)=" + String(format: "%.1f", ms)
        }.joined(separator: " ")
    }
}

/// A caller of `wait`, woken at the exit or, with `condition=removed`, at the removal.
struct ExitWaiter {
    let untilRemoved: Bool
    let continuation: CheckedContinuation<ContainerRecord, Never>
}
