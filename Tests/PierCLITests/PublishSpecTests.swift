import PierAPI
import Testing
@testable import PierCLI

@Suite struct PublishSpecTests {
    struct Case: Sendable, CustomStringConvertible {
        let spec: String
        /// key, host IP, host port per binding; nil when the spec is invalid.
        let bindings: [[String]]?
        var description: String { spec }
    }

    @Test(arguments: [
        Case(spec: "8080:80", bindings: [["80/tcp", "", "8080"]]),
        Case(spec: "127.0.0.1:18080:80", bindings: [["80/tcp", "127.0.0.1", "18080"]]),
        Case(spec: "127.0.0.1::80", bindings: [["80/tcp", "127.0.0.1", ""]]),
        Case(spec: "5353:53/udp", bindings: [["53/udp", "", "5353"]]),
        Case(spec: "80", bindings: [["80/tcp", "", ""]]),
        Case(spec: "8000-8001:80-81", bindings: [["80/tcp", "", "8000"], ["81/tcp", "", "8001"]]),
        Case(spec: "[::1]:8080:80", bindings: [["80/tcp", "::1", "8080"]]),
        Case(spec: "abc:80", bindings: nil),
        Case(spec: "80:xyz", bindings: nil),
        Case(spec: "1.2.3:80:80", bindings: nil),
        Case(spec: "80/quic", bindings: nil),
        Case(spec: "70000:80", bindings: nil),
        Case(spec: "1:2:3:4", bindings: nil),
        Case(spec: "8000-8002:80-81", bindings: nil),
    ])
    func parses(_ item: Case) {
        let parsed = try? PublishSpec.parse(item.spec)
        #expect(parsed?.map { [$0.key, $0.hostIP, $0.hostPort] } == item.bindings)
    }

    @Test func portsColumnMatchesDocker() {
        let ports = [
            PortSummary(IP: "0.0.0.0", PrivatePort: 80, PublicPort: 8080, Type: "tcp"),
            PortSummary(IP: nil, PrivatePort: 443, PublicPort: nil, Type: "tcp"),
            PortSummary(IP: "127.0.0.1", PrivatePort: 9000, PublicPort: 19000, Type: "tcp"),
            PortSummary(IP: "127.0.0.1", PrivatePort: 9001, PublicPort: 19001, Type: "tcp"),
            PortSummary(IP: "0.0.0.0", PrivatePort: 53, PublicPort: 5353, Type: "udp"),
        ]
        #expect(PortText.column(ports) == "0.0.0.0:5353->53/udp, 0.0.0.0:8080->80/tcp, 443/tcp, 127.0.0.1:19000-19001->9000-9001/tcp")
    }
}
