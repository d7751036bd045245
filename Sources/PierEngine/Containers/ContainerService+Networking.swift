import Foundation
import PierAPI
import PierNetwork

/// The container side of networking: what `create` checks, what `start` allocates and plumbs,
/// the files a container's resolver reads, and what inspect and `ps` show.
extension ContainerService {
    static func networkRequest(_ config: ContainerCreateRequest, _ host: HostConfig) -> NetworkRequest {
        NetworkRequest(mode: host.NetworkMode ?? "default", endpoints: config.NetworkingConfig?.EndpointsConfig ?? [:],
                       portBindings: host.PortBindings ?? [:], publishAll: host.PublishAllPorts ?? false,
                       exposed: (config.ExposedPorts ?? [:]).keys.sorted())
    }

    /// Checks the network part of a create request; records the user network of `--network NAME`
    /// under its name in `NetworkingConfig`, as Docker stores it.
    func prepareNetworking(_ merged: inout ContainerCreateRequest, _ host: HostConfig) throws(EngineError) {
        let mode = host.NetworkMode ?? "default"
        if mode.hasPrefix("container:") {
            _ = try resolve(String(mode.dropFirst(10)))
            if !(host.PortBindings ?? [:]).isEmpty || host.PublishAllPorts == true {
                throw EngineError(.invalidArgument, "conflicting options: port publishing and the container type network mode")
            }
        }
        if mode == "host", !(host.PortBindings ?? [:]).isEmpty {
            logger.info("published ports are discarded when using host network mode")
        }
        // docker 25+ keys the endpoint of the default network as "default".
        if var endpoints = merged.NetworkingConfig?.EndpointsConfig, let settings = endpoints.removeValue(forKey: "default") {
            if endpoints["bridge"] == nil { endpoints["bridge"] = settings }
            merged.NetworkingConfig = NetworkingConfig(EndpointsConfig: endpoints)
        }
        try networks.validate(ContainerService.networkRequest(merged, host))
        if !["default", "bridge", "none", "host"].contains(mode), !mode.hasPrefix("container:") {
            let record = try networks.resolve(mode)
            var endpoints = merged.NetworkingConfig?.EndpointsConfig ?? [:]
            if endpoints[record.name] == nil {
                endpoints[record.name] = endpoints.removeValue(forKey: mode) ?? EndpointSettings()
            }
            merged.NetworkingConfig = NetworkingConfig(EndpointsConfig: endpoints)
        }
    }

    /// Before the shim starts: addresses and ports, and the container's hosts and resolv.conf.
    func allocateNetworking(_ record: ContainerRecord) throws -> ContainerNetworking? {
        let request = ContainerService.networkRequest(record.config, record.hostConfig)
        let networking = try networks.allocate(containerID: record.id, name: record.name, request)
        try writeResolverFiles(record, networking: networking.endpoints.isEmpty ? nil : networking)
        return networking.endpoints.isEmpty ? nil : networking
    }

    /// Written in place before the shim starts (nothing has them mounted yet), on every start:
    /// the addresses may differ from the last run.
    func writeResolverFiles(_ record: ContainerRecord, networking: ContainerNetworking?) throws {
        let directory = store.directory(record.id)
        let host = record.hostConfig
        let hostname = record.config.Hostname ?? record.shortID
        var hosts = ContainerFiles.hostsHeader
        for entry in host.ExtraHosts ?? [] {
            let parts = entry.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { hosts += "\(parts[1] == "host-gateway" ? hostGateway(networking) : String(parts[1]))\t\(parts[0])\n" }
        }
        let primary = networking.flatMap { networks.primaryEndpoint($0) }
        if let primary { hosts += "\(primary.address)\t\(hostname)\n" }
        try SmallFile.write(hosts, to: directory + "/hosts")

        let hostResolv = SmallFile.read("/etc/resolv.conf")
        let hostLines = hostResolv.split(separator: "\n")
        let searchLine = hostLines.last { $0.hasPrefix("search ") || $0.hasPrefix("domain ") }.map(String.init)
        var search = (host.DnsSearch ?? []).isEmpty ? searchLine.map { [$0] } ?? [] : ["search " + (host.DnsSearch ?? []).joined(separator: " ")]
        search = search.map { $0.hasPrefix("domain ") ? "search " + $0.dropFirst(7) : $0 }
        let options = (host.DnsOptions ?? []).isEmpty ? [] : ["options " + (host.DnsOptions ?? []).joined(separator: " ")]
        var resolv: String
        if let primary, let networking, let networkID = networking.endpoints.first(where: { $0.value.endpointID == primary.endpointID })?.key,
           let network = networks.record(id: networkID), !network.builtin, let gateway = network.gateway {
            // A user-defined network: its embedded DNS (names of the network, then the host's resolvers).
            resolv = "nameserver \(gateway)\n"
            resolv += (search + (options.isEmpty ? ["options ndots:0"] : options)).map { $0 + "\n" }.joined()
            if let dns = host.Dns, !dns.isEmpty {
                logger.info("--dns on a user-defined network: the embedded DNS forwards to the host's resolvers")
            }
        } else if let dns = host.Dns, !dns.isEmpty {
            resolv = dns.map { "nameserver \($0)\n" }.joined() + (search + options).map { $0 + "\n" }.joined()
        } else if networking != nil {
            // The default bridge: the host's resolvers, without loopback ones a container cannot reach.
            resolv = EmbeddedDNS.hostResolvers(resolvConf: hostResolv).map { "nameserver \($0)\n" }.joined() + (search + options).map { $0 + "\n" }.joined()
        } else {
            resolv = hostResolv
        }
        try SmallFile.write(resolv, to: directory + "/resolv.conf")
    }

    /// `--add-host NAME:host-gateway`: the gateway of the container's network.
    func hostGateway(_ networking: ContainerNetworking?) -> String {
        guard let networking, let id = networking.endpoints.keys.sorted().first, let gateway = networks.record(id: id)?.gateway else {
            return "127.0.0.1"
        }
        return gateway.description
    }

    // MARK: what users see

    /// Docker's `NetworkSettings`: per network the address while running, and the ports.
    func networkSettings(_ record: ContainerRecord) -> NetworkSettings {
        let running = record.state.status == .running || record.state.status == .paused
        let networking = running ? networks.networking(record.id) : nil
        var settings = NetworkSettings(Networks: [:])
        let mode = record.hostConfig.NetworkMode ?? "default"
        var names: [String] = []
        if mode == "default" || mode == "bridge" { names.append("bridge") }
        if mode == "host" || mode == "none" { names.append(mode) }
        names += (record.config.NetworkingConfig?.EndpointsConfig ?? [:]).keys.filter { !names.contains($0) }.sorted()
        for name in names {
            guard let network = networks.find(name) else { continue }
            var endpoint = record.config.NetworkingConfig?.EndpointsConfig?[name] ?? EndpointSettings()
            endpoint.NetworkID = network.id
            endpoint.EndpointID = ""
            endpoint.Gateway = ""
            endpoint.IPAddress = ""
            endpoint.IPPrefixLen = 0
            endpoint.MacAddress = ""
            endpoint.IPv6Gateway = ""
            endpoint.GlobalIPv6Address = ""
            endpoint.GlobalIPv6PrefixLen = 0
            if let attached = networking?.endpoints[network.id], let subnet = network.subnet {
                endpoint.EndpointID = attached.endpointID
                endpoint.Gateway = network.gateway?.description ?? ""
                endpoint.IPAddress = attached.address.description
                endpoint.IPPrefixLen = subnet.prefix
                endpoint.MacAddress = HostLinks.macAddress(for: attached.address)
                if !network.builtin {
                    endpoint.Aliases = Array(Set((endpoint.Aliases ?? []) + [record.shortID]))
                        .sorted()
                }
                if network.builtin {
                    settings.IPAddress = attached.address.description
                    settings.IPPrefixLen = subnet.prefix
                    settings.Gateway = endpoint.Gateway ?? ""
                    settings.MacAddress = endpoint.MacAddress ?? ""
                    settings.Bridge = network.device
                }
            }
            settings.Networks[name] = endpoint
        }
        if running, record.state.pid > 0 {
            settings.SandboxKey = "/proc/\(record.state.pid)/ns/net"
            settings.SandboxID = record.id
        }
        var ports: [String: [PortBinding]?] = [:]
        for key in (record.config.ExposedPorts ?? [:]).keys { ports[key] = .some(nil) }
        for key in (record.hostConfig.PortBindings ?? [:]).keys { ports[NetworkService.portKey(key)] = .some(nil) }
        if let networking {
            for (key, published) in networking.ports {
                ports[key] = published.map { PortBinding(HostIp: $0.hostIP, HostPort: String($0.hostPort)) }
            }
        }
        settings.Ports = running ? ports : [:]
        return settings
    }

    /// `ps`'s ports: one row per published binding, and exposed ports not published.
    func portSummaries(_ record: ContainerRecord) -> [PortSummary] {
        let settings = networkSettings(record)
        var rows: [PortSummary] = []
        for (key, bindings) in settings.Ports {
            let parts = key.split(separator: "/")
            guard let port = Int(parts[0]) else { continue }
            let proto = parts.count > 1 ? String(parts[1]) : "tcp"
            if let bindings, !bindings.isEmpty {
                for binding in bindings {
                    rows.append(PortSummary(IP: binding.HostIp, PrivatePort: port, PublicPort: binding.HostPort.flatMap { Int($0) }, Type: proto))
                }
            } else {
                rows.append(PortSummary(IP: nil, PrivatePort: port, PublicPort: nil, Type: proto))
            }
        }
        return rows
    }

    // MARK: connect and disconnect

    public func connect(network reference: String, container: String, settings: EndpointSettings?) throws(EngineError) {
        let network = try networks.resolve(reference)
        let record = try resolve(container)
        guard network.isBridge else {
            throw EngineError(.forbidden, "container cannot be disconnected from host network or connected to host network")
        }
        let mode = record.hostConfig.NetworkMode ?? "default"
        if mode == "host" || mode == "none" || mode.hasPrefix("container:") {
            throw EngineError(.forbidden, "container \(record.name) is using network mode \(mode), which cannot be combined with other networks")
        }
        if record.config.NetworkingConfig?.EndpointsConfig?[network.name] != nil
            || (network.name == "bridge" && (mode == "default" || mode == "bridge")) {
            throw EngineError(.forbidden, "endpoint with name \(record.name) already exists in network \(network.name)")
        }
        var request = ContainerService.networkRequest(record.config, record.hostConfig)
        request.endpoints = [network.name: settings ?? EndpointSettings()]
        request.mode = network.name
        try networks.validate(request)
        if record.state.status == .running {
            try networks.connect(containerID: record.id, name: record.name, network: network, settings: settings, pid: record.state.pid)
        }
        do {
            try store.update(record.id, durable: true) { record in
                var endpoints = record.config.NetworkingConfig?.EndpointsConfig ?? [:]
                var stored = settings ?? EndpointSettings()
                stored.NetworkID = network.id
                endpoints[network.name] = stored
                record.config.NetworkingConfig = NetworkingConfig(EndpointsConfig: endpoints)
            }
        } catch { throw ContainerService.engineError(error) }
    }

    public func disconnect(network reference: String, container: String, force: Bool) throws(EngineError) {
        let network = try networks.resolve(reference)
        guard let record = store.find(container) else {
            if force { return }
            throw EngineError(.notFound, "No such container: \(container)")
        }
        let mode = record.hostConfig.NetworkMode ?? "default"
        let onDefault = network.name == "bridge" && (mode == "default" || mode == "bridge")
        guard record.config.NetworkingConfig?.EndpointsConfig?[network.name] != nil || onDefault else {
            throw EngineError(.forbidden, "container \(record.id) is not connected to network \(network.name)")
        }
        networks.disconnect(containerID: record.id, network: network)
        do {
            try store.update(record.id, durable: true) { record in
                record.config.NetworkingConfig?.EndpointsConfig?.removeValue(forKey: network.name)
                if onDefault || record.hostConfig.NetworkMode == network.name || record.hostConfig.NetworkMode == network.id {
                    let remaining = record.config.NetworkingConfig?.EndpointsConfig?.keys.sorted().first
                    record.hostConfig.NetworkMode = remaining ?? "none"
                }
            }
        } catch { throw ContainerService.engineError(error) }
    }

    /// Networks that containers are configured for (running or not), for `network prune`.
    public func networksInUse() -> Set<String> {
        var used: Set<String> = []
        for record in store.all() {
            for name in (record.config.NetworkingConfig?.EndpointsConfig ?? [:]).keys {
                if let network = networks.find(name) { used.insert(network.id) }
            }
            if let mode = record.hostConfig.NetworkMode, let network = networks.find(mode) { used.insert(network.id) }
        }
        return used
    }
}

/// Plain POSIX reads and writes of the few-hundred-byte files on the path of every `run`
/// (Foundation's String file I/O cost milliseconds here, measured).
enum SmallFile {
    static func read(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func write(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw EngineError(.internalError, "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { throw EngineError(.internalError, "cannot write \(path): \(String(cString: strerror(errno)))") }
            offset += written
        }
    }
}
