import Glibc

/// A blocking, buffered unix-socket connection.
///
/// The CLI makes one or two requests per run, so a plain blocking socket costs less start-up
/// time than an event loop (see docs/architecture.md, "Why the client is hand-written").
final class UnixConnection {
    let fd: Int32
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    var start = 0
    var end = 0

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ClientError(.io, "cannot create socket: \(UnixConnection.errnoText())") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            close(fd)
            throw ClientError(.io, "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            if code == ENOENT || code == ECONNREFUSED {
                throw ClientError(.daemonUnavailable, "Cannot connect to the Pier daemon at unix://\(path). Is pierd running?")
            }
            throw ClientError(.io, "cannot connect to unix://\(path): \(String(cString: strerror(code)))")
        }
    }

    deinit { close(fd) }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = send(fd, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n < 0 {
                if errno == EINTR { continue }
                throw ClientError(.io, "writing to the daemon failed: \(UnixConnection.errnoText())")
            }
            offset += n
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { (raw) throws in try write(raw) }
    }

    /// Ensures at least one buffered byte; false at end of stream.
    func fill() throws -> Bool {
        if start < end { return true }
        start = 0
        end = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ClientError(.io, "reading from the daemon failed: \(UnixConnection.errnoText())")
            }
            end = n
            return n > 0
        }
    }

    /// A CRLF- (or LF-) terminated line without its terminator.
    func readLine() throws -> String? {
        var line: [UInt8] = []
        while true {
            guard try fill() else { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if let newline = buffer[start..<end].firstIndex(of: UInt8(ascii: "\n")) {
                line.append(contentsOf: buffer[start..<newline])
                start = newline + 1
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            line.append(contentsOf: buffer[start..<end])
            start = end
            guard line.count < 1 << 20 else { throw ClientError(.protocolError, "response line too long") }
        }
    }

    /// Up to `into.count` bytes; 0 at end of stream.
    func read(into: UnsafeMutableRawBufferPointer) throws -> Int {
        guard try fill() else { return 0 }
        let count = min(into.count, end - start)
        buffer.withUnsafeBytes { raw in
            into.baseAddress!.copyMemory(from: raw.baseAddress! + start, byteCount: count)
        }
        start += count
        return count
    }

    func shutdownWrite() {
        shutdown(fd, Int32(SHUT_WR))
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
