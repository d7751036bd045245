import Foundation

/// The host's links and routes, changed through iproute2's `ip` (one `ip -batch` per side of a
/// veth pair, so a container costs two short processes; see docs/networking.md for the figures).
public enum HostLinks {
    public static func exists(_ name: String) -> Bool {
        access("/sys/class/net/\(name)", F_OK) == 0
    }

    /// Makes the bridge with its gateway address unless it is there, brings it up, and lets it carry
    /// traffic DNAT'ed from 127.0.0.1 (`route_localnet`), which published ports on loopback need.
    public static func ensureBridge(_ name: String, gateway: IPv4Address, subnet: IPv4Subnet) throws(NetworkError) {
        if !exists(name) {
            try HostCommand.run("ip", ["-batch", "-"], input: """
            link add \(name) type bridge
            addr add \(gateway)/\(subnet.prefix) dev \(name)
            link set \(name) up

            """)
        } else {
            let addresses = (try? HostCommand.run("ip", ["-4", "-o", "addr", "show", "dev", name])) ?? ""
            if !addresses.contains(" \(gateway)/\(subnet.prefix) ") {
                try HostCommand.run("ip", ["addr", "add", "\(gateway)/\(subnet.prefix)", "dev", name])
            }
            try HostCommand.run("ip", ["link", "set", name, "up"])
        }
        writeSysctl("net/ipv4/conf/\(name)/route_localnet", "1")
        writeSysctl("net/ipv4/ip_forward", "1")
    }

    public static func delete(_ name: String) {
        guard exists(name) else { return }
        _ = try? HostCommand.run("ip", ["link", "del", name])
    }

    /// One end of a new veth pair on `bridge`, the other as `interface` in the network namespace
    /// of `pid`, with its address, its MAC, and (when `gateway` is given) the default route.
    public static func plumb(pid: Int32, bridge: String, hostSide: String, interface: String, address: IPv4Address,
                             subnet: IPv4Subnet, gateway: IPv4Address?, mtu: Int) throws(NetworkError) {
        let mac = macAddress(for: address)
        try HostCommand.run("ip", ["-batch", "-"], input: """
        link add \(hostSide) mtu \(mtu) type veth peer name \(interface) mtu \(mtu) address \(mac) netns \(pid)
        link set \(hostSide) master \(bridge) up

        """)
        var inside = """
        addr add \(address)/\(subnet.prefix) dev \(interface)
        link set \(interface) up

        """
        if let gateway { inside += "route add default via \(gateway) dev \(interface)\n" }
        do {
            try HostCommand.run("nsenter", ["--net=/proc/\(pid)/ns/net", HostCommand.path("ip"), "-batch", "-"], input: inside)
        } catch {
            delete(hostSide)
            throw error
        }
    }

    /// Docker's convention: 02:42 followed by the four bytes of the address.
    public static func macAddress(for address: IPv4Address) -> String {
        let bytes = [2, 0x42, address.value >> 24, address.value >> 16 & 0xff, address.value >> 8 & 0xff, address.value & 0xff]
        return bytes.map { String(format: "%02x", $0) }.joined(separator: ":")
    }

    /// The IPv4 routes of the host (destination networks), from /proc/net/route.
    public static func routedSubnets() -> [IPv4Subnet] {
        guard let text = try? String(contentsOfFile: "/proc/net/route", encoding: .utf8) else { return [] }
        var subnets: [IPv4Subnet] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count > 7, let destination = UInt32(fields[1], radix: 16), let mask = UInt32(fields[7], radix: 16),
                  mask != 0 else { continue }
            // /proc/net/route prints addresses in host (little-endian) byte order.
            let network = IPv4Address(destination.byteSwapped)
            subnets.append(IPv4Subnet(network: network, prefix: mask.nonzeroBitCount))
        }
        return subnets
    }

    /// The MTU of the interface that carries the default route (containers use it, so large
    /// packets are not dropped on links below 1500 bytes).
    public static func uplinkMTU() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/net/route", encoding: .utf8) else { return 1500 }
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count > 7, fields[1] == "00000000", fields[7] == "00000000" else { continue }
            if let mtu = (try? String(contentsOfFile: "/sys/class/net/\(fields[0])/mtu", encoding: .utf8))
                .flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
                return mtu
            }
        }
        return 1500
    }

    static func writeSysctl(_ key: String, _ value: String) {
        let fd = open("/proc/sys/" + key, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = value.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }
}
