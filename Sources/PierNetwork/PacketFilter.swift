/// The kernel rules of one pierd, kept in one nftables table of its own (`ip pier_<bridge>`):
/// outbound NAT, isolation between networks, and published ports (DNAT). The whole table is
/// rendered from state and replaced in one `nft -f` transaction, so the rules are never half
/// applied, and removing the table removes every rule pierd made.
public struct PacketFilter: Sendable {
    public struct Bridge: Sendable, Hashable {
        public var device: String
        public var subnet: IPv4Subnet
        /// `--internal`: no way out of the network.
        public var isInternal: Bool
        public init(device: String, subnet: IPv4Subnet, isInternal: Bool) {
            self.device = device
            self.subnet = subnet
            self.isInternal = isInternal
        }
    }

    /// A published port: traffic to `hostIP:hostPort` (any local address when nil) goes to the container.
    public struct Forward: Sendable, Hashable {
        public var proto: String
        public var hostIP: IPv4Address?
        public var hostPort: Int
        public var containerIP: IPv4Address
        public var containerPort: Int
        public init(proto: String, hostIP: IPv4Address?, hostPort: Int, containerIP: IPv4Address, containerPort: Int) {
            self.proto = proto
            self.hostIP = hostIP
            self.hostPort = hostPort
            self.containerIP = containerIP
            self.containerPort = containerPort
        }
    }

    public let table: String

    public init(table: String) { self.table = table }

    public func render(bridges: [Bridge], forwards: [Forward]) -> String {
        var text = "table ip \(table)\ndelete table ip \(table)\ntable ip \(table) {\n"
        text += "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n"
        text += "    fib daddr type local jump ports\n  }\n"
        text += "  chain output {\n    type nat hook output priority -100; policy accept;\n"
        text += "    fib daddr type local jump ports\n  }\n"
        text += "  chain ports {\n"
        for forward in forwards.sorted(by: { ($0.hostPort, $0.proto) < ($1.hostPort, $1.proto) }) {
            let destination = forward.hostIP.map { "ip daddr \($0) " } ?? ""
            text += "    \(destination)\(forward.proto) dport \(forward.hostPort) dnat to \(forward.containerIP):\(forward.containerPort)\n"
        }
        text += "  }\n"
        text += "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n"
        for bridge in bridges {
            let device = "\"\(bridge.device)\""
            // Loopback clients of a published port: the reply must come back through the host.
            text += "    oifname \(device) ip saddr 127.0.0.0/8 masquerade\n"
            // A container reaching its own published port through a host address (hairpin).
            text += "    oifname \(device) ip saddr \(bridge.subnet) ct status dnat masquerade\n"
            if !bridge.isInternal {
                text += "    ip saddr \(bridge.subnet) oifname != \(device) masquerade\n"
            }
        }
        text += "  }\n"
        text += "  chain forward {\n    type filter hook forward priority filter; policy accept;\n"
        for bridge in bridges {
            let device = "\"\(bridge.device)\""
            if bridge.isInternal {
                text += "    iifname \(device) oifname != \(device) drop\n"
                text += "    oifname \(device) iifname != \(device) drop\n"
            }
            for other in bridges where other.device != bridge.device {
                text += "    iifname \(device) oifname \"\(other.device)\" drop\n"
            }
        }
        text += "  }\n}\n"
        return text
    }

    public func apply(bridges: [Bridge], forwards: [Forward]) throws(NetworkError) {
        try HostCommand.run("nft", ["-f", "-"], input: render(bridges: bridges, forwards: forwards))
    }

    /// Removes every rule this daemon made.
    public func remove() {
        _ = try? HostCommand.run("nft", ["delete", "table", "ip", table])
    }
}
