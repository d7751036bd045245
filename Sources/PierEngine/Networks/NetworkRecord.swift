import Foundation
import PierNetwork

/// A network pierd knows: the built-in `bridge`, `host` and `none`, and user-defined bridges.
struct NetworkRecord: Codable, Sendable {
    var id: String
    var name: String
    var created: String
    /// `bridge`, `host` or `null` (Docker's driver names).
    var driver: String
    /// The bridge device; empty for `host` and `null`.
    var device: String
    var subnet: IPv4Subnet?
    var gateway: IPv4Address?
    var `internal`: Bool
    var labels: [String: String]
    var options: [String: String]
    var builtin: Bool
    /// Whether the user chose the subnet (Docker allows `--ip` only then).
    var userSubnet: Bool

    var isBridge: Bool { driver == "bridge" }
}

/// A container's place on one network while it runs.
struct Endpoint: Codable, Sendable {
    var endpointID: String
    var containerName: String
    var address: IPv4Address
    var aliases: [String]
    /// The host end of the veth pair, and the interface's name inside the container.
    var hostSide: String
    var interface: String
}

/// What a running container holds: its endpoints (by network ID) and its published ports.
struct ContainerNetworking: Codable, Sendable {
    var endpoints: [String: Endpoint] = [:]
    /// Docker's `NetworkSettings.Ports`: "80/tcp" → the bindings as published (host port chosen).
    var ports: [String: [PublishedPort]] = [:]
    var pid: Int32 = 0
}

struct PublishedPort: Codable, Sendable, Hashable {
    var hostIP: String
    var hostPort: Int
}

/// `<root>/network/state.json`: networks and every allocation, written atomically.
struct NetworkState: Codable, Sendable {
    var networks: [NetworkRecord] = []
    var containers: [String: ContainerNetworking] = [:]
}
