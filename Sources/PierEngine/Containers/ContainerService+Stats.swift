import Foundation
import PierAPI
import PierOCI
import PierRuntime

/// `docker stats`: samples of a container's cgroup, the host's CPU time, and the network
/// counters of the container's namespace.
extension ContainerService {
    /// One sample; a container that is not running gives an empty one, as Docker does.
    public func statsSample(_ reference: String) throws(EngineError) -> ContainerStats {
        let record = try resolve(reference)
        var sample = ContainerStats(name: "/" + record.name, id: record.id, read: Timestamp.now())
        guard record.state.status == .running || record.state.status == .paused else { return sample }
        let cpus = HostCPU.onlineCount()
        sample.cpu_stats.online_cpus = cpus
        sample.cpu_stats.system_cpu_usage = HostCPU.totalNanoseconds()
        if let hierarchy, let manager = try? CgroupManager(hierarchy: hierarchy, id: record.id, logger: logger),
           let stats = try? manager.stats() {
            sample.cpu_stats.cpu_usage = ContainerStats.CPUUsage(
                total_usage: stats.cpuUsage, percpu_usage: stats.perCPUUsage.isEmpty ? nil : stats.perCPUUsage,
                usage_in_kernelmode: stats.cpuSystem, usage_in_usermode: stats.cpuUser)
            sample.cpu_stats.throttling_data = ContainerStats.Throttling(
                periods: stats.throttlingPeriods, throttled_periods: stats.throttledPeriods, throttled_time: stats.throttledTime)
            let hostMemory = HostCPU.memoryTotal()
            sample.memory_stats = ContainerStats.Memory(
                usage: stats.memoryUsage, max_usage: stats.memoryMaxUsage, stats: stats.memoryStat,
                limit: min(stats.memoryLimit ?? hostMemory, hostMemory))
            sample.pids_stats = ContainerStats.Pids(current: stats.pidsCurrent, limit: stats.pidsLimit)
        }
        sample.networks = NetworkCounters.read(pid: record.state.pid)
        return sample
    }
}

/// The host's CPU count, total CPU time and memory, as Docker's stats use them.
enum HostCPU {
    static func onlineCount() -> Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// The `cpu` line of /proc/stat (user … steal), in nanoseconds.
    static func totalNanoseconds() -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let ticks = line.split(separator: " ").dropFirst().prefix(8).compactMap { UInt64($0) }.reduce(0, +)
        return ticks * (1_000_000_000 / UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1)))
    }

    static func memoryTotal() -> UInt64 {
        UInt64(sysconf(Int32(_SC_PHYS_PAGES))) * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// Interface counters of a process's network namespace (`/proc/<pid>/net/dev`), without `lo`.
enum NetworkCounters {
    static func read(pid: Int32) -> [String: ContainerStats.Network]? {
        guard pid > 0, let text = try? String(contentsOfFile: "/proc/\(pid)/net/dev", encoding: .utf8) else { return nil }
        var result: [String: ContainerStats.Network] = [:]
        for line in text.split(separator: "\n").dropFirst(2) {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[0].trimmingCharacters(in: .whitespaces)
            guard name != "lo" else { continue }
            let numbers = parts[1].split(separator: " ").compactMap { UInt64($0) }
            guard numbers.count >= 12 else { continue }
            var counters = ContainerStats.Network()
            counters.rx_bytes = numbers[0]
            counters.rx_packets = numbers[1]
            counters.rx_errors = numbers[2]
            counters.rx_dropped = numbers[3]
            counters.tx_bytes = numbers[8]
            counters.tx_packets = numbers[9]
            counters.tx_errors = numbers[10]
            counters.tx_dropped = numbers[11]
            result[name] = counters
        }
        return result.isEmpty ? nil : result
    }
}
