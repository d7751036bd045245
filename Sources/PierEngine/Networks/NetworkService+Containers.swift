import Foundation
import PierAPI
import PierNetwork

/// What a container asks of the networks: its mode, endpoints and published ports.
struct NetworkRequest {
    var mode: String
    var endpoints: [String: EndpointSettings]
    var portBindings: [String: [PortBinding]?]
    var publishAll: Bool
    var exposed: [String]
}

extension NetworkService {
    /// The bridge networks a container joins, in order (its mode's network first), with its
    /// settings for each; empty for `none`, `host` and `container:…`.
    func attachments(_ request: NetworkRequest) throws(EngineError) -> [(NetworkRecord, EndpointSettings?)] {
        var result: [(NetworkRecord, EndpointSettings?)] = []
        let mode = request.mode.isEmpty || request.mode == "default" ? "bridge" : request.mode
        if mode == "none" || mode == "host" || mode.hasPrefix("container:") { return [] }
        let primary = try resolve(mode)
        if primary.driver == "host" || primary.driver == "null" { return [] }
        let primarySettings = request.endpoints[mode] ?? request.endpoints[primary.name] ?? request.endpoints[primary.id]
        result.append((primary, primarySettings))
        for (reference, settings) in request.endpoints.sorted(by: { $0.key < $1.key }) {
            let record = try resolve(reference)
            guard record.id != primary.id else { continue }
            guard record.isBridge else {
                throw EngineError(.invalidArgument, "container cannot be connected to network \(record.name) and to \(primary.name) at once")
            }
            result.append((record, settings))
        }
        return result
    }

    /// Checks a create request: the networks exist, `--ip` fits, aliases are on user networks.
    func validate(_ request: NetworkRequest) throws(EngineError) {
        let mode = request.mode.isEmpty ? "default" : request.mode
        if !["default", "bridge", "none", "host"].contains(mode), !mode.hasPrefix("container:") { _ = try resolve(mode) }
        for (record, settings) in try attachments(request) {
            if let text = settings?.IPAMConfig?.IPv4Address, !text.isEmpty {
                guard let address = IPv4Address(text) else {
                    throw EngineError(.invalidArgument, "invalid IPv4 address: \(text)")
                }
                guard record.userSubnet, let subnet = record.subnet, subnet.contains(address) else {
                    throw EngineError(.invalidArgument, "user specified IP address is supported only when connecting to networks with user configured subnets")
                }
            }
            if record.builtin, !(settings?.Aliases ?? []).isEmpty {
                throw EngineError(.invalidArgument, "network-scoped alias is supported only for containers in user defined networks")
            }
        }
        for key in request.portBindings.keys {
            let parts = key.split(separator: "/", omittingEmptySubsequences: false)
            guard let port = Int(parts[0]), (1...65535).contains(port),
                  parts.count == 1 || (parts.count == 2 && ["tcp", "udp", "sctp"].contains(parts[1])) else {
                throw EngineError(.invalidArgument, "invalid port specification: \"\(key)\": use PORT[/tcp|/udp]")
            }
            for binding in request.portBindings[key].flatMap({ $0 }) ?? [] {
                if let ip = binding.HostIp, !ip.isEmpty, IPv4Address(ip) == nil {
                    throw EngineError(.invalidArgument, "invalid IP address \(ip) in port binding \(key): IPv6 is not supported yet")
                }
                if let port = binding.HostPort, !port.isEmpty, Int(port).map({ !(0...65535).contains($0) }) ?? true {
                    throw EngineError(.invalidArgument, "invalid host port \(port) for \(key): use a number from 1 to 65535")
                }
            }
        }
    }

    /// Addresses on each network and the published ports of a starting container, saved before
    /// anything is plumbed, so a crash in between leaves nothing unaccounted for.
    func allocate(containerID: String, name: String, _ request: NetworkRequest) throws(EngineError) -> ContainerNetworking {
        let attachments = try attachments(request)
        return try locked { () throws(EngineError) -> ContainerNetworking in
            releaseLocked(containerID)
            var networking = ContainerNetworking()
            do {
                for (index, (attachment, settings)) in attachments.enumerated() {
                    var record = attachment
                    if record.builtin { record = try readyDefaultBridge() } else { try bringUp(record) }
                    let address = try freeAddress(record, requested: settings?.IPAMConfig?.IPv4Address)
                    networking.endpoints[record.id] = Endpoint(
                        endpointID: NetworkService.newID(), containerName: name, address: address,
                        aliases: settings?.Aliases ?? [], hostSide: "veth" + String(NetworkService.newID().prefix(7)),
                        interface: "eth\(index)")
                    state.containers[containerID] = networking
                }
                if !attachments.isEmpty {
                    networking.ports = try publish(request, containerID: containerID)
                    state.containers[containerID] = networking
                    if !networking.ports.isEmpty { try applyFilter() }
                }
                try save()
            } catch {
                releaseLocked(containerID)
                throw NetworkService.engineError(error)
            }
            return networking
        }
    }

    /// The lowest free host address of the network, or the one asked for with `--ip`.
    func freeAddress(_ record: NetworkRecord, requested: String?) throws -> IPv4Address {
        guard let subnet = record.subnet, let gateway = record.gateway else {
            throw EngineError(.internalError, "network \(record.name) has no subnet")
        }
        let used = Set(state.containers.values.compactMap { $0.endpoints[record.id]?.address })
        if let requested, !requested.isEmpty {
            guard let address = IPv4Address(requested), subnet.contains(address), address != gateway else {
                throw EngineError(.invalidArgument, "invalid --ip \(requested): it must be a free host address of \(subnet)")
            }
            guard !used.contains(address) else {
                throw EngineError(.conflict, "Address already in use: \(address) on network \(record.name); choose another --ip")
            }
            return address
        }
        var candidate = subnet.firstHost.value
        while candidate <= subnet.lastHost.value {
            let address = IPv4Address(candidate)
            if address != gateway, !used.contains(address) { return address }
            candidate += 1
        }
        throw EngineError(.conflict, "no available IPv4 addresses on network \(record.name) (\(subnet))")
    }

    /// Reserves the host ports of `-p` and `-P`; answers Docker's `NetworkSettings.Ports` shape.
    func publish(_ request: NetworkRequest, containerID: String) throws -> [String: [PublishedPort]] {
        var wanted: [String: [PortBinding]] = [:]
        for (key, bindings) in request.portBindings {
            wanted[NetworkService.portKey(key)] = (bindings ?? []).isEmpty ? [PortBinding(HostIp: "", HostPort: "")] : bindings ?? []
        }
        if request.publishAll {
            for key in request.exposed where wanted[NetworkService.portKey(key)] == nil {
                wanted[NetworkService.portKey(key)] = [PortBinding(HostIp: "", HostPort: "")]
            }
        }
        var result: [String: [PublishedPort]] = [:]
        for (key, bindings) in wanted.sorted(by: { $0.key < $1.key }) {
            let proto = key.split(separator: "/").last.map(String.init) ?? "tcp"
            for binding in bindings {
                let ipText = binding.HostIp.flatMap { $0.isEmpty ? nil : $0 } ?? "0.0.0.0"
                let hostIP = IPv4Address(ipText).flatMap { $0.value == 0 ? nil : $0 }
                let port = binding.HostPort.flatMap { Int($0) } ?? 0
                let held: Int
                do {
                    held = try ports.reserve(.init(proto: proto, hostIP: hostIP, port: port))
                } catch {
                    let owner = error.code != .conflict ? nil : state.containers.first { id, networking in
                        id != containerID && networking.ports.values.contains { $0.contains { $0.hostPort == port } }
                    }
                    if let owner, let name = owner.value.endpoints.values.first?.containerName {
                        throw EngineError(.conflict, "Bind for \(ipText):\(port) failed: port is already allocated "
                                          + "(published by container \(name)); choose another host port")
                    }
                    throw error
                }
                result[key, default: []].append(PublishedPort(hostIP: ipText, hostPort: held))
                state.containers[containerID, default: ContainerNetworking()].ports = result
            }
        }
        return result
    }

    static func portKey(_ key: String) -> String { key.contains("/") ? key : key + "/tcp" }

    /// Makes the veth pairs of a container whose process (`pid`) waits in its new network namespace.
    func plumb(containerID: String, pid: Int32) throws(EngineError) {
        try locked { () throws(EngineError) in
            guard var networking = state.containers[containerID] else { return }
            networking.pid = pid
            state.containers[containerID] = networking
            var routed = false
            for (networkID, endpoint) in networking.endpoints.sorted(by: { $0.value.interface < $1.value.interface }) {
                guard let record = state.networks.first(where: { $0.id == networkID }), let subnet = record.subnet else { continue }
                let gateway = routed || record.internal ? nil : record.gateway
                if gateway != nil { routed = true }
                do {
                    try HostLinks.plumb(pid: pid, bridge: record.device, hostSide: endpoint.hostSide, interface: endpoint.interface,
                                        address: endpoint.address, subnet: subnet, gateway: gateway, mtu: mtu)
                } catch {
                    throw EngineError(.internalError, "cannot connect the container to network \(record.name): \(error)")
                }
            }
            try? save()
        }
    }

    /// Frees what a container held: addresses, host ports, rules, veth pairs still present.
    /// Frees a container's addresses, ports and links. `persist: false` leaves the state file
    /// for `persist()` to write later (pierd frees the addresses of containers that are not
    /// running when it starts, should it die in between).
    @discardableResult
    public func release(containerID: String, persist: Bool = true) -> Bool {
        locked {
            guard state.containers[containerID] != nil else { return false }
            releaseLocked(containerID)
            if persist { try? save() }
            return true
        }
    }

    /// Writes the state file (after `release(containerID:persist: false)`).
    public func persist() {
        locked { try? save() }
    }

    func releaseLocked(_ containerID: String) {
        guard let networking = state.containers.removeValue(forKey: containerID) else { return }
        let hostSides = networking.endpoints.values.map(\.hostSide)
        linkCleanup.async { for name in hostSides { HostLinks.delete(name) } }
        for (key, bindings) in networking.ports {
            let proto = key.split(separator: "/").last.map(String.init) ?? "tcp"
            for binding in bindings {
                ports.release(.init(proto: proto, hostIP: IPv4Address(binding.hostIP).flatMap { $0.value == 0 ? nil : $0 },
                                    port: binding.hostPort))
            }
        }
        if !networking.ports.isEmpty {
            do { try applyFilter() } catch { logger.warning("cannot update rules", metadata: ["error": "\(error)"]) }
        }
    }

    func networking(_ containerID: String) -> ContainerNetworking? {
        locked { state.containers[containerID] }
    }

    func record(id: String) -> NetworkRecord? {
        locked { state.networks.first { $0.id == id } }
    }

    /// `network connect` of a running container: an address and a veth pair now.
    func connect(containerID: String, name: String, network: NetworkRecord, settings: EndpointSettings?, pid: Int32) throws(EngineError) {
        try locked { () throws(EngineError) in
            var networking = state.containers[containerID] ?? ContainerNetworking()
            guard networking.endpoints[network.id] == nil else {
                throw EngineError(.forbidden, "endpoint with name \(name) already exists in network \(network.name)")
            }
            do {
                var network = network
                if network.builtin { network = try readyDefaultBridge() } else { try bringUp(network) }
                let address = try freeAddress(network, requested: settings?.IPAMConfig?.IPv4Address)
                let used = Set(networking.endpoints.values.map(\.interface))
                var index = 0
                while used.contains("eth\(index)") { index += 1 }
                let endpoint = Endpoint(endpointID: NetworkService.newID(), containerName: name, address: address,
                                        aliases: settings?.Aliases ?? [], hostSide: "veth" + String(NetworkService.newID().prefix(7)),
                                        interface: "eth\(index)")
                guard let subnet = network.subnet else { throw EngineError(.internalError, "network \(network.name) has no subnet") }
                // The first network keeps the default route; a later one only adds its subnet.
                let routed = !networking.endpoints.isEmpty
                try HostLinks.plumb(pid: pid, bridge: network.device, hostSide: endpoint.hostSide, interface: endpoint.interface,
                                    address: address, subnet: subnet, gateway: routed || network.internal ? nil : network.gateway, mtu: mtu)
                networking.endpoints[network.id] = endpoint
                networking.pid = pid
                state.containers[containerID] = networking
                try save()
            } catch {
                throw NetworkService.engineError(error)
            }
        }
    }

    /// `network disconnect` of a running container: its veth pair on that network goes.
    func disconnect(containerID: String, network: NetworkRecord) {
        locked {
            guard let endpoint = state.containers[containerID]?.endpoints.removeValue(forKey: network.id) else { return }
            HostLinks.delete(endpoint.hostSide)
            try? save()
        }
    }
}
