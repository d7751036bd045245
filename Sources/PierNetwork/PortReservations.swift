import Foundation
import Synchronization

/// Host ports held for published container ports. pierd binds (and, for TCP, listens on) each
/// one, as Docker's proxy does, so no other program can take a published port and a port
/// already taken is refused with its holder's name. Traffic itself never reaches these sockets:
/// the DNAT rules of `PacketFilter` send it to the container first.
public final class PortReservations: Sendable {
    public struct Key: Hashable, Sendable {
        public var proto: String
        public var hostIP: IPv4Address?
        public var port: Int
        public init(proto: String, hostIP: IPv4Address?, port: Int) {
            self.proto = proto
            self.hostIP = hostIP
            self.port = port
        }
    }

    let sockets = Mutex<[Key: Int32]>([:])

    public init() {}

    /// Holds `key`'s port; a port of 0 picks a free one in the kernel's ephemeral range. Returns the port held.
    public func reserve(_ key: Key) throws(NetworkError) -> Int {
        if key.port != 0 {
            try hold(key)
            return key.port
        }
        let (low, high) = PortReservations.ephemeralRange()
        let start = Int.random(in: low...high)
        for offset in 0...(high - low) {
            let port = low + (start - low + offset) % (high - low + 1)
            var candidate = key
            candidate.port = port
            if (try? hold(candidate)) != nil { return port }
        }
        throw NetworkError(.conflict, "no free host port left in \(low)-\(high) for a \(key.proto) port")
    }

    public func release(_ key: Key) {
        if let fd = sockets.withLock({ $0.removeValue(forKey: key) }) { close(fd) }
    }

    public func releaseAll() {
        for fd in sockets.withLock({ sockets in defer { sockets = [:] }; return Array(sockets.values) }) { close(fd) }
    }

    func hold(_ key: Key) throws(NetworkError) {
        if sockets.withLock({ $0[key] != nil }) {
            let ip = key.hostIP?.description ?? "0.0.0.0"
            throw NetworkError(.conflict, "Bind for \(ip):\(key.port) failed: port is already allocated; "
                               + "choose another host port with -p HOST_PORT:CONTAINER_PORT")
        }
        let udp = key.proto == "udp"
        let fd = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NetworkError(.host, "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(key.port).bigEndian)
        address.sin_addr = in_addr(s_addr: (key.hostIP?.value ?? 0).bigEndian)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let error = errno
        if bound != 0 || (!udp && listen(fd, 1) != 0) {
            close(fd)
            let ip = key.hostIP?.description ?? "0.0.0.0"
            if error == EADDRINUSE || bound == 0 {
                let holder = PortReservations.holder(proto: key.proto, port: key.port).map { " (held by \($0))" } ?? ""
                throw NetworkError(.conflict, "Bind for \(ip):\(key.port) failed: port is already allocated\(holder); "
                                   + "choose another host port with -p HOST_PORT:CONTAINER_PORT")
            }
            if error == EADDRNOTAVAIL {
                throw NetworkError(.invalidArgument, "cannot publish on \(ip):\(key.port): \(ip) is not an address of this host")
            }
            throw NetworkError(.host, "Bind for \(ip):\(key.port) failed: \(String(cString: strerror(error)))")
        }
        sockets.withLock { $0[key] = fd }
    }

    static func ephemeralRange() -> (Int, Int) {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let numbers = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard numbers.count == 2, numbers[0] > 0, numbers[0] <= numbers[1] else { return (32768, 60999) }
        return (numbers[0], numbers[1])
    }

    /// `name[pid]` of the process that holds a local port, from /proc/net and the processes' descriptors.
    public static func holder(proto: String, port: Int) -> String? {
        var inodes: Set<String> = []
        for file in ["/proc/net/\(proto)", "/proc/net/\(proto)6"] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9, let colon = fields[1].lastIndex(of: ":"),
                      Int(fields[1][fields[1].index(after: colon)...], radix: 16) == port else { continue }
                inodes.insert(String(fields[9]))
            }
        }
        guard !inodes.isEmpty else { return nil }
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for pid in processes where pid.allSatisfy(\.isNumber) {
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            for fd in fds {
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                      target.hasPrefix("socket:["), inodes.contains(String(target.dropFirst(8).dropLast())) else { continue }
                let name = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
                return "\(name)[\(pid)]"
            }
        }
        return "another process"
    }
}
