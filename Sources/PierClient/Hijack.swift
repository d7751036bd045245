import Glibc
import PierAPI

/// A connection the daemon handed over to raw bytes (`attach`, `exec`): after the `101`
/// answer, what is written goes to the process's stdin and what is read is its output.
public final class HijackedStream: @unchecked Sendable {
    // One thread reads, another writes: the socket is full duplex and the buffer is read-side only.
    let connection: UnixConnection

    init(connection: UnixConnection) { self.connection = connection }

    /// Output bytes; 0 at the end of the stream.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try connection.read(into: buffer)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try connection.write(bytes)
    }

    /// Tells the process its stdin has ended, keeping the output open.
    public func closeWrite() { connection.shutdownWrite() }
}

extension EngineClient {
    /// Sends a request with `Upgrade: tcp` and returns the raw stream once the daemon answers 101.
    public func hijack(_ method: String, _ path: String, query: [(String, String)] = [],
                       jsonBody: [UInt8]? = nil) throws -> HijackedStream {
        let connection = try UnixConnection(path: socketPath)
        var target = "/v\(APIVersion.current)\(path)"
        if !query.isEmpty {
            target += "?" + query.map { "\(EngineClient.escape($0.0))=\(EngineClient.escape($0.1))" }.joined(separator: "&")
        }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: pier\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
        if let jsonBody {
            head += "Content-Type: application/json\r\nContent-Length: \(jsonBody.count)\r\n\r\n"
            try connection.write(Array(head.utf8) + jsonBody)
        } else {
            head += "Content-Length: 0\r\n\r\n"
            try connection.write(Array(head.utf8))
        }
        let response = try HTTPResponse(connection: connection, method: method)
        guard response.status == 101 || response.status == 200 else {
            let bytes = try response.readAll()
            try response.throwIfError(bytes)
            throw ClientError(.protocolError, "the daemon did not upgrade the connection (status \(response.status))")
        }
        return HijackedStream(connection: connection)
    }
}
