import Foundation
import Synchronization

/// Takes the cost of the first cgroup migration off the path of a container start.
///
/// Writing a pid to a `cgroup.procs` file takes the kernel's global cgroup threadgroup lock
/// for writing, and the first writer after a quiet spell waits for an RCU grace period before
/// it gets it: 7 to 30 ms on this machine, measured with a C program timing each write. Writers
/// that come while that lock is still in its "recently written" state (about one more grace
/// period) pass at once (0.02 ms). So at the start of `launch`, before pierd spends its own
/// ~9 ms on the cgroup, the spec and the shim, a background thread moves pierd into the cgroup
/// it is already in — a move that changes nothing but pays the grace period — and the shim's
/// real migration of the container process then finds the lock ready.
///
/// Which hierarchy is written does not matter (the lock is one for all of them); pierd uses
/// its own cgroup in the unified tree, or in the first v1 hierarchy on a v1-only host. Errors
/// are ignored: without the primer a start is only slower.
public final class CgroupMigrationPrimer: Sendable {
    private let procsFile: String
    private let inFlight = Atomic<Bool>(false)

    /// nil when pierd's own cgroup cannot be found (no cgroupfs, an unusual /proc/self/cgroup).
    public init?(hierarchy: CgroupHierarchy, selfCgroup path: String = "/proc/self/cgroup") {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let file = Self.procsFile(hierarchy: hierarchy, selfCgroup: text) else { return nil }
        procsFile = file
    }

    /// The `cgroup.procs` of this process's own cgroup: in the unified tree if there is one,
    /// else in the first v1 hierarchy.
    static func procsFile(hierarchy: CgroupHierarchy, selfCgroup text: String) -> String? {
        // Lines are "hierarchy-id:controllers:path"; the unified tree's is "0::path".
        var paths: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            paths[String(fields[1])] = String(fields[2])
        }
        func join(_ mountPoint: String, _ path: String) -> String {
            (path == "/" ? mountPoint : mountPoint + path) + "/cgroup.procs"
        }
        if let unified = hierarchy.unifiedMountPoint, let path = paths[""] {
            return join(unified, path)
        }
        if let first = hierarchy.v1Mounts.first, let path = paths[first.controllers.joined(separator: ",")] {
            return join(first.mountPoint, path)
        }
        return nil
    }

    /// Starts a priming move on a background thread, unless one is already under way.
    public func prime() {
        guard !inFlight.exchange(true, ordering: .acquiringAndReleasing) else { return }
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            defer { inFlight.store(false, ordering: .releasing) }
            let fd = open(procsFile, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { return }
            _ = write(fd, "0\n", 2)
            close(fd)
        }
    }
}
