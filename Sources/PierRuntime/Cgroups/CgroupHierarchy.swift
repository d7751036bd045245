import Foundation

/// Which cgroup layout the host uses.
public enum CgroupMode: String, Sendable, Hashable, Codable {
    /// cgroup v1 only: one hierarchy per controller (or group of co-mounted controllers).
    case v1
    /// v1 controllers plus a cgroup2 mount (usually /sys/fs/cgroup/unified) that carries no or few
    /// controllers; systemd's "hybrid" layout. Limits go to v1; the v2 tree only tracks processes.
    case hybrid
    /// cgroup v2 only ("unified"): one tree, controllers enabled through `cgroup.subtree_control`.
    case v2
}

/// Where the cgroup hierarchies are mounted, read from /proc/self/mountinfo.
public struct CgroupHierarchy: Sendable, Hashable {
    /// One cgroup v1 hierarchy.
    public struct V1Mount: Sendable, Hashable {
        public var mountPoint: String
        /// Its controllers (`cpu`, `cpuacct` ...) or its name (`name=systemd`).
        public var controllers: [String]

        public init(mountPoint: String, controllers: [String]) {
            self.mountPoint = mountPoint
            self.controllers = controllers
        }
    }

    public var mode: CgroupMode
    public var v1Mounts: [V1Mount]
    /// The cgroup2 mount: the root of everything on v2, the process-tracking tree on hybrid.
    public var unifiedMountPoint: String?

    public init(mode: CgroupMode, v1Mounts: [V1Mount], unifiedMountPoint: String?) {
        self.mode = mode
        self.v1Mounts = v1Mounts
        self.unifiedMountPoint = unifiedMountPoint
    }

    /// The hierarchies this process sees. Blocks (reads /proc).
    public static func detect(mountinfo path: String = "/proc/self/mountinfo") throws(RuntimeError) -> CgroupHierarchy {
        guard let text = try PosixFile.readText(path) else {
            throw RuntimeError(.unsupported, "cannot read \(path): is /proc mounted?")
        }
        let hierarchy = parse(mountinfo: text)
        if hierarchy.v1Mounts.isEmpty && hierarchy.unifiedMountPoint == nil {
            throw RuntimeError(.unsupported,
                               "no cgroup filesystem is mounted (looked in \(path)); mount cgroup2 on /sys/fs/cgroup")
        }
        return hierarchy
    }

    /// Parses mountinfo text (proc(5)): the first mount of each hierarchy wins.
    public static func parse(mountinfo text: String) -> CgroupHierarchy {
        var v1 = [V1Mount]()
        var unified: String?
        for line in text.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count >= 2 else { continue }
            let before = halves[0].split(separator: " ")
            let after = halves[1].split(separator: " ")
            guard before.count >= 5, after.count >= 3 else { continue }
            let mountPoint = unescape(String(before[4]))
            switch after[0] {
            case "cgroup2":
                if unified == nil { unified = mountPoint }
            case "cgroup":
                let known: Set<Substring> = ["rw", "ro", "nosuid", "nodev", "noexec", "relatime", "noatime",
                                             "clone_children", "xattr", "nsdelegate", "noprefix"]
                let controllers = after[2].split(separator: ",")
                    .filter { !known.contains($0) && !$0.hasPrefix("release_agent=") }
                    .map(String.init)
                guard !controllers.isEmpty else { continue }
                if !v1.contains(where: { $0.controllers == controllers }) {
                    v1.append(V1Mount(mountPoint: mountPoint, controllers: controllers))
                }
            default:
                continue
            }
        }
        let hasRealV1 = v1.contains { mount in mount.controllers.contains { !$0.hasPrefix("name=") } }
        let mode: CgroupMode = hasRealV1 ? (unified == nil ? .v1 : .hybrid) : .v2
        return CgroupHierarchy(mode: mode, v1Mounts: mode == .v2 ? [] : v1, unifiedMountPoint: unified)
    }

    /// The v1 mount carrying a controller (`memory`, `cpu` ...).
    public func v1MountPoint(for controller: String) -> String? {
        v1Mounts.first { $0.controllers.contains(controller) }?.mountPoint
    }

    /// mountinfo escapes space, tab, newline and backslash as octal.
    static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var bytes = [UInt8]()
        let utf8 = Array(text.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "\\"), i + 4 <= utf8.count,
               let value = UInt8(String(decoding: utf8[(i + 1)..<(i + 4)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                i += 4
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
