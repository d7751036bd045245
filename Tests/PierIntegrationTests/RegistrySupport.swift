import Foundation
import Testing

/// A registry process on a free loopback port, for the registry tests: Pier's own (started the
/// way a user starts it, `pier registry serve`) or the CNCF distribution registry Debian ships
/// as `docker-registry`. `stop()` kills it and removes its storage.
final class RegistryProcess: @unchecked Sendable {
    let directory: String
    let process: Process
    let port: Int
    var host: String { "127.0.0.1:\(port)" }

    /// `pier registry serve --addr 127.0.0.1:0 --storage DIR EXTRA…`
    static func pier(_ extra: [String] = [], directory: String? = nil) throws -> RegistryProcess {
        let directory = directory ?? NSTemporaryDirectory() + "pier-reg-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestDaemon.pier)
        process.arguments = ["registry", "serve", "--addr", "127.0.0.1:0", "--storage", directory + "/storage"] + extra
        let output = Pipe()
        process.standardOutput = output
        FileManager.default.createFile(atPath: directory + "/registry.log", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: directory + "/registry.log")
        try process.run()
        // "pier registry listening on http://127.0.0.1:PORT (storage …)"
        var text = ""
        let deadline = Date().addingTimeInterval(20)
        while !text.contains("\n"), Date() < deadline, process.isRunning {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { usleep(10_000) } else { text += String(decoding: data, as: UTF8.self) }
        }
        guard let range = text.range(of: "127.0.0.1:"),
              let port = Int(text[range.upperBound...].prefix { $0.isNumber }) else {
            process.terminate()
            let log = (try? String(contentsOfFile: directory + "/registry.log", encoding: .utf8)) ?? ""
            throw TestFailure("pier registry serve did not start: \(text) \(log)")
        }
        return RegistryProcess(directory: directory, process: process, port: port)
    }

    /// Debian's `docker-registry` (CNCF distribution 2.8) with an htpasswd file.
    static func distribution(htpasswd: String) throws -> RegistryProcess {
        try requirePeer("docker-registry")
        let directory = NSTemporaryDirectory() + "cncf-reg-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try freePort()
        let config = """
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: \(directory)/storage
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:\(port)
            auth:
              htpasswd:
                realm: pier-test
                path: \(htpasswd)
            """
        try config.write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        process.arguments = ["serve", directory + "/config.yml"]
        FileManager.default.createFile(atPath: directory + "/registry.log", contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: directory + "/registry.log")
        process.standardError = process.standardOutput
        try process.run()
        let registry = RegistryProcess(directory: directory, process: process, port: port)
        for _ in 0..<200 {
            if canConnect(port) { return registry }
            usleep(25_000)
        }
        registry.stop()
        throw TestFailure("docker-registry did not start")
    }

    private init(directory: String, process: Process, port: Int) {
        self.directory = directory
        self.process = process
        self.port = port
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The blob files of Pier's registry storage.
    var blobDirectory: String { directory + "/storage/content/blobs/sha256" }
}

/// An htpasswd file with one bcrypt user, made by Apache's `htpasswd -B` as a user would.
func makeHtpasswd(in directory: String, user: String, password: String) throws -> String {
    try requirePeer("htpasswd")
    let result = run("/usr/bin/htpasswd", ["-Bbn", user, password])
    guard result.status == 0 else { throw TestFailure("htpasswd failed: \(result)") }
    let path = directory + "/htpasswd"
    try result.stdout.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var bound = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &bound) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    let port = Int(UInt16(bigEndian: bound.sin_port))
    guard port > 0 else { throw TestFailure("no free port") }
    return port
}

func canConnect(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}

/// Forwards loopback TCP to `target` and, once, cuts a server-to-client stream after
/// `cutAfter` bytes: a connection broken in the middle of a layer.
final class CuttingProxy: @unchecked Sendable {
    let listener: Int32
    let port: Int
    let target: Int
    let lock = NSLock()
    var cutAfter: Int?
    var cuts = 0

    init(target: Int, cutAfter: Int) throws {
        self.target = target
        self.cutAfter = cutAfter
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        listener = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(fd, 64)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: bound.sin_port))
        Thread { [self] in accepting() }.start()
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

    func accepting() {
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
            let pair = ProxiedSockets(client, upstream)
            Thread { [self] in pump(client, upstream, mayCut: false); pair.finish() }.start()
            Thread { [self] in pump(upstream, client, mayCut: true); pair.finish() }.start()
        }
    }

    func pump(_ source: Int32, _ destination: Int32, mayCut: Bool) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var total = 0
        while true {
            let n = read(source, &buffer, buffer.count)
            if n <= 0 { break }
            var count = n
            var cut = false
            if mayCut {
                lock.lock()
                if let limit = cutAfter, total + n > limit {
                    cutAfter = nil
                    cuts += 1
                    cut = true
                    count = max(0, limit - total)
                }
                lock.unlock()
            }
            var offset = 0
            while offset < count {
                // send with MSG_NOSIGNAL: a peer that hung up must not SIGPIPE the test process.
                let written = buffer[offset..<count].withUnsafeBytes { send(destination, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if written <= 0 { break }
                offset += written
            }
            total += count
            if cut { break }
        }
    }
}

/// The two sockets of a proxied connection: the first pump to end shuts both down, the second
/// closes them, so no descriptor number is closed (and reused) while the other pump may use it.
final class ProxiedSockets: @unchecked Sendable {
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

extension TestDaemon {
    /// `pier inspect --format …` of an image, trimmed.
    func imageField(_ name: String, _ template: String) -> String {
        pier(["inspect", "--format", template, name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Removes every image, so a pull must fetch everything again.
    func removeAllImages() throws {
        let ids = pier(["images", "-a", "-q", "--no-trunc"]).stdout.split(separator: "\n").map(String.init)
        for id in Set(ids) {
            let result = pier(["rmi", "-f", id])
            guard result.status == 0 else { throw TestFailure("rmi failed: \(result)") }
        }
        let left = pier(["images", "-a", "-q"]).stdout
        guard left.isEmpty else { throw TestFailure("images left after rmi: \(left)") }
    }

    /// The files under the image store's content and snapshot directories (to check nothing was left).
    func storeFiles() -> [String] {
        let blobs = (try? FileManager.default.contentsOfDirectory(atPath: root + "/image/content/blobs/sha256")) ?? []
        let ingest = (try? FileManager.default.contentsOfDirectory(atPath: root + "/image/content/ingest")) ?? []
        let snapshots = (try? FileManager.default.contentsOfDirectory(atPath: root + "/image/snapshots")) ?? []
        return blobs.sorted() + ["--ingest--"] + ingest.sorted() + ["--snapshots--"] + snapshots.sorted()
    }
}
