import Foundation
import PierAPI
import PierOCI
import PierStore

/// `version`, `info`, `system df`, `system prune`.
public final class SystemService: Sendable {
    let root: String
    let images: ImageService
    let id: String

    init(root: String, images: ImageService) {
        self.root = root
        self.images = images
        let idFile = root + "/engine-id"
        if let text = try? String(contentsOfFile: idFile, encoding: .utf8), !text.isEmpty {
            id = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            id = UUID().uuidString
            try? id.write(toFile: idFile, atomically: true, encoding: .utf8)
        }
    }

    public func version() -> SystemVersion {
        SystemVersion(version: PierVersion.current, gitCommit: BuildInfo.gitCommit, os: "linux",
                      arch: Platform.host.architecture, kernelVersion: HostInfo.kernelRelease(),
                      buildTime: BuildInfo.buildTime, swiftVersion: BuildInfo.swiftVersion)
    }

    public func info() -> SystemInfo {
        var info = SystemInfo(
            ID: id, Containers: 0, ContainersRunning: 0, ContainersPaused: 0, ContainersStopped: 0,
            Images: images.store.index.allImages().count, Driver: "overlay2", DockerRootDir: root,
            SystemTime: Timestamp.now(), CgroupDriver: "cgroupfs", CgroupVersion: HostInfo.cgroupVersion(),
            KernelVersion: HostInfo.kernelRelease(), OperatingSystem: HostInfo.operatingSystem(),
            OSVersion: HostInfo.operatingSystemVersion(), Architecture: HostInfo.machine(),
            NCPU: ProcessInfo.processInfo.activeProcessorCount,
            MemTotal: Int64(ProcessInfo.processInfo.physicalMemory), Name: HostInfo.hostname(),
            ServerVersion: PierVersion.current, NFd: HostInfo.openFileCount(), NGoroutines: 0)
        info.Warnings = nil
        return info
    }

    public func diskUsage() throws(EngineError) -> DiskUsage {
        let summaries = try images.list(all: true, filters: [:])
        let layers = images.store.snapshots.allChainIDs().reduce(Int64(0)) {
            $0 + images.store.snapshots.unpackedSize($1)
        }
        return DiskUsage(LayersSize: layers, Images: summaries)
    }

    public func prune(all: Bool) throws(EngineError) -> SystemPruneReport {
        let report = try images.prune(all: all, filters: [:])
        return SystemPruneReport(ImagesDeleted: report.ImagesDeleted, SpaceReclaimed: report.SpaceReclaimed)
    }
}

/// Facts about this build of Pier.
public enum BuildInfo {
    public static let gitCommit = "unknown"
    public static let buildTime = ""
    #if compiler(>=6.3)
    public static let swiftVersion = "swift6.3"
    #else
    public static let swiftVersion = "swift6"
    #endif
}

/// Facts about the host, read from the kernel.
enum HostInfo {
    static func kernelRelease() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    static func machine() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    static func hostname() -> String {
        ProcessInfo.processInfo.hostName
    }

    static func osRelease() -> [String: String] {
        guard let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) else { return [:] }
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            result[String(line[..<eq])] = line[line.index(after: eq)...].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return result
    }

    static func operatingSystem() -> String { osRelease()["PRETTY_NAME"] ?? "Linux" }
    static func operatingSystemVersion() -> String { osRelease()["VERSION_ID"] ?? "" }

    /// "2" on a pure cgroup v2 host, "1" on v1 and hybrid hosts.
    static func cgroupVersion() -> String {
        FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") ? "2" : "1"
    }

    static func openFileCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    }
}
