import Foundation
import PierAPI

/// A client of the Engine API on a unix socket. Each request opens its own connection.
public final class EngineClient: Sendable {
    public let socketPath: String

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// What a request sends after its head.
    public enum Body {
        case none
        case bytes([UInt8], contentType: String)
        /// Streamed chunked from a file descriptor until its end (a file, a pipe, stdin).
        case stream(fd: Int32, contentType: String)
    }

    /// Whether something accepts connections on the socket: a `connect(2)`, no request (a
    /// round trip to pierd before every command would cost as much as the command's own).
    /// Throws `daemonUnavailable` when nothing listens there.
    public func checkReachable() throws {
        _ = try UnixConnection(path: socketPath)
    }

    /// Sends a request and returns the response with its body unread.
    public func send(_ method: String, _ path: String, query: [(String, String)] = [], body: Body = .none,
                     headers: [(String, String)] = []) throws -> HTTPResponse {
        let connection = try UnixConnection(path: socketPath)
        var target = "/v\(APIVersion.current)\(path)"
        if !query.isEmpty {
            target += "?" + query.map { "\(EngineClient.escape($0.0))=\(EngineClient.escape($0.1))" }.joined(separator: "&")
        }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: pier\r\nUser-Agent: pier/\(PierVersion.current)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        switch body {
        case .none:
            if method == "POST" || method == "PUT" { head += "Content-Length: 0\r\n" }
            head += "\r\n"
            try connection.write(Array(head.utf8))
        case .bytes(let bytes, let contentType):
            head += "Content-Type: \(contentType)\r\nContent-Length: \(bytes.count)\r\n\r\n"
            try connection.write(Array(head.utf8))
            try connection.write(bytes)
        case .stream(let fd, let contentType):
            head += "Content-Type: \(contentType)\r\nTransfer-Encoding: chunked\r\n\r\n"
            try connection.write(Array(head.utf8))
            try EngineClient.streamChunked(from: fd, to: connection)
        }
        return try HTTPResponse(connection: connection, method: method)
    }

    /// Sends a request and decodes a JSON answer; an error status becomes a `ClientError` with
    /// the daemon's message.
    public func json<T: Decodable>(_ type: T.Type, _ method: String, _ path: String, query: [(String, String)] = [],
                                   body: Body = .none) throws -> T {
        let response = try send(method, path, query: query, body: body)
        let bytes = try response.readAll()
        try response.throwIfError(bytes)
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw ClientError(.protocolError, "unexpected answer from the daemon to \(method) \(path): \(error)")
        }
    }

    /// Sends a request that answers with no body of interest; throws on an error status.
    public func call(_ method: String, _ path: String, query: [(String, String)] = [], body: Body = .none) throws {
        let response = try send(method, path, query: query, body: body)
        let bytes = try response.readAll()
        try response.throwIfError(bytes)
    }

    /// Encodes a value as a JSON request body.
    public static func jsonBody<T: Encodable>(_ value: T) -> Body {
        let bytes = (try? JSONEncoder().encode(value)).map { [UInt8]($0) } ?? Array("{}".utf8)
        return .bytes(bytes, contentType: "application/json")
    }

    static func streamChunked(from fd: Int32, to connection: UnixConnection) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ClientError(.io, "reading input failed: \(UnixConnection.errnoText())")
            }
            if n == 0 { break }
            try connection.write(Array((String(n, radix: 16) + "\r\n").utf8))
            try buffer.withUnsafeBytes { (raw) throws in
                try connection.write(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
            }
            try connection.write(Array("\r\n".utf8))
        }
        try connection.write(Array("0\r\n\r\n".utf8))
    }

    static let unreserved: Set<UInt8> = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8))

    static func escape(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }
}
