import ArgumentParser
import Foundation
import PierAPI
import PierClient

/// `pier stats`: CPU, memory, network and pids of running containers, refreshed every second
/// (or once with `--no-stream`), computed as the docker CLI computes them.
struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats",
                                                    abstract: "Display a live stream of container(s) resource usage statistics")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Show all containers (default shows just running)") var all = false
    @Flag(name: .customLong("no-stream"), help: "Disable streaming stats and only pull the first result") var noStream = false
    @Flag(name: .customLong("no-trunc"), help: "Do not truncate output") var noTrunc = false
    @Option(help: "Format output using a custom template") var format: String?
    @Argument(help: "CONTAINER") var containers: [String] = []

    static let defaultTable = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"
    static let titles = ["ID": "CONTAINER ID", "Container": "CONTAINER", "Name": "NAME", "CPUPerc": "CPU %",
                         "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O",
                         "PIDs": "PIDS"]

    func run() throws {
        let client = try daemon.client()
        var names = containers
        if names.isEmpty {
            let query: [(String, String)] = all ? [("all", "1")] : []
            names = try call { try client.json([ContainerSummary].self, "GET", "/containers/json", query: query) }.map(\.Id)
        }
        if noStream {
            // Each sample spans half a second in pierd: take them side by side.
            let results = Results(count: names.count)
            let targets = names
            DispatchQueue.concurrentPerform(iterations: targets.count) { index in
                let result = Result {
                    try call { try client.json(ContainerStats.self, "GET", "/containers/\(targets[index])/stats",
                                               query: [("stream", "0")]) }
                }
                results.set(index, result)
            }
            let samples = try results.values().map { try $0.get() }
            try Listing.print(rows: samples.map { row($0, container: $0.id) }, format: format ?? Stats.defaultTable,
                              defaultTable: Stats.defaultTable, titles: Stats.titles)
            return
        }
        // Live: one one-shot sample per container a second, CPU % from the previous sample.
        var previous: [String: ContainerStats] = [:]
        while true {
            var rows: [JSONValue] = []
            for name in names {
                guard var sample = try? client.json(ContainerStats.self, "GET", "/containers/\(name)/stats",
                                                    query: [("stream", "0"), ("one-shot", "1")]) else { continue }
                if let before = previous[name] {
                    sample.precpu_stats = before.cpu_stats
                    sample.preread = before.read
                }
                previous[name] = sample
                rows.append(row(sample, container: name))
            }
            print("\u{1B}[2J\u{1B}[H", terminator: "")
            try Listing.print(rows: rows, format: format ?? Stats.defaultTable, defaultTable: Stats.defaultTable,
                              titles: Stats.titles)
            fflush(nil)
            sleep(1)
        }
    }

    func row(_ sample: ContainerStats, container: String) -> JSONValue {
        let cpu = Stats.cpuPercent(sample)
        let (used, limit) = Stats.memory(sample)
        let memoryPercent = limit > 0 ? Double(used) / Double(limit) * 100 : 0
        let networks = sample.networks?.values ?? [:].values
        let received = networks.reduce(UInt64(0)) { $0 + $1.rx_bytes }
        let sent = networks.reduce(UInt64(0)) { $0 + $1.tx_bytes }
        let entries = sample.blkio_stats.io_service_bytes_recursive ?? []
        let read = entries.filter { $0.op.lowercased() == "read" }.reduce(UInt64(0)) { $0 + $1.value }
        let written = entries.filter { $0.op.lowercased() == "write" }.reduce(UInt64(0)) { $0 + $1.value }
        let running = sample.cpu_stats.system_cpu_usage != nil
        let id = sample.id.isEmpty ? container : sample.id
        let name = sample.name.hasPrefix("/") ? String(sample.name.dropFirst()) : sample.name
        return .object([
            ("Container", .string(container)),
            ("ID", .string(noTrunc ? id : String(id.prefix(12)))),
            ("Name", .string(running || !name.isEmpty ? name : "--")),
            ("CPUPerc", .string(running ? String(format: "%.2f%%", cpu) : "--")),
            ("MemUsage", .string(running ? "\(Units.bytesSize(Int64(used))) / \(Units.bytesSize(Int64(limit)))" : "-- / --")),
            ("MemPerc", .string(running ? String(format: "%.2f%%", memoryPercent) : "--")),
            ("NetIO", .string(running ? "\(Units.humanSize(Int64(received))) / \(Units.humanSize(Int64(sent)))" : "--")),
            ("BlockIO", .string(running ? "\(Units.humanSize(Int64(read))) / \(Units.humanSize(Int64(written)))" : "--")),
            ("PIDs", .string(running ? String(sample.pids_stats.current ?? 0) : "--")),
        ])
    }

    /// The docker CLI's formula: the container's share of all host CPU time since the last
    /// sample, times the number of CPUs.
    static func cpuPercent(_ sample: ContainerStats) -> Double {
        let cpuDelta = Double(sample.cpu_stats.cpu_usage.total_usage) - Double(sample.precpu_stats.cpu_usage.total_usage)
        let systemDelta = Double(sample.cpu_stats.system_cpu_usage ?? 0) - Double(sample.precpu_stats.system_cpu_usage ?? 0)
        let cpus = Double(sample.cpu_stats.online_cpus ?? sample.cpu_stats.cpu_usage.percpu_usage?.count ?? 1)
        guard cpuDelta > 0, systemDelta > 0, sample.precpu_stats.system_cpu_usage != nil else { return 0 }
        return cpuDelta / systemDelta * cpus * 100
    }

    /// Usage without the inactive page cache (v1 `total_inactive_file`, v2 `inactive_file`), and the limit.
    static func memory(_ sample: ContainerStats) -> (UInt64, UInt64) {
        let usage = sample.memory_stats.usage ?? 0
        let stats = sample.memory_stats.stats ?? [:]
        let cache = stats["total_inactive_file"] ?? stats["inactive_file"] ?? 0
        return (cache < usage ? usage - cache : usage, sample.memory_stats.limit ?? 0)
    }
}

/// Results filled in by concurrent workers, one slot each.
final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<ContainerStats, any Error>?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Result<ContainerStats, any Error>) { lock.withLock { slots[index] = value } }
    func values() -> [Result<ContainerStats, any Error>] { lock.withLock { slots.compactMap { $0 } } }
}
