import ArgumentParser
import Foundation
import PierAPI
import PierClient

/// `pier volume ...`
struct VolumeGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volume", abstract: "Manage volumes",
        subcommands: [VolumeCreate.self, VolumeLs.self, VolumeInspect.self, VolumeRm.self, VolumePrune.self])
}

/// `pier volume create [--label] [--opt] [NAME]`
struct VolumeCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a volume")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Specify volume driver name") var driver: String = "local"
    @Option(help: "Set metadata for a volume") var label: [String] = []
    @Option(name: .shortAndLong, help: "Set driver specific options (type, device, o)") var opt: [String] = []
    @Option(help: "Specify volume name") var name: String?
    @Argument(help: "VOLUME") var volume: String?

    func run() throws {
        if let name, let volume, name != volume {
            throw CLIError("conflicting options: either specify --name or provide positional arg, not both", exitCode: 1)
        }
        var request = VolumeCreateRequest(Name: volume ?? name)
        request.Driver = driver
        request.Labels = KeyValues.parse(label)
        request.DriverOpts = KeyValues.parse(opt)
        let created = try call {
            try daemon.client().json(Volume.self, "POST", "/volumes/create", body: EngineClient.jsonBody(request))
        }
        print(created.Name)
    }
}

/// `pier volume ls`
struct VolumeLs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List volumes", aliases: ["list"])
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Provide filter values (e.g. 'dangling=true')") var filter: [String] = []
    @Option(help: "Format output using a custom template") var format: String?
    @Flag(name: .shortAndLong, help: "Only display volume names") var quiet = false

    func run() throws {
        let filters = try FilterFlags.parse(filter)
        let query = filters.isEmpty ? [] : [("filters", FilterFlags.encode(filters))]
        let list = try call { try daemon.client().json(VolumeListResponse.self, "GET", "/volumes", query: query) }
        if quiet {
            for volume in list.Volumes { print(volume.Name) }
            return
        }
        let rows: [JSONValue] = list.Volumes.map { volume in
            .object([
                ("Driver", .string(volume.Driver)),
                ("Labels", .string(volume.Labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))),
                ("Mountpoint", .string(volume.Mountpoint)),
                ("Name", .string(volume.Name)),
                ("Scope", .string(volume.Scope)),
            ])
        }
        try Listing.print(rows: rows, format: format == "table" ? nil : format, defaultTable: "table {{.Driver}}\t{{.Name}}",
                          titles: ["Driver": "DRIVER", "Name": "VOLUME NAME", "Labels": "LABELS",
                                   "Mountpoint": "MOUNTPOINT", "Scope": "SCOPE"])
    }
}

/// `pier volume inspect VOLUME...`
struct VolumeInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect",
                                                    abstract: "Display detailed information on one or more volumes")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Format output using a custom template") var format: String?
    @Argument(help: "VOLUME") var volumes: [String]

    func run() throws {
        try InspectDocuments.print(try call { try daemon.client() }, paths: volumes.map { "/volumes/\($0)" }, format: format)
    }
}

/// `pier volume rm [-f] VOLUME...`
struct VolumeRm: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more volumes",
                                                    aliases: ["remove"])
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Force the removal of one or more volumes") var force = false
    @Argument(help: "VOLUME") var volumes: [String]

    func run() throws {
        let client = try call { try daemon.client() }
        var failures: [String] = []
        for volume in volumes {
            do {
                try client.call("DELETE", "/volumes/\(volume)", query: force ? [("force", "1")] : [])
                print(volume)
            } catch let error as ClientError {
                failures.append(CLIError.daemon(error).message)
            }
        }
        if !failures.isEmpty { throw CLIError(failures.joined(separator: "\n")) }
    }
}

/// `pier volume prune`
struct VolumePrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove unused local volumes")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation") var force = false
    @Option(help: "Provide filter values (e.g. 'label=<label>')") var filter: [String] = []

    func run() throws {
        if !force {
            guard Prompt.confirm("WARNING! This will remove all local volumes not used by at least one container.") else { return }
        }
        let filters = try FilterFlags.parse(filter)
        let query = filters.isEmpty ? [] : [("filters", FilterFlags.encode(filters))]
        let report = try call { try daemon.client().json(VolumePruneResponse.self, "POST", "/volumes/prune", query: query) }
        if !report.VolumesDeleted.isEmpty {
            print("Deleted Volumes:")
            for name in report.VolumesDeleted { print(name) }
            print("")
        }
        print("Total reclaimed space: \(Units.humanSize(report.SpaceReclaimed))")
    }
}
