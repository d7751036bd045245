import Foundation
@testable import PierRuntime

/// A stand-in for pier-shim's sockets: listens on `<directory>/<name>` (bound through
/// /proc/self/fd like pierd connects, so long directories work) and runs `handler` on a thread
/// for each accepted connection.
final class FakeShimSocket: @unchecked Sendable {
    let listener: Int32
    private let lock = NSLock()
    private var lines: [String] = []

    init(directory: String, name: String, connections: Int = 1, handler: @escaping @Sendable (FakeShimSocket, Int32) -> Void) throws {
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { close(dirfd) }
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        self.listener = listener
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array("/proc/self/fd/\(dirfd)/\(name)".utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
            raw[path.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 8) == 0 else { throw SystemError("bind", errno: errno) }
        Thread.detachNewThread { [self] in
            for _ in 0..<connections {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                handler(self, client)
                close(client)
            }
        }
    }

    deinit { close(listener) }

    var received: [String] { lock.withLock { lines } }

    func record(_ line: String) { lock.withLock { lines.append(line) } }

    static func send(_ fd: Int32, _ text: String) { send(fd, bytes: Array(text.utf8)) }

    static func send(_ fd: Int32, bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// One line without its newline; nil at the end of the stream.
    static func readLine(_ fd: Int32) -> String? {
        var line = [UInt8]()
        var byte: UInt8 = 0
        while recv(fd, &byte, 1, 0) == 1 {
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
        return line.isEmpty ? nil : String(decoding: line, as: UTF8.self)
    }

    static func readAll(_ fd: Int32) -> [UInt8] {
        var result = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return result }
            result += chunk[0..<n]
        }
    }
}
