import Testing
@testable import PierNetwork

@Suite struct IPv4Tests {
    struct SubnetCase: Sendable {
        let text: String
        let normalized: String?
        let first: String
        let last: String
    }

    @Test(arguments: [
        SubnetCase(text: "172.18.0.0/16", normalized: "172.18.0.0/16", first: "172.18.0.1", last: "172.18.255.254"),
        SubnetCase(text: "10.1.2.3/24", normalized: "10.1.2.0/24", first: "10.1.2.1", last: "10.1.2.254"),
        SubnetCase(text: "192.168.16.0/20", normalized: "192.168.16.0/20", first: "192.168.16.1", last: "192.168.31.254"),
        SubnetCase(text: "10.0.0.300/24", normalized: nil, first: "", last: ""),
        SubnetCase(text: "10.0.0.0", normalized: nil, first: "", last: ""),
        SubnetCase(text: "10.0.0.0/31", normalized: nil, first: "", last: ""),
        SubnetCase(text: "fd00::/64", normalized: nil, first: "", last: ""),
    ])
    func parsesSubnets(_ item: SubnetCase) {
        let subnet = IPv4Subnet(item.text)
        #expect(subnet?.description == item.normalized)
        if let subnet {
            #expect(subnet.firstHost.description == item.first)
            #expect(subnet.lastHost.description == item.last)
        }
    }

    @Test func overlaps() throws {
        let a = try #require(IPv4Subnet("10.231.0.0/24"))
        #expect(a.overlaps(try #require(IPv4Subnet("10.231.0.128/25"))))
        #expect(a.overlaps(try #require(IPv4Subnet("10.0.0.0/8"))))
        #expect(!a.overlaps(try #require(IPv4Subnet("10.231.1.0/24"))))
        #expect(a.contains(try #require(IPv4Address("10.231.0.77"))))
        #expect(!a.contains(try #require(IPv4Address("10.231.1.1"))))
    }

    @Test func macAddressFollowsDocker() throws {
        #expect(HostLinks.macAddress(for: try #require(IPv4Address("172.17.0.2"))) == "02:42:ac:11:00:02")
    }
}

@Suite struct PacketFilterTests {
    @Test func rendersNATIsolationAndPorts() throws {
        let filter = PacketFilter(table: "pier_t0")
        let text = filter.render(
            bridges: [.init(device: "t0", subnet: try #require(IPv4Subnet("172.18.0.0/16")), isInternal: false),
                      .init(device: "pbr-1", subnet: try #require(IPv4Subnet("10.9.0.0/24")), isInternal: true)],
            forwards: [.init(proto: "tcp", hostIP: IPv4Address("127.0.0.1"), hostPort: 8080,
                             containerIP: try #require(IPv4Address("172.18.0.2")), containerPort: 80),
                       .init(proto: "udp", hostIP: nil, hostPort: 5353, containerIP: try #require(IPv4Address("172.18.0.2")),
                             containerPort: 53)])
        #expect(text.hasPrefix("table ip pier_t0\ndelete table ip pier_t0\n"))
        #expect(text.contains("    ip daddr 127.0.0.1 tcp dport 8080 dnat to 172.18.0.2:80\n"))
        #expect(text.contains("    udp dport 5353 dnat to 172.18.0.2:53\n"))
        #expect(text.contains("    ip saddr 172.18.0.0/16 oifname != \"t0\" masquerade\n"))
        #expect(!text.contains("ip saddr 10.9.0.0/24 oifname != \"pbr-1\" masquerade"))
        #expect(text.contains("    iifname \"pbr-1\" oifname != \"pbr-1\" drop\n"))
        #expect(text.contains("    iifname \"t0\" oifname \"pbr-1\" drop\n"))
        #expect(text.contains("    iifname \"pbr-1\" oifname \"t0\" drop\n"))
    }
}

@Suite struct DNSTests {
    /// A query for `db.` type A, ID 0x1234, recursion desired.
    static let query: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0x64, 0x62, 0, 0, 1, 0, 1]

    @Test func parsesTheQuestion() throws {
        let question = try #require(DNSQuestion(DNSTests.query))
        #expect(question.name == "db")
        #expect(question.type == 1)
        #expect(question.end == DNSTests.query.count)
        #expect(DNSQuestion(Array(DNSTests.query.prefix(14))) == nil)
    }
}
