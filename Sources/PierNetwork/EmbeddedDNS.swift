import Foundation
import Logging
import Synchronization

/// The DNS server of a user-defined network, on its gateway address, port 53 (UDP and TCP). It answers
/// A queries for the names of the network's containers (names, aliases, short IDs) from `lookup`
/// and forwards every other query to the host's resolvers, relaying their answer unchanged.
public final class EmbeddedDNS: Sendable {
    /// The addresses of a name for the client at the given address; nil to forward the query.
    public typealias Lookup = @Sendable (String, IPv4Address) -> [IPv4Address]?

    let fd: Int32
    /// The TCP listener (resolvers retry over TCP when an answer is truncated); -1 when none.
    let tcpFD: Int32
    let address: IPv4Address
    let lookup: Lookup
    let upstreams: [IPv4Address]
    let logger: Logger
    let stopped = Atomic<Bool>(false)

    public init(address: IPv4Address, upstreams: [IPv4Address], logger: Logger, lookup: @escaping Lookup) throws(NetworkError) {
        self.address = address
        self.lookup = lookup
        self.upstreams = upstreams
        self.logger = logger
        let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard udp >= 0 else { throw NetworkError(.host, "socket: \(String(cString: strerror(errno)))") }
        fd = udp
        var one: Int32 = 1
        setsockopt(udp, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var local = EmbeddedDNS.socketAddress(address, port: 53)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(udp, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let message = String(cString: strerror(errno))
            close(udp)
            throw NetworkError(.host, "cannot serve DNS on \(address):53: \(message)")
        }
        var tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if tcp >= 0 {
            setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            let listening = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(tcp, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0 && listen(tcp, 16) == 0
            if !listening {
                close(tcp)
                tcp = -1
            }
        }
        tcpFD = tcp
    }

    /// Serves on a thread of its own until `stop()`.
    public func start() {
        Thread.detachNewThread { [self] in serve() }
        if tcpFD >= 0 { Thread.detachNewThread { [self] in serveTCP() } }
    }

    public func stop() {
        stopped.store(true, ordering: .relaxed)
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        if tcpFD >= 0 {
            shutdown(tcpFD, Int32(SHUT_RDWR))
            close(tcpFD)
        }
    }

    /// DNS over TCP (RFC 1035 §4.2.2: each message after a two-byte length), one thread a connection.
    func serveTCP() {
        while !stopped.load(ordering: .relaxed) {
            var peer = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let connection = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(tcpFD, $0, &length) }
            }
            if connection >= 0 { _ = fcntl(connection, F_SETFD, FD_CLOEXEC) }
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            let client = IPv4Address(UInt32(bigEndian: peer.sin_addr.s_addr))
            Thread.detachNewThread { [self] in
                defer { close(connection) }
                var timeout = timeval(tv_sec: 5, tv_usec: 0)
                setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                while let query = EmbeddedDNS.readMessage(connection) {
                    guard let answer = answerLocally(query, from: client) ?? forwardTCP(query) ?? forward(query),
                          EmbeddedDNS.writeMessage(connection, answer) else { return }
                }
            }
        }
    }

    /// Asks the host's resolvers over TCP; nil when none answers.
    func forwardTCP(_ query: [UInt8]) -> [UInt8]? {
        for upstream in upstreams {
            let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard socketFD >= 0 else { return nil }
            defer { close(socketFD) }
            var timeout = timeval(tv_sec: 3, tv_usec: 0)
            setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(socketFD, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var remote = EmbeddedDNS.socketAddress(upstream, port: 53)
            let connected = withUnsafePointer(to: &remote) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0, EmbeddedDNS.writeMessage(socketFD, query), let answer = EmbeddedDNS.readMessage(socketFD) else { continue }
            return answer
        }
        return nil
    }

    static func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let received = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress.map { $0 + offset }, count - offset, 0) }
            if received < 0, errno == EINTR { continue }
            guard received > 0 else { return nil }
            offset += received
        }
        return bytes
    }

    static func readMessage(_ fd: Int32) -> [UInt8]? {
        guard let prefix = readExactly(fd, 2) else { return nil }
        let length = Int(prefix[0]) << 8 | Int(prefix[1])
        return length == 0 ? nil : readExactly(fd, length)
    }

    static func writeMessage(_ fd: Int32, _ message: [UInt8]) -> Bool {
        let bytes = [UInt8(message.count >> 8 & 0xff), UInt8(message.count & 0xff)] + message
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress.map { $0 + offset }, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0, errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    func serve() {
        var buffer = [UInt8](repeating: 0, count: 1500)
        while !stopped.load(ordering: .relaxed) {
            var peer = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = buffer.withUnsafeMutableBytes { bytes in
                withUnsafeMutablePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, bytes.baseAddress, bytes.count, 0, $0, &length) }
                }
            }
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            let query = Array(buffer[0..<count])
            let client = peer
            if let answer = answerLocally(query, from: IPv4Address(UInt32(bigEndian: client.sin_addr.s_addr))) {
                reply(answer, to: client)
            } else {
                DispatchQueue.global().async { [self] in
                    if let answer = forward(query) { reply(answer, to: client) }
                }
            }
        }
    }

    func reply(_ message: [UInt8], to peer: sockaddr_in) {
        var peer = peer
        _ = message.withUnsafeBytes { bytes in
            withUnsafePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// An answer for a name of this network, or nil to forward the query.
    func answerLocally(_ query: [UInt8], from client: IPv4Address) -> [UInt8]? {
        guard let question = DNSQuestion(query), let addresses = lookup(question.name, client) else { return nil }
        // RFC 1035 §4.1.1: same ID, QR=1, the query's opcode and RD, RA=1, NOERROR.
        var answer = Array(query[0..<2])
        answer += [0x80 | (query[2] & 0x79), 0x80, 0, 1]
        let records = question.type == 1 ? addresses : []
        answer += [UInt8(records.count >> 8), UInt8(records.count & 0xff), 0, 0, 0, 0]
        answer += query[12..<question.end]
        for address in records {
            // A pointer to the name in the question (offset 12), type A, class IN, TTL 600, 4 bytes.
            answer += [0xc0, 12, 0, 1, 0, 1, 0, 0, 0x02, 0x58, 0, 4]
            answer += [UInt8(address.value >> 24), UInt8(address.value >> 16 & 0xff),
                       UInt8(address.value >> 8 & 0xff), UInt8(address.value & 0xff)]
        }
        return answer
    }

    /// Asks the host's resolvers in turn; nil when none answers within two seconds each.
    func forward(_ query: [UInt8]) -> [UInt8]? {
        for upstream in upstreams {
            let socketFD = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard socketFD >= 0 else { return nil }
            defer { close(socketFD) }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var remote = EmbeddedDNS.socketAddress(upstream, port: 53)
            let connected = withUnsafePointer(to: &remote) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0, query.withUnsafeBytes({ send(socketFD, $0.baseAddress, $0.count, 0) }) == query.count else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(socketFD, $0.baseAddress, $0.count, 0) }
            if count > 0 { return Array(buffer[0..<count]) }
        }
        return nil
    }

    static func socketAddress(_ address: IPv4Address, port: UInt16) -> sockaddr_in {
        var result = sockaddr_in()
        result.sin_family = sa_family_t(AF_INET)
        result.sin_port = in_port_t(port.bigEndian)
        result.sin_addr = in_addr(s_addr: address.value.bigEndian)
        return result
    }

    /// The host's resolvers that a container can reach: nameservers of /etc/resolv.conf that are not
    /// on loopback (a stub like systemd-resolved's 127.0.0.53 is not reachable from a container), then
    /// systemd-resolved's upstream list, then public resolvers as Docker does.
    public static func hostResolvers(resolvConf: String? = nil) -> [IPv4Address] {
        for file in ["/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"] {
            let text = file == "/etc/resolv.conf" && resolvConf != nil ? resolvConf ?? ""
                : (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            let servers = text.split(separator: "\n").compactMap { line -> IPv4Address? in
                let fields = line.split(whereSeparator: \.isWhitespace)
                guard fields.count >= 2, fields[0] == "nameserver", let address = IPv4Address(fields[1]),
                      address.value >> 24 != 127 else { return nil }
                return address
            }
            if !servers.isEmpty { return servers }
        }
        return [IPv4Address(0x0808_0808), IPv4Address(0x0808_0404)]
    }
}

/// The first question of a DNS query (RFC 1035 §4.1.2).
struct DNSQuestion {
    var name: String
    var type: UInt16
    /// The offset just past the question.
    var end: Int

    init?(_ message: [UInt8]) {
        guard message.count > 12, message[2] & 0x80 == 0, message[4] == 0, message[5] == 1 else { return nil }
        var offset = 12
        var labels: [String] = []
        while offset < message.count {
            let length = Int(message[offset])
            offset += 1
            if length == 0 { break }
            guard length < 64, offset + length <= message.count else { return nil }
            labels.append(String(decoding: message[offset..<(offset + length)], as: UTF8.self))
            offset += length
        }
        guard offset + 4 <= message.count else { return nil }
        name = labels.joined(separator: ".").lowercased()
        type = UInt16(message[offset]) << 8 | UInt16(message[offset + 1])
        end = offset + 4
    }
}
