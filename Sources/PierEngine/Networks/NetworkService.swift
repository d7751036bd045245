import Foundation
import Logging
import PierAPI
import PierNetwork
import PierOCI
import PierStore

/// Networks as Docker users see them (`network create/ls/inspect/rm/prune/connect/disconnect`) and
/// the addresses, veth pairs, NAT rules, published ports and DNS of running containers.
///
/// State lives in `<root>/network/state.json` (temp file + rename after every change), so
/// addresses and ports survive a pierd restart. Changes run host tools (`ip`, `nft`), which block:
/// callers are on NIO's thread pool, and one lock serialises changes so the rules rendered from the
/// state always match it.
public final class NetworkService: @unchecked Sendable {
    let file: String
    let logger: Logger
    let defaultBridge: String
    let defaultSubnet: IPv4Subnet?
    let filter: PacketFilter
    let ports = PortReservations()
    let mtu: Int
    /// Deletes the host ends of released veth pairs, off the exit path: deleting a link waits for
    /// an RCU grace period (~15 ms), which `docker run --rm` would otherwise wait for too. The
    /// names are random per endpoint, so a pending delete never meets a new link of its name.
    let linkCleanup = DispatchQueue(label: "pier-link-cleanup", qos: .utility)
    // Guarded by `lock`.
    private let lock = NSRecursiveLock()
    var state: NetworkState
    var servers: [String: EmbeddedDNS] = [:]
    /// The bridges the applied nftables table covers.
    var filteredDevices: Set<String> = []
    /// Bridges this daemon has checked (address, up) since it started: a container start on one
    /// of them runs no `ip` for the bridge.
    var readyDevices: Set<String> = []

    /// `bridge` names the default bridge's device (pierd `--bridge`), `subnet` its subnet (`--bip`);
    /// without one, the first free subnet of Docker's pools is chosen at first use.
    public init(root: String, bridge: String, subnet: String?, logger: Logger) throws(EngineError) {
        let directory = root + "/network"
        file = directory + "/state.json"
        self.logger = logger
        defaultBridge = bridge
        filter = PacketFilter(table: "pier_" + bridge.replacingOccurrences(of: "-", with: "_"))
        mtu = HostLinks.uplinkMTU()
        if let subnet {
            guard let parsed = IPv4Subnet(subnet) else {
                throw EngineError(.invalidArgument, "invalid --bip \(subnet): use an IPv4 CIDR such as 172.18.0.1/16")
            }
            defaultSubnet = parsed
        } else {
            defaultSubnet = nil
        }
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw EngineError(.internalError, "cannot create \(directory): \(error)")
        }
        if let data = FileManager.default.contents(atPath: file),
           let loaded = try? JSONDecoder().decode(NetworkState.self, from: data) {
            state = loaded
        } else {
            state = NetworkState()
        }
        for (name, driver) in [("bridge", "bridge"), ("host", "host"), ("none", "null")]
        where !state.networks.contains(where: { $0.name == name && $0.builtin }) {
            state.networks.append(NetworkRecord(
                id: NetworkService.newID(), name: name, created: Timestamp.now(), driver: driver,
                device: driver == "bridge" ? bridge : "", subnet: nil, gateway: nil, internal: false,
                labels: [:], options: driver == "bridge" ? NetworkService.defaultBridgeOptions(bridge) : [:],
                builtin: true, userSubnet: false))
        }
        if let index = state.networks.firstIndex(where: { $0.name == "bridge" && $0.builtin }) {
            state.networks[index].device = bridge
            if let defaultSubnet, state.networks[index].subnet != defaultSubnet {
                state.networks[index].subnet = defaultSubnet
                state.networks[index].gateway = IPv4Address(defaultSubnet.network.value + 1)
            }
        }
        try? save()
    }

    static func defaultBridgeOptions(_ bridge: String) -> [String: String] {
        ["com.docker.network.bridge.default_bridge": "true", "com.docker.network.bridge.name": bridge,
         "com.docker.network.bridge.enable_ip_masquerade": "true"]
    }

    static func newID() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        return Digest(sha256Bytes: bytes).encoded
    }

    func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    func save() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(state)
        // Temp file + rename, without fsync: the state must survive a crash of pierd (rename is
        // atomic), while after a crash of the machine no container is running and every address
        // is free again anyway. This write is on the path of every `run`.
        try FileSystem.writeAtomically(Array(data), to: file, durable: false)
    }

    func saveOrThrow() throws(EngineError) {
        do { try save() } catch { throw NetworkService.engineError(error) }
    }

    static func engineError(_ error: any Error) -> EngineError {
        switch error {
        case let error as EngineError: return error
        case let error as NetworkError:
            switch error.code {
            case .invalidArgument: return EngineError(.invalidArgument, error.message)
            case .conflict: return EngineError(.conflict, error.message)
            case .host: return EngineError(.internalError, error.message)
            }
        default: return EngineError(.internalError, "\(error)")
        }
    }

    // MARK: lookup

    /// By full ID, name, or unique ID prefix, as Docker resolves a network reference.
    func find(_ reference: String) -> NetworkRecord? {
        locked {
            if let exact = state.networks.first(where: { $0.id == reference }) { return exact }
            if let named = state.networks.first(where: { $0.name == reference }) { return named }
            guard !reference.isEmpty else { return nil }
            let matches = state.networks.filter { $0.id.hasPrefix(reference) }
            return matches.count == 1 ? matches[0] : nil
        }
    }

    func resolve(_ reference: String) throws(EngineError) -> NetworkRecord {
        guard let record = find(reference) else { throw EngineError(.notFound, "network \(reference) not found") }
        return record
    }

    // MARK: network commands

    public func create(_ request: NetworkCreateRequest) throws(EngineError) -> NetworkCreateResponse {
        let name = request.Name
        guard !name.isEmpty, ContainerService.isValidName(name) else {
            throw EngineError(.invalidArgument, "invalid network name \"\(name)\": use [a-zA-Z0-9][a-zA-Z0-9_.-]")
        }
        let driver = request.Driver.flatMap { $0.isEmpty ? nil : $0 } ?? "bridge"
        guard driver == "bridge" else {
            throw EngineError(.invalidArgument, "plugin \"\(driver)\" not found: Pier's networks use the bridge driver")
        }
        if request.EnableIPv6 == true {
            throw EngineError(.invalidArgument, "IPv6 networks are not supported by Pier yet: leave out --ipv6")
        }
        var subnet: IPv4Subnet?
        var gateway: IPv4Address?
        for config in request.IPAM?.Config ?? [] {
            if let text = config.Subnet, !text.isEmpty {
                guard let parsed = IPv4Subnet(text) else {
                    throw EngineError(.invalidArgument, "invalid subnet \(text): use an IPv4 CIDR such as 10.10.0.0/24 (IPv6 is not supported)")
                }
                subnet = parsed
            }
            if let text = config.Gateway, !text.isEmpty {
                guard let parsed = IPv4Address(text) else {
                    throw EngineError(.invalidArgument, "invalid gateway \(text): use an IPv4 address inside the subnet")
                }
                gateway = parsed
            }
        }
        if gateway != nil, subnet == nil {
            throw EngineError(.invalidArgument, "--gateway needs --subnet: give the subnet the gateway belongs to")
        }
        if let gateway, let subnet, !subnet.contains(gateway) || gateway == subnet.network || gateway == subnet.broadcast {
            throw EngineError(.invalidArgument, "no matching subnet for gateway \(gateway): it must be a host address of \(subnet)")
        }
        let id = NetworkService.newID()
        let record: NetworkRecord = try locked { () throws(EngineError) -> NetworkRecord in
            if let existing = state.networks.first(where: { $0.name == name }) {
                throw EngineError(.conflict, "network with name \(name) already exists (\(existing.id.prefix(12))): choose another name or remove it")
            }
            return try SubnetLock.held { () throws(EngineError) -> NetworkRecord in
                let chosen: IPv4Subnet
                if let subnet {
                    if let other = state.networks.first(where: { $0.subnet.map { $0.overlaps(subnet) } ?? false }) {
                        throw EngineError(.conflict, "Pool overlaps with other one on this address space: \(subnet) overlaps "
                                          + "network \(other.name) (\(other.subnet?.description ?? "")); choose another --subnet")
                    }
                    if let route = foreignRoutes().first(where: { $0.overlaps(subnet) }) {
                        throw EngineError(.conflict, "Pool overlaps with other one on this address space: \(subnet) overlaps "
                                          + "the host route \(route); choose another --subnet")
                    }
                    chosen = subnet
                } else {
                    chosen = try freeSubnet()
                }
                var record = NetworkRecord(
                    id: id, name: name, created: Timestamp.now(), driver: "bridge", device: "pbr-" + String(id.prefix(11)),
                    subnet: chosen, gateway: gateway ?? chosen.firstHost, internal: request.Internal ?? false,
                    labels: request.Labels ?? [:], options: request.Options ?? [:], builtin: false, userSubnet: subnet != nil)
                if let device = record.options["com.docker.network.bridge.name"], !device.isEmpty {
                    guard device.count <= 15, !HostLinks.exists(device) else {
                        throw EngineError(.conflict, "bridge device \(device) exists or is longer than 15 characters: choose another name")
                    }
                    record.device = device
                }
                do {
                    try bringUp(record)
                    state.networks.append(record)
                    try applyFilter()
                } catch {
                    readyDevices.remove(record.device)
                    HostLinks.delete(record.device)
                    state.networks.removeAll { $0.id == id }
                    throw NetworkService.engineError(error)
                }
                return record
            }
        }
        try saveOrThrow()
        logger.info("created network", metadata: ["name": "\(name)", "subnet": "\(record.subnet?.description ?? "")"])
        return NetworkCreateResponse(Id: id, Warning: "")
    }

    public func remove(_ reference: String) throws(EngineError) {
        let record = try resolve(reference)
        if record.builtin {
            throw EngineError(.forbidden, "\(record.name) is a pre-defined network and cannot be removed")
        }
        try locked { () throws(EngineError) in
            let users = state.containers.filter { $0.value.endpoints[record.id] != nil }.map(\.key)
            if !users.isEmpty {
                throw EngineError(.forbidden, "error while removing network: network \(record.name) id \(record.id) has active endpoints "
                                  + "(containers \(users.map { String($0.prefix(12)) }.joined(separator: ", "))): stop or disconnect them first")
            }
            servers.removeValue(forKey: record.id)?.stop()
            state.networks.removeAll { $0.id == record.id }
            readyDevices.remove(record.device)
            HostLinks.delete(record.device)
            do { try applyFilter() } catch { logger.warning("cannot update rules", metadata: ["error": "\(error)"]) }
            try saveOrThrow()
        }
        logger.info("removed network", metadata: ["name": "\(record.name)"])
    }

    /// Removes user-defined networks that no container uses (`inUse` names the networks that
    /// containers, running or not, are configured for).
    public func prune(inUse: Set<String>) -> [String] {
        let candidates = locked { state.networks.filter { !$0.builtin && !inUse.contains($0.id) } }
        var deleted: [String] = []
        for record in candidates where (try? remove(record.id)) != nil { deleted.append(record.name) }
        return deleted
    }

    public func list(filters: [String: [String]]) throws(EngineError) -> [NetworkResource] {
        let records = locked { state.networks }
        var result: [NetworkResource] = []
        for record in records {
            var keep = true
            for (key, values) in filters where !values.isEmpty {
                switch key {
                case "name": keep = keep && values.contains { record.name.contains($0) }
                case "id": keep = keep && values.contains { record.id.hasPrefix($0) }
                case "driver": keep = keep && values.contains(record.driver)
                case "type": keep = keep && values.contains(record.builtin ? "builtin" : "custom")
                case "scope": keep = keep && values.contains("local")
                case "label":
                    keep = keep && values.allSatisfy { filter in
                        let parts = filter.split(separator: "=", maxSplits: 1).map(String.init)
                        guard let value = record.labels[parts[0]] else { return false }
                        return parts.count == 1 || value == parts[1]
                    }
                case "dangling":
                    let dangling = values.contains("true") || values.contains("1")
                    let used = locked { state.containers.values.contains { $0.endpoints[record.id] != nil } }
                    keep = keep && !record.builtin && used != dangling
                default:
                    throw EngineError(.invalidArgument, "invalid filter '\(key)'")
                }
            }
            if keep { result.append(resource(record)) }
        }
        return result.sorted { $0.Name < $1.Name }
    }

    public func inspect(_ reference: String) throws(EngineError) -> NetworkResource {
        resource(try resolve(reference))
    }

    func resource(_ record: NetworkRecord) -> NetworkResource {
        let containers: [String: NetworkContainer] = locked {
            var result: [String: NetworkContainer] = [:]
            for (id, networking) in state.containers {
                guard let endpoint = networking.endpoints[record.id], let subnet = record.subnet else { continue }
                result[id] = NetworkContainer(Name: endpoint.containerName, EndpointID: endpoint.endpointID,
                                              MacAddress: HostLinks.macAddress(for: endpoint.address),
                                              IPv4Address: "\(endpoint.address)/\(subnet.prefix)")
            }
            return result
        }
        let config = record.subnet.map { [IPAMConfig(Subnet: $0.description, Gateway: record.gateway?.description)] } ?? []
        return NetworkResource(
            Name: record.name, Id: record.id, Created: record.created, Driver: record.driver,
            IPAM: IPAM(Driver: "default", Config: config, Options: nil), Internal: record.internal,
            Containers: containers, Options: record.options, Labels: record.labels)
    }

    // MARK: host plumbing

    /// Routes on the host that are not those of this daemon's bridges (that exist now).
    func foreignRoutes() -> [IPv4Subnet] {
        let ours = Set(state.networks.filter { $0.isBridge && HostLinks.exists($0.device) }.compactMap(\.subnet))
        return HostLinks.routedSubnets().filter { !ours.contains($0) }
    }

    /// The first subnet of Docker's default pools (172.17–31.0.0/16, then 192.168.0.0/16 in /20s)
    /// that overlaps neither a host route nor another network; 172.17.0.0/16 comes last, as Docker
    /// itself uses it.
    func freeSubnet() throws(EngineError) -> IPv4Subnet {
        var pools = (18...31).map { IPv4Subnet(network: IPv4Address(0xac00_0000 | UInt32($0) << 16), prefix: 16) }
        pools += (0..<16).map { IPv4Subnet(network: IPv4Address(0xc0a8_0000 | UInt32($0) << 12), prefix: 20) }
        pools.append(IPv4Subnet(network: IPv4Address(0xac11_0000), prefix: 16))
        let taken = foreignRoutes() + state.networks.compactMap(\.subnet)
        guard let free = pools.first(where: { pool in !taken.contains { $0.overlaps(pool) } }) else {
            throw EngineError(.conflict, "could not find an available, non-overlapping IPv4 address pool among the defaults "
                              + "to assign to the network: give one with --subnet")
        }
        return free
    }

    /// The bridge device with its address, and the DNS server of a user-defined network.
    func bringUp(_ record: NetworkRecord) throws {
        guard record.isBridge, let subnet = record.subnet, let gateway = record.gateway else { return }
        if !readyDevices.contains(record.device) || !HostLinks.exists(record.device) {
            try HostLinks.ensureBridge(record.device, gateway: gateway, subnet: subnet)
            readyDevices.insert(record.device)
        }
        if !filteredDevices.contains(record.device), state.networks.contains(where: { $0.id == record.id }) { try applyFilter() }
        if !record.builtin, servers[record.id] == nil {
            let networkID = record.id
            do {
                let server = try EmbeddedDNS(address: gateway, upstreams: EmbeddedDNS.hostResolvers(), logger: logger) { [weak self] name, client in
                    self?.lookup(name, network: networkID, client: client)
                }
                server.start()
                servers[record.id] = server
            } catch {
                // Containers still get addresses and routes; only names between them are missing.
                logger.warning("no DNS for network \(record.name): \(error)")
            }
        }
    }

    /// The default bridge's subnet, chosen (and its device made) at first use.
    func readyDefaultBridge() throws -> NetworkRecord {
        guard let index = state.networks.firstIndex(where: { $0.name == "bridge" && $0.builtin }) else {
            throw EngineError(.internalError, "the default bridge network is missing from \(file)")
        }
        // The common case: the bridge is up and checked; no lock, no `ip`.
        if readyDevices.contains(state.networks[index].device), state.networks[index].subnet != nil,
           HostLinks.exists(state.networks[index].device) {
            return state.networks[index]
        }
        try SubnetLock.held { () throws(EngineError) in
            var record = state.networks[index]
            let inUse = state.containers.values.contains { $0.endpoints[record.id] != nil }
            let stale = record.subnet.map { subnet in defaultSubnet == nil && HostLinks.routedSubnets().contains { $0.overlaps(subnet) } }
            if !HostLinks.exists(record.device), !inUse, stale ?? true {
                state.networks[index].subnet = nil
                let subnet = try freeSubnet()
                record.subnet = subnet
                record.gateway = subnet.firstHost
                state.networks[index] = record
            }
            do { try bringUp(state.networks[index]) } catch { throw NetworkService.engineError(error) }
        }
        return state.networks[index]
    }

    func applyFilter() throws {
        let bridges = state.networks.compactMap { record -> PacketFilter.Bridge? in
            guard record.isBridge, let subnet = record.subnet, HostLinks.exists(record.device) else { return nil }
            return PacketFilter.Bridge(device: record.device, subnet: subnet, isInternal: record.internal)
        }
        var forwards: [PacketFilter.Forward] = []
        for networking in state.containers.values {
            guard let primary = primaryEndpoint(networking) else { continue }
            for (key, bindings) in networking.ports {
                let parts = key.split(separator: "/")
                guard let port = Int(parts[0]) else { continue }
                let proto = parts.count > 1 ? String(parts[1]) : "tcp"
                for binding in bindings {
                    let hostIP = IPv4Address(binding.hostIP).flatMap { $0.value == 0 ? nil : $0 }
                    forwards.append(PacketFilter.Forward(proto: proto, hostIP: hostIP, hostPort: binding.hostPort,
                                                         containerIP: primary.address, containerPort: port))
                }
            }
        }
        try filter.apply(bridges: bridges, forwards: forwards)
        filteredDevices = Set(bridges.map(\.device))
    }

    /// The endpoint published ports lead to: the container's first bridge endpoint.
    func primaryEndpoint(_ networking: ContainerNetworking) -> Endpoint? {
        networking.endpoints.values.sorted { $0.interface.count == $1.interface.count ? $0.interface < $1.interface
            : $0.interface.count < $1.interface.count }.first
    }

    /// A container name or alias for the DNS server of a user-defined network: searched on every
    /// user network the asking container is on (found by its address), as Docker's DNS does.
    func lookup(_ name: String, network: String, client: IPv4Address) -> [IPv4Address]? {
        locked {
            let asking = state.containers.values.first { $0.endpoints[network]?.address == client }
            let searched = Set(asking.map { Array($0.endpoints.keys) } ?? [network])
                .filter { id in state.networks.contains { $0.id == id && !$0.builtin } }
            var found: [IPv4Address] = []
            for networkID in searched.sorted() {
                for (id, networking) in state.containers {
                    guard let endpoint = networking.endpoints[networkID] else { continue }
                    let names = [endpoint.containerName.lowercased(), String(id.prefix(12))] + endpoint.aliases.map { $0.lowercased() }
                    if names.contains(name), !found.contains(endpoint.address) { found.append(endpoint.address) }
                }
                if !found.isEmpty { break }
            }
            return found.isEmpty ? nil : found
        }
    }

    // MARK: daemon lifecycle

    /// After pierd starts: keep what running containers hold (ports, bridges, DNS), drop the rest.
    public func restore(running: Set<String>) {
        locked {
            state.containers = state.containers.filter { running.contains($0.key) }
            for networking in state.containers.values {
                for (key, bindings) in networking.ports {
                    let proto = key.split(separator: "/").last.map(String.init) ?? "tcp"
                    for binding in bindings {
                        let hostIP = IPv4Address(binding.hostIP).flatMap { $0.value == 0 ? nil : $0 }
                        _ = try? ports.reserve(.init(proto: proto, hostIP: hostIP, port: binding.hostPort))
                    }
                }
            }
            if !state.containers.isEmpty {
                for record in state.networks where record.isBridge && HostLinks.exists(record.device) {
                    do { try bringUp(record) } catch { logger.warning("cannot restore network", metadata: ["name": "\(record.name)", "error": "\(error)"]) }
                }
                do { try applyFilter() } catch { logger.warning("cannot restore rules", metadata: ["error": "\(error)"]) }
            }
            try? save()
        }
    }

    /// A clean stop of pierd: when no container runs, remove every bridge and rule this daemon
    /// made (the next container makes them again); otherwise leave them for live restore.
    public func shutdown() {
        linkCleanup.sync {}
        locked {
            for server in servers.values { server.stop() }
            servers = [:]
            ports.releaseAll()
            guard state.containers.isEmpty else { return }
            filter.remove()
            filteredDevices = []
            readyDevices = []
            for record in state.networks where record.isBridge { HostLinks.delete(record.device) }
        }
    }
}

/// Serialises subnet choice among all pierd processes on this host (a test suite runs several),
/// so two daemons never pick the same free subnet at the same moment.
enum SubnetLock {
    static func held<T>(_ body: () throws(EngineError) -> T) throws(EngineError) -> T {
        try? FileManager.default.createDirectory(atPath: "/run/pier", withIntermediateDirectories: true)
        let fd = open("/run/pier/subnets.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { flock(fd, LOCK_EX) }
        defer { if fd >= 0 { flock(fd, LOCK_UN); close(fd) } }
        return try body()
    }
}
