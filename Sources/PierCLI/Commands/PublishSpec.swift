import PierAPI

/// `-p/--publish` specs, parsed on the client as docker does: `[IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]`,
/// with port ranges (`8000-8002:80-82`) expanded to one binding per port.
enum PublishSpec {
    struct Binding: Equatable {
        var key: String
        var hostIP: String
        var hostPort: String
    }

    static let usage = "use [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp], e.g. -p 127.0.0.1:8080:80"

    static func parse(_ text: String) throws -> [Binding] {
        func fail(_ reason: String) -> CLIError {
            CLIError("pier: invalid argument \"\(text)\" for \"-p, --publish\" flag: \(reason) (\(usage))", exitCode: 125)
        }
        var rest = Substring(text)
        var proto = "tcp"
        if let slash = rest.lastIndex(of: "/") {
            proto = String(rest[rest.index(after: slash)...]).lowercased()
            rest = rest[..<slash]
            guard ["tcp", "udp", "sctp"].contains(proto) else { throw fail("invalid proto: \(proto)") }
        }
        var ip = ""
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("invalid IP address: \(rest)") }
            ip = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...]
            guard rest.hasPrefix(":") else { throw fail("invalid IP address: [\(ip)]") }
            rest = rest.dropFirst()
        }
        var parts = rest.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if ip.isEmpty, parts.count == 3 { ip = parts.removeFirst() }
        guard !parts.isEmpty, parts.count <= 2 else { throw fail("too many colons") }
        if !ip.isEmpty, !isIPv4(ip), !ip.contains(":") { throw fail("invalid IP address: \(ip)") }
        let containerText = parts[parts.count - 1]
        let hostText = parts.count == 2 ? parts[0] : ""
        guard let container = range(containerText) else { throw fail("invalid containerPort: \(containerText.isEmpty ? "(empty)" : containerText)") }
        var host: ClosedRange<Int>?
        if !hostText.isEmpty {
            guard let parsed = range(hostText) else { throw fail("invalid hostPort: \(hostText)") }
            host = parsed
        }
        if let host, host.count != container.count {
            guard container.count == 1 else {
                throw fail("invalid ranges specified for container and host Ports: \(containerText) and \(hostText)")
            }
            // docker: one container port, a range of host ports: the first free one (here: the first).
            return [Binding(key: "\(container.lowerBound)/\(proto)", hostIP: ip, hostPort: String(host.lowerBound))]
        }
        return container.enumerated().map { offset, port in
            Binding(key: "\(port)/\(proto)", hostIP: ip, hostPort: host.map { String($0.lowerBound + offset) } ?? "")
        }
    }

    static func range(_ text: String) -> ClosedRange<Int>? {
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count <= 2, let low = Int(bounds[0]), let high = Int(bounds.last ?? ""),
              (1...65535).contains(low), (1...65535).contains(high), low <= high else { return nil }
        return low...high
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && UInt8($0) != nil }
    }

    /// `--expose 80` or `--expose 8000-8002/udp` → ExposedPorts keys.
    static func expose(_ text: String) throws -> [String] {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        let proto = parts.count > 1 ? parts[1] : "tcp"
        guard ["tcp", "udp", "sctp"].contains(proto), let ports = range(parts[0]) else {
            throw CLIError("pier: invalid argument \"\(text)\" for \"--expose\" flag: use PORT[-PORT][/PROTO]", exitCode: 125)
        }
        return ports.map { "\($0)/\(proto)" }
    }
}
