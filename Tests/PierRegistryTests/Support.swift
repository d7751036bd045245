import Foundation
import PierOCI
import PierRegistry
import Testing

/// A registry server in this process on a free loopback port, with its own storage directory.
final class TestRegistry: Sendable {
    let server: RegistryServer
    let port: Int
    let storage: String
    let task: Task<Void, any Error>

    static func start(access: AccessControl = AccessControl(mode: .open, policy: AccessPolicy()),
                      tlsCertificate: String? = nil, tlsKey: String? = nil) async throws -> TestRegistry {
        let storage = NSTemporaryDirectory() + "pier-registry-test-" + UUID().uuidString
        let configuration = RegistryServerConfiguration(host: "127.0.0.1", port: 0, storage: storage,
                                                        tlsCertificate: tlsCertificate, tlsKey: tlsKey, access: access)
        let server = try RegistryServer(configuration: configuration)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            do {
                try await server.run { address in
                    continuation.yield(address.port)
                    continuation.finish()
                }
            } catch {
                continuation.finish()
                throw error
            }
        }
        var port = 0
        for await bound in ports { port = bound }
        guard port > 0 else {
            _ = try await task.value
            throw TestFailure("the registry did not start")
        }
        return TestRegistry(server: server, port: port, storage: storage, task: task)
    }

    private init(server: RegistryServer, port: Int, storage: String, task: Task<Void, any Error>) {
        self.server = server
        self.port = port
        self.storage = storage
        self.task = task
    }

    var host: String { "127.0.0.1:\(port)" }

    func stop() async {
        await server.shutdown()
        _ = try? await task.value
        try? FileManager.default.removeItem(atPath: storage)
    }

    /// Files in the content store's ingest directory (in-progress uploads).
    func ingestFiles() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: storage + "/content/ingest")) ?? []
    }

    func blobFiles() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: storage + "/content/blobs/sha256")) ?? []
    }
}

/// Runs `body` with a fresh registry that is always stopped.
func withRegistry(access: AccessControl = AccessControl(mode: .open, policy: AccessPolicy()),
                  _ body: (TestRegistry) async throws -> Void) async throws {
    let registry = try await TestRegistry.start(access: access)
    do {
        try await body(registry)
    } catch {
        await registry.stop()
        throw error
    }
    await registry.stop()
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A deliberately plain HTTP/1.1 client over a blocking socket, so tests control every byte
/// (paths with `..`, bodies cut short) and see the raw answer.
struct RawHTTP {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers[name.lowercased()] }

        /// The first error code of a distribution error body.
        var errorCode: String? {
            (try? JSONDecoder().decode(DistributionErrors.self, from: Data(body)))?.errors.first?.code
        }
    }

    let port: Int

    /// Sends a request; `sendBodyBytes` (when given) sends only that many bytes of the body and
    /// then closes the connection, as a client that dies mid-upload would.
    /// Runs on a thread of its own: blocking the cooperative pool would starve the server under test.
    func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [],
                 sendBodyBytes: Int? = nil) async throws -> Response {
        let port = self.port
        return try await Offload.thread(name: "raw-http") {
            try RawHTTP(port: port).blockingRequest(method, path, headers: headers, body: body, sendBodyBytes: sendBodyBytes)
        }
    }

    func blockingRequest(_ method: String, _ path: String, headers: [(String, String)], body: [UInt8],
                         sendBodyBytes: Int?) throws -> Response {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect: \(errno)") }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !headers.contains(where: { $0.0.lowercased() == "content-length" }) {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        try RawHTTP.send(fd, Array(head.utf8))
        if let partial = sendBodyBytes {
            try RawHTTP.send(fd, Array(body.prefix(partial)))
            shutdown(fd, Int32(SHUT_WR))
            return Response(status: 0, headers: [:], body: [])
        }
        try RawHTTP.send(fd, body)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            received.append(contentsOf: buffer[0..<n])
        }
        do {
            return try RawHTTP.parse(received, method: method)
        } catch {
            throw TestFailure("\(method) \(path): \(error)")
        }
    }

    static func send(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw TestFailure("write: \(errno)") }
            offset += n
        }
    }

    static func parse(_ bytes: [UInt8], method: String) throws -> Response {
        guard let end = bytes.indices.first(where: { index in
            index + 3 < bytes.count && bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10
        }) else { throw TestFailure("no HTTP head in \(bytes.count) bytes") }
        let head = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(head[0].split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(bytes[(end + 4)...])
        if let length = headers["content-length"].flatMap(Int.init), method != "HEAD" { body = Array(body.prefix(length)) }
        if method == "HEAD" { body = [] }
        return Response(status: status, headers: headers, body: body)
    }
}

/// A TCP proxy on loopback that forwards to `target`, and cuts the first response (or request)
/// stream that carries more than `cutAfter` (`cutRequestAfter`) bytes, once, to test resuming.
final class FlakyProxy: @unchecked Sendable {
    let listener: Int32
    let port: Int
    let target: Int
    let lock = NSLock()
    var cutAfter: Int?
    var cutRequestAfter: Int?
    var cuts = 0

    init(target: Int, cutAfter: Int? = nil, cutRequestAfter: Int? = nil) throws {
        self.target = target
        self.cutAfter = cutAfter
        self.cutRequestAfter = cutRequestAfter
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(listener, 64)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: bound.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    var cutCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return cuts
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(target).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            let pair = SocketPair(client, upstream)
            Thread { [self] in pump(from: client, to: upstream, request: true); pair.finish() }.start()
            Thread { [self] in pump(from: upstream, to: client, request: false); pair.finish() }.start()
        }
    }

    /// The byte count after which this stream is to be cut, if it is the one to cut.
    func limit(request: Bool) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        return request ? cutRequestAfter : cutAfter
    }

    /// Claims the one cut; false if another stream took it first.
    func claimCut(request: Bool) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if request { guard cutRequestAfter != nil else { return false }; cutRequestAfter = nil }
        else { guard cutAfter != nil else { return false }; cutAfter = nil }
        cuts += 1
        return true
    }

    func pump(from source: Int32, to destination: Int32, request: Bool) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var total = 0
        while true {
            let n = read(source, &buffer, buffer.count)
            if n <= 0 { break }
            var count = n
            var cut = false
            if let limit = limit(request: request), total + n > limit, claimCut(request: request) {
                cut = true
                count = max(0, limit - total)
            }
            var offset = 0
            while offset < count {
                let written = buffer[offset..<count].withUnsafeBytes { write(destination, $0.baseAddress, $0.count) }
                if written <= 0 { break }
                offset += written
            }
            total += count
            if cut { break }
        }
    }
}

/// The two sockets of a proxied connection. The first pump to end shuts both down (which ends the
/// other pump); the second closes them. A descriptor is never closed while another thread may still
/// use its number, which a new socket elsewhere in the process could otherwise reuse.
final class SocketPair: @unchecked Sendable {
    let first: Int32
    let second: Int32
    let lock = NSLock()
    var ended = 0

    init(_ first: Int32, _ second: Int32) {
        self.first = first
        self.second = second
    }

    func finish() {
        lock.lock()
        ended += 1
        let count = ended
        lock.unlock()
        if count == 1 {
            shutdown(first, Int32(SHUT_RDWR))
            shutdown(second, Int32(SHUT_RDWR))
        } else {
            close(first)
            close(second)
        }
    }
}

func randomBytes(_ count: Int) -> [UInt8] {
    let data = FileHandle(forReadingAtPath: "/dev/urandom")?.readData(ofLength: count) ?? Data()
    return [UInt8](data)
}
