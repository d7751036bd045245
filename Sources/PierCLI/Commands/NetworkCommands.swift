import ArgumentParser
import Foundation
import PierAPI
import PierClient

/// `pier network ...`
struct NetworkGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network", abstract: "Manage networks",
        subcommands: [NetworkCreate.self, NetworkLs.self, NetworkInspect.self, NetworkRm.self, NetworkPrune.self,
                      NetworkConnect.self, NetworkDisconnect.self])
}

/// `pier network create [--subnet] [--gateway] [--internal] [--label] NAME`
struct NetworkCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a network")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Driver to manage the Network") var driver: String = "bridge"
    @Option(help: "Subnet in CIDR format that represents a network segment") var subnet: [String] = []
    @Option(help: "IPv4 Gateway for the master subnet") var gateway: [String] = []
    @Flag(help: "Restrict external access to the network") var `internal` = false
    @Flag(help: "Enable manual container attachment") var attachable = false
    @Flag(help: "Enable IPv6 networking") var ipv6 = false
    @Option(help: "Set metadata on a network") var label: [String] = []
    @Option(name: .shortAndLong, help: "Set driver specific options") var opt: [String] = []
    @Argument(help: "NETWORK") var name: String

    func run() throws {
        guard gateway.count <= max(subnet.count, 1) else {
            throw CLIError("every --gateway needs a --subnet: give --subnet CIDR before --gateway", exitCode: 1)
        }
        var request = NetworkCreateRequest(Name: name)
        request.CheckDuplicate = true
        request.Driver = driver
        request.Internal = `internal`
        request.Attachable = attachable
        request.EnableIPv6 = ipv6
        request.Labels = KeyValues.parse(label)
        request.Options = KeyValues.parse(opt)
        if !subnet.isEmpty {
            request.IPAM = IPAM(Driver: "default", Config: subnet.enumerated().map { index, text in
                IPAMConfig(Subnet: text, Gateway: index < gateway.count ? gateway[index] : nil)
            }, Options: [:])
        }
        let client = try call { try daemon.client() }
        let response = try call {
            try client.json(NetworkCreateResponse.self, "POST", "/networks/create", body: EngineClient.jsonBody(request))
        }
        print(response.Id)
    }
}

/// `pier network ls`
struct NetworkLs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List networks", aliases: ["list"])
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Provide filter values (e.g. 'driver=bridge')") var filter: [String] = []
    @Option(help: "Format output using a custom template") var format: String?
    @Flag(name: .shortAndLong, help: "Only display network IDs") var quiet = false
    @Flag(name: .customLong("no-trunc"), help: "Do not truncate the output") var noTrunc = false

    func run() throws {
        let filters = try FilterFlags.parse(filter)
        let query = filters.isEmpty ? [] : [("filters", FilterFlags.encode(filters))]
        let networks = try call { try daemon.client().json([NetworkResource].self, "GET", "/networks", query: query) }
        if quiet {
            for network in networks { print(noTrunc ? network.Id : String(network.Id.prefix(12))) }
            return
        }
        let rows: [JSONValue] = networks.map { network in
            .object([
                ("CreatedAt", .string(network.Created)),
                ("Driver", .string(network.Driver)),
                ("ID", .string(noTrunc ? network.Id : String(network.Id.prefix(12)))),
                ("IPv6", .string(network.EnableIPv6 ? "true" : "false")),
                ("Internal", .string(network.Internal ? "true" : "false")),
                ("Labels", .string(network.Labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))),
                ("Name", .string(network.Name)),
                ("Scope", .string(network.Scope)),
            ])
        }
        try Listing.print(rows: rows, format: format == "table" ? nil : format,
                          defaultTable: "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
                          titles: ["ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "IPv6": "IPV6",
                                   "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT"])
    }
}

/// `pier network inspect NETWORK...`
struct NetworkInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect",
                                                    abstract: "Display detailed information on one or more networks")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Format output using a custom template") var format: String?
    @Argument(help: "NETWORK") var networks: [String]

    func run() throws {
        try InspectDocuments.print(try call { try daemon.client() }, paths: networks.map { "/networks/\($0)" }, format: format)
    }
}

/// `pier network rm NETWORK...`
struct NetworkRm: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more networks",
                                                    aliases: ["remove"])
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Do not error if the network does not exist") var force = false
    @Argument(help: "NETWORK") var networks: [String]

    func run() throws {
        let client = try call { try daemon.client() }
        var failures: [String] = []
        for network in networks {
            do {
                try client.call("DELETE", "/networks/\(network)")
                print(network)
            } catch let error as ClientError {
                if force, error.status == 404 { continue }
                failures.append(CLIError.daemon(error).message)
            }
        }
        if !failures.isEmpty { throw CLIError(failures.joined(separator: "\n")) }
    }
}

/// `pier network prune`
struct NetworkPrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove all unused networks")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation") var force = false
    @Option(help: "Provide filter values (e.g. 'until=<timestamp>')") var filter: [String] = []

    func run() throws {
        if !force {
            guard Prompt.confirm("WARNING! This will remove all custom networks not used by at least one container.") else { return }
        }
        let report = try call { try daemon.client().json(NetworkPruneResponse.self, "POST", "/networks/prune") }
        if !report.NetworksDeleted.isEmpty {
            print("Deleted Networks:")
            for name in report.NetworksDeleted { print(name) }
        }
    }
}

/// `pier network connect [--alias] [--ip] NETWORK CONTAINER`
struct NetworkConnect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "connect", abstract: "Connect a container to a network")
    @OptionGroup var daemon: DaemonOptions
    @Option(help: "Add network-scoped alias for the container") var alias: [String] = []
    @Option(help: "IPv4 address (e.g., \"172.30.100.104\")") var ip: String?
    @Argument(help: "NETWORK") var network: String
    @Argument(help: "CONTAINER") var container: String

    func run() throws {
        let endpoint = EndpointSettings.request(aliases: alias, ipv4Address: ip)
        let request = NetworkConnectRequest(Container: container, EndpointConfig: endpoint)
        try call { try daemon.client().call("POST", "/networks/\(network)/connect", body: EngineClient.jsonBody(request)) }
    }
}

/// `pier network disconnect [-f] NETWORK CONTAINER`
struct NetworkDisconnect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disconnect", abstract: "Disconnect a container from a network")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Force the container to disconnect from a network") var force = false
    @Argument(help: "NETWORK") var network: String
    @Argument(help: "CONTAINER") var container: String

    func run() throws {
        let request = NetworkDisconnectRequest(Container: container, Force: force)
        try call { try daemon.client().call("POST", "/networks/\(network)/disconnect", body: EngineClient.jsonBody(request)) }
    }
}

/// `pier port CONTAINER [PRIVATE_PORT[/PROTO]]`
struct PortCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "port",
                                                    abstract: "List port mappings or a specific mapping for the container")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "CONTAINER") var container: String
    @Argument(help: "PRIVATE_PORT[/PROTO]") var port: String?

    func run() throws {
        let info = try call { try daemon.client().json(ContainerInspect.self, "GET", "/containers/\(container)/json") }
        let ports = info.NetworkSettings.Ports
        if let port {
            let key = port.contains("/") ? port : port + "/tcp"
            guard let bindings = ports[key] ?? nil, !bindings.isEmpty else {
                throw CLIError("Error: No public port '\(key)' published for \(container)", exitCode: 1)
            }
            for binding in bindings { print("\(binding.HostIp ?? "0.0.0.0"):\(binding.HostPort ?? "")") }
            return
        }
        for key in ports.keys.sorted(by: PortText.keyOrder) {
            for binding in (ports[key] ?? nil) ?? [] {
                print("\(key) -> \(binding.HostIp ?? "0.0.0.0"):\(binding.HostPort ?? "")")
            }
        }
    }
}

/// Docker's text for ports: `ps`'s PORTS column and the order of `port`.
enum PortText {
    static func keyOrder(_ a: String, _ b: String) -> Bool {
        let pa = Int(a.split(separator: "/")[0]) ?? 0, pb = Int(b.split(separator: "/")[0]) ?? 0
        return pa == pb ? a < b : pa < pb
    }

    /// `0.0.0.0:8080->80/tcp, 443/tcp`, as docker's `ps` prints it: ports sorted by container port,
    /// grouped by host address and protocol in order of first appearance, consecutive ports with
    /// consecutive host ports written as ranges.
    static func column(_ ports: [PortSummary]) -> String {
        let sorted = ports.sorted {
            ($0.PrivatePort, $0.Type, $0.IP ?? "", $0.PublicPort ?? 0) < ($1.PrivatePort, $1.Type, $1.IP ?? "", $1.PublicPort ?? 0)
        }
        var order: [String] = []
        var groups: [String: [PortSummary]] = [:]
        for port in sorted {
            let key = (port.IP ?? "").isEmpty ? port.Type : "\(port.IP ?? "")/\(port.Type)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(port)
        }
        func range(_ start: Int, _ end: Int) -> String { start == end ? "\(start)" : "\(start)-\(end)" }
        var text: [String] = []
        for key in order {
            var runs: [(PortSummary, PortSummary)] = []
            for port in groups[key] ?? [] {
                if let last = runs.last, last.1.PrivatePort + 1 == port.PrivatePort,
                   (last.1.PublicPort == nil && port.PublicPort == nil) || last.1.PublicPort.map({ $0 + 1 }) == port.PublicPort {
                    runs[runs.count - 1].1 = port
                } else {
                    runs.append((port, port))
                }
            }
            for (first, last) in runs {
                let inside = range(first.PrivatePort, last.PrivatePort) + "/" + first.Type
                guard let publicStart = first.PublicPort, let publicEnd = last.PublicPort else {
                    text.append(inside)
                    continue
                }
                let ip = first.IP ?? "0.0.0.0"
                text.append("\(ip.contains(":") ? "[\(ip)]" : ip):\(range(publicStart, publicEnd))->\(inside)")
            }
        }
        return text.joined(separator: ", ")
    }
}

/// `KEY=VALUE` flags (`--label`, `--opt`) → a dictionary.
enum KeyValues {
    static func parse(_ items: [String]) -> [String: String] {
        Dictionary(items.map { item -> (String, String) in
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }, uniquingKeysWith: { $1 })
    }
}

/// `inspect` of networks and volumes: the JSON documents as docker prints them, errors after.
enum InspectDocuments {
    static func print(_ client: EngineClient, paths: [String], format: String?) throws {
        var documents: [[UInt8]] = []
        var failures: [String] = []
        for path in paths {
            do {
                let response = try client.send("GET", path)
                let bytes = try response.readAll()
                try response.throwIfError(bytes)
                documents.append(bytes)
            } catch let error as ClientError {
                failures.append(CLIError.daemon(error).message)
            }
        }
        if !documents.isEmpty || failures.isEmpty { try InspectOutput.print(documents, format: format) }
        if !failures.isEmpty {
            if documents.isEmpty && format == nil { Swift.print("[]") }
            throw CLIError(failures.joined(separator: "\n"))
        }
    }
}
