import Foundation
import PierAPI
import PierOCI
import PierRuntime

/// pause, unpause, rename, top and prune.
extension ContainerService {
    public func pause(_ reference: String) throws(EngineError) {
        let record = try resolve(reference)
        guard record.state.status == .running else {
            throw EngineError(.conflict, "Container \(record.id) is not running")
        }
        try freezer(record) { try $0.freeze() }
        _ = try? store.update(record.id, durable: false) { $0.state.status = .paused }
        emit(record, "pause")
    }

    public func unpause(_ reference: String) throws(EngineError) {
        let record = try resolve(reference)
        guard record.state.status == .paused else {
            throw EngineError(.conflict, "Container \(record.id) is not paused")
        }
        try freezer(record) { try $0.thaw() }
        _ = try? store.update(record.id, durable: false) { $0.state.status = .running }
        emit(record, "unpause")
    }

    func freezer(_ record: ContainerRecord, _ action: (CgroupManager) throws -> Void) throws(EngineError) {
        guard let hierarchy else { throw EngineError(.internalError, "cgroups are not available on this host") }
        do { try action(try CgroupManager(hierarchy: hierarchy, id: record.id, logger: logger)) } catch {
            throw ContainerService.engineError(error)
        }
    }

    public func rename(_ reference: String, to newName: String) throws(EngineError) {
        let record = try resolve(reference)
        let name = newName.hasPrefix("/") ? String(newName.dropFirst()) : newName
        guard ContainerService.isValidName(name) else {
            throw EngineError(.invalidArgument, "Invalid container name (\(name)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        }
        if let other = store.nameInUse(name), other.id != record.id {
            throw EngineError(.conflict, "Error when allocating new name: Conflict. The container name \"/\(name)\" is already "
                              + "in use by container \"\(other.id)\". You have to remove (or rename) that container to be able to reuse that name.")
        }
        do {
            let renamed = try store.update(record.id, durable: true) { $0.name = name }
            emit(renamed, "rename", ["oldName": "/" + record.name])
        } catch { throw ContainerService.engineError(error) }
    }

    /// `GET /containers/{id}/top`: the container's processes, from its cgroup, with `ps`'s default columns.
    public func top(_ reference: String) throws(EngineError) -> (titles: [String], processes: [[String]]) {
        let record = try resolve(reference)
        guard record.state.status == .running || record.state.status == .paused, let hierarchy else {
            throw EngineError(.conflict, "Container \(record.id) is not running")
        }
        let pids: [Int32]
        do { pids = try CgroupManager(hierarchy: hierarchy, id: record.id, logger: logger).processes() } catch {
            throw ContainerService.engineError(error)
        }
        let rows: [[String]] = pids.sorted().compactMap { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
            let uid = stat.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(separator: "\t").dropFirst().first ?? "0"
            let ppid = stat.split(separator: "\n").first { $0.hasPrefix("PPid:") }?.split(separator: "\t").last ?? "0"
            let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?
                .split(separator: "\0").joined(separator: " ") ?? ""
            return [uid == "0" ? "root" : String(uid), String(pid), String(ppid), "0", "-", "?", "00:00:00", command]
        }
        return (["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"], rows)
    }

    /// `POST /containers/prune`: removes every stopped container.
    public func prune() -> (deleted: [String], reclaimed: Int64) {
        var deleted: [String] = []
        for record in store.all() where record.state.status == .exited || record.state.status == .created
            || record.state.status == .dead {
            if (try? remove(record.id, force: false)) != nil { deleted.append(record.id) }
        }
        return (deleted, 0)
    }
}
