import Foundation

#if canImport(Glibc)
import Glibc
#endif

struct ShimTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A client end of one of the shim's sockets, read with deadlines so that a test fails
/// instead of hanging when the shim does not answer.
final class UnixSocket {
    private(set) var fd: Int32
    private var pending: [UInt8] = []

    init(connectingTo path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ShimTestError("socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            close(fd)
            throw ShimTestError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ShimTestError("connect \(path): \(message)")
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    func send(_ text: String) throws {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ShimTestError("send: \(String(cString: strerror(errno)))") }
            bytes = bytes.dropFirst(n)
        }
    }

    func shutdownWrite() { _ = shutdown(fd, Int32(SHUT_WR)) }

    /// The next chunk of bytes; nil at end of file.
    func read(deadline: ContinuousClock.Instant) throws -> [UInt8]? {
        if !pending.isEmpty {
            defer { pending = [] }
            return pending
        }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let left = ContinuousClock.now.duration(to: deadline)
        let ms = max(0, Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
        let ready = poll(&pfd, 1, ms)
        guard ready > 0 else { throw ShimTestError("timed out waiting for the shim") }
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 {
            if errno == ECONNRESET { return nil }
            throw ShimTestError("recv: \(String(cString: strerror(errno)))")
        }
        return n == 0 ? nil : Array(buf[0..<n])
    }

    /// Reads until end of file.
    func readAll(timeout: Duration = .seconds(60)) throws -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        var all: [UInt8] = []
        while let chunk = try read(deadline: deadline) { all += chunk }
        return all
    }

    /// The next `\n`-terminated line (without it); nil at end of file.
    func readLine(timeout: Duration = .seconds(30)) throws -> String? {
        let deadline = ContinuousClock.now + timeout
        var line: [UInt8] = []
        while true {
            guard let chunk = try read(deadline: deadline) else {
                return line.isEmpty ? nil : String(decoding: line, as: UTF8.self)
            }
            if let nl = chunk.firstIndex(of: UInt8(ascii: "\n")) {
                line += chunk[..<nl]
                pending = Array(chunk[(nl + 1)...])
                return String(decoding: line, as: UTF8.self)
            }
            line += chunk
        }
    }
}

/// Docker's stdcopy framing as the shim writes it on attach.sock without a terminal.
struct Frame: Equatable {
    var stream: UInt8
    var payload: [UInt8]

    static func decode(_ bytes: [UInt8]) throws -> [Frame] {
        var frames: [Frame] = []
        var i = 0
        while i < bytes.count {
            guard i + 8 <= bytes.count else { throw ShimTestError("a frame header is cut at byte \(i)") }
            guard bytes[i + 1] == 0, bytes[i + 2] == 0, bytes[i + 3] == 0 else {
                throw ShimTestError("bad frame header at byte \(i)")
            }
            let length = bytes[(i + 4)..<(i + 8)].reduce(0) { $0 << 8 | Int($1) }
            guard i + 8 + length <= bytes.count else { throw ShimTestError("a frame is cut at byte \(i)") }
            frames.append(Frame(stream: bytes[i], payload: Array(bytes[(i + 8)..<(i + 8 + length)])))
            i += 8 + length
        }
        return frames
    }
}
