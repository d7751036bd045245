import ArgumentParser
import Foundation
import PierAPI
import PierClient

/// `pier version`
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Show the Pier version information")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Format output using a custom template") var format: String?

    func run() throws {
        let arch = Architecture.goName
        var lines = [
            "Client:",
            " Version:           \(PierVersionText.client)",
            " API version:       \(APIVersion.current)",
            " OS/Arch:           linux/\(arch)",
            "",
        ]
        do {
            let client = try daemon.client()
            let response = try client.send("GET", "/version")
            let bytes = try response.readAll()
            try response.throwIfError(bytes)
            if let format {
                let value = try JSONValue.parse(bytes)
                let wrapped = JSONValue.object([
                    ("Client", .object([("Version", .string(PierVersionText.client)),
                                        ("ApiVersion", .string(APIVersion.current)),
                                        ("Os", .string("linux")), ("Arch", .string(arch))])),
                    ("Server", value),
                ])
                print(try Listing.compile(GoTemplate.expandEscapes(format)).render(wrapped))
                return
            }
            let server = try JSONDecoder().decode(SystemVersion.self, from: Data(bytes))
            lines += [
                "Server: \(server.Platform.Name)",
                " Engine:",
                "  Version:          \(server.Version)",
                "  API version:      \(server.ApiVersion) (minimum version \(server.MinAPIVersion))",
                "  Swift version:    \(server.GoVersion)",
                "  Git commit:       \(server.GitCommit)",
                "  OS/Arch:          \(server.Os)/\(server.Arch)",
                "  Kernel:           \(server.KernelVersion)",
            ]
            print(lines.joined(separator: "\n"))
        } catch let error as ClientError {
            print(lines.joined(separator: "\n"))
            throw CLIError.daemon(error)
        }
    }
}

enum Architecture {
    static var goName: String {
        #if arch(x86_64)
        "amd64"
        #elseif arch(arm64)
        "arm64"
        #else
        "unknown"
        #endif
    }
}

/// `pier info` / `pier system info`
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Display system-wide information")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Format output using a custom template") var format: String?

    func run() throws {
        let client = try call { try daemon.client() }
        let response = try call { try client.send("GET", "/info") }
        let bytes = try call { try response.readAll() }
        try call { try response.throwIfError(bytes) }
        if let format {
            print(try Listing.compile(GoTemplate.expandEscapes(format)).render(try JSONValue.parse(bytes)))
            return
        }
        let info = try JSONDecoder().decode(SystemInfo.self, from: Data(bytes))
        print("""
        Client:
         Version:    \(PierVersionText.client)
         Context:    unix://\(daemon.socketPath)

        Server:
         Containers: \(info.Containers)
          Running: \(info.ContainersRunning)
          Paused: \(info.ContainersPaused)
          Stopped: \(info.ContainersStopped)
         Images: \(info.Images)
         Server Version: \(info.ServerVersion)
         Storage Driver: \(info.Driver)
         Logging Driver: \(info.LoggingDriver)
         Cgroup Driver: \(info.CgroupDriver)
         Cgroup Version: \(info.CgroupVersion)
         Kernel Version: \(info.KernelVersion)
         Operating System: \(info.OperatingSystem)
         OSType: \(info.OSType)
         Architecture: \(info.Architecture)
         CPUs: \(info.NCPU)
         Total Memory: \(Units.bytesSize(info.MemTotal))
         Name: \(info.Name)
         ID: \(info.ID)
         Pier Root Dir: \(info.DockerRootDir)
         Live Restore Enabled: \(info.LiveRestoreEnabled)
        """)
    }
}

/// `pier system df`
struct SystemDF: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "df", abstract: "Show Pier disk usage")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Show detailed information on space usage") var verbose = false
    @Option(help: "Format output using a custom template") var format: String?

    func run() throws {
        let usage = try call { try daemon.client().json(DiskUsage.self, "GET", "/system/df") }
        let total = usage.Images.reduce(Int64(0)) { $0 + $1.Size }
        let inUse = usage.Images.filter { $0.Containers > 0 }
        let reclaimable = total - inUse.reduce(Int64(0)) { $0 + $1.Size }
        let percent = total > 0 ? " (\(Int((Double(reclaimable) / Double(total) * 100).rounded()))%)" : ""
        let volumeSize = usage.Volumes.reduce(Int64(0)) { $0 + ($1.UsageData?.Size ?? 0) }
        let volumeReclaimable = usage.Volumes.filter { ($0.UsageData?.RefCount ?? 0) == 0 }
            .reduce(Int64(0)) { $0 + ($1.UsageData?.Size ?? 0) }
        let volumePercent = volumeSize > 0 ? " (\(Int((Double(volumeReclaimable) / Double(volumeSize) * 100).rounded()))%)" : ""
        let rows: [JSONValue] = [
            .object([("Type", .string("Images")), ("TotalCount", .string(String(usage.Images.count))),
                     ("Active", .string(String(inUse.count))), ("Size", .string(Units.humanSize(usage.LayersSize))),
                     ("Reclaimable", .string(Units.humanSize(reclaimable) + percent))]),
            .object([("Type", .string("Containers")), ("TotalCount", .string(String(usage.Containers.count))),
                     ("Active", .string("0")), ("Size", .string("0B")), ("Reclaimable", .string("0B"))]),
            .object([("Type", .string("Local Volumes")), ("TotalCount", .string(String(usage.Volumes.count))),
                     ("Active", .string(String(usage.Volumes.filter { ($0.UsageData?.RefCount ?? 0) > 0 }.count))),
                     ("Size", .string(Units.humanSize(volumeSize))),
                     ("Reclaimable", .string(Units.humanSize(volumeReclaimable) + volumePercent))]),
            .object([("Type", .string("Build Cache")), ("TotalCount", .string(String(usage.BuildCache.count))),
                     ("Active", .string("0")), ("Size", .string("0B")), ("Reclaimable", .string("0B"))]),
        ]
        if verbose {
            print("Images space usage:\n")
            var table = TableWriter()
            table.addRow(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"])
            for image in usage.Images {
                for tag in image.RepoTags.isEmpty ? ["<none>:<none>"] : image.RepoTags {
                    let colon = tag.lastIndex(of: ":") ?? tag.endIndex
                    table.addRow([String(tag[..<colon]), colon < tag.endIndex ? String(tag[tag.index(after: colon)...]) : "",
                                  shortID(image.Id), Listing.since(image.Created), Units.humanSize(image.Size),
                                  "0B", Units.humanSize(image.Size), String(max(0, image.Containers))])
                }
            }
            print(table.render())
            print("Local Volumes space usage:\n")
            var volumes = TableWriter()
            volumes.addRow(["VOLUME NAME", "LINKS", "SIZE"])
            for volume in usage.Volumes {
                volumes.addRow([volume.Name, String(volume.UsageData?.RefCount ?? 0), Units.humanSize(volume.UsageData?.Size ?? 0)])
            }
            print(volumes.render())
            return
        }
        try Listing.print(rows: rows, format: format,
                          defaultTable: "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}")
    }
}

/// `pier system prune`
struct SystemPrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove unused data")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Remove all unused images not just dangling ones") var all = false
    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation") var force = false
    @Flag(help: "Prune anonymous volumes") var volumes = false

    func run() throws {
        if !force {
            let warning = """
            WARNING! This will remove:
              - all stopped containers
              - all networks not used by at least one container
            \(volumes ? "  - all anonymous volumes not used by at least one container\n" : "")\
              - \(all ? "all images without at least one container associated to them" : "all dangling images")
              - all build cache
            """
            guard Prompt.confirm(warning) else { return }
        }
        let client = try call { try daemon.client() }
        let networks = try call { try client.json(NetworkPruneResponse.self, "POST", "/networks/prune") }
        if !networks.NetworksDeleted.isEmpty {
            print("Deleted Networks:")
            for name in networks.NetworksDeleted { print(name) }
            print("")
        }
        if volumes {
            let filters = FilterFlags.encode(["label": ["com.docker.volume.anonymous"]])
            let report = try call { try client.json(VolumePruneResponse.self, "POST", "/volumes/prune", query: [("filters", filters)]) }
            if !report.VolumesDeleted.isEmpty {
                print("Deleted Volumes:")
                for name in report.VolumesDeleted { print(name) }
                print("")
            }
        }
        try ImagePrune.prune(client, all: all, filters: [:])
    }
}
