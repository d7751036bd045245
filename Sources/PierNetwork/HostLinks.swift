import CNetlink
import Foundation

/// The host's links and routes. Bridges (rare) are made with iproute2's `ip`; the veth pair of each
/// container is made and configured with rtnetlink from this process (`CNetlink`), since two `ip`
/// processes per container cost more than the 5 ms budget (see docs/networking.md).
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
        if pier_link_delete(name) < 0 { _ = try? HostCommand.run("ip", ["link", "del", name]) }
    }

    /// One end of a new veth pair on `bridge`, the other as `interface` in the network namespace
    /// of `pid`, with its address, its MAC, and (when `gateway` is given) the default route.
    public static func plumb(pid: Int32, bridge: String, hostSide: String, interface: String, address: IPv4Address,
                             subnet: IPv4Subnet, gateway: IPv4Address?, mtu: Int) throws(NetworkError) {
        let netns = open("/proc/\(pid)/ns/net", O_RDONLY | O_CLOEXEC)
        guard netns >= 0 else {
            throw NetworkError(.host, "cannot open the network namespace of process \(pid): \(String(cString: strerror(errno)))")
        }
        defer { close(netns) }
        let master = if_nametoindex(bridge)
        guard master != 0 else { throw NetworkError(.host, "bridge \(bridge) does not exist") }
        let mac: [UInt8] = [2, 0x42, UInt8(address.value >> 24), UInt8(address.value >> 16 & 0xff),
                            UInt8(address.value >> 8 & 0xff), UInt8(address.value & 0xff)]
        let created = pier_veth_create(hostSide, interface, UInt32(mtu), mac, netns, Int32(master))
        guard created == 0 else {
            throw NetworkError(.host, "cannot create the veth pair \(hostSide)/\(interface) on \(bridge): \(String(cString: strerror(-created)))")
        }
        let configured = pier_netns_configure(netns, interface, address.value.bigEndian, Int32(subnet.prefix),
                                              gateway?.value.bigEndian ?? 0)
        guard configured == 0 else {
            delete(hostSide)
            throw NetworkError(.host, "cannot configure \(interface) (\(address)/\(subnet.prefix)) in the container: "
                               + String(cString: strerror(-configured)))
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
