import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One request as the registry's handlers see it.
struct RegistryRequest: Sendable {
    let method: HTTPMethod
    /// The path, percent-decoded.
    let path: String
    let query: [(String, String)]
    let headers: HTTPHeaders
    /// `http://host:port` or `https://…` as the client addressed us (for Location and the token realm).
    let base: String

    func query(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
    func queryAll(_ name: String) -> [String] { query.filter { $0.0 == name }.map(\.1) }
    func header(_ name: String) -> String? { headers.first(name: name) }

    init(head: HTTPRequestHead, tls: Bool) {
        method = head.method
        headers = head.headers
        let uri = head.uri
        let pathPart: Substring
        if let mark = uri.firstIndex(of: "?") {
            pathPart = uri[..<mark]
            query = uri[uri.index(after: mark)...].split(separator: "&").map { item in
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (RegistryRequest.decode(parts[0]), parts.count > 1 ? RegistryRequest.decode(parts[1]) : "")
            }
        } else {
            pathPart = Substring(uri)
            query = []
        }
        path = RegistryRequest.decode(pathPart, plusIsSpace: false)
        let host = head.headers.first(name: "Host") ?? "localhost"
        base = (tls ? "https://" : "http://") + host
    }

    static func decode(_ text: Substring, plusIsSpace: Bool = true) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "+"), plusIsSpace {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Percent-encodes a query value.
    static func encode(_ text: String) -> String {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/".utf8)
        var result = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) { result.unicodeScalars.append(Unicode.Scalar(byte)) }
            else { result += String(format: "%%%02X", byte) }
        }
        return result
    }
}

/// The request body as a stream; read once, in order.
final class RegistryRequestBody {
    var iterator: NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator
    var finished = false

    init(iterator: NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator) {
        self.iterator = iterator
    }

    func next() async throws -> ByteBuffer? {
        guard !finished else { return nil }
        while let part = try await nextPart() {
            switch part {
            case .body(let buffer): return buffer
            case .end: finished = true; return nil
            case .head: throw RegistryError(.protocolError, "unexpected request head inside a body", status: 400)
            }
        }
        finished = true
        throw RegistryError(.blobUploadInvalid, "the client closed the connection before the body ended", status: 400)
    }

    /// A broken connection is the client's doing: a 400-class error, not a server fault.
    func nextPart() async throws -> HTTPServerRequestPart? {
        do {
            return try await iterator.next()
        } catch {
            finished = true
            throw RegistryError(.blobUploadInvalid, "the connection broke before the body ended: \(error)", status: 400)
        }
    }

    /// The whole body; refuses one over `limit` bytes.
    func collect(limit: Int) async throws -> [UInt8] {
        var result: [UInt8] = []
        while let piece = try await next() {
            guard result.count + piece.readableBytes <= limit else {
                throw RegistryError(.sizeInvalid, "request body is larger than \(limit) bytes", status: 413)
            }
            result.append(contentsOf: piece.readableBytesView)
        }
        return result
    }

    func drain() async throws {
        while try await next() != nil {}
    }

    /// Reads and drops at most `limit` more bytes; true when the body ended within them.
    func drain(upTo limit: Int) async -> Bool {
        var seen = 0
        while !finished {
            guard let piece = try? await next() else { return finished }
            seen += piece.readableBytes
            if seen > limit { return false }
        }
        return true
    }
}

/// Writes one response, straight to the connection's channel: every part is queued in order from
/// the one task serving the connection, body parts are awaited until they are on the socket (that
/// is the back-pressure), and a file can go out with `sendfile(2)` behind its head.
struct RegistryResponseWriter: Sendable {
    let channel: any Channel
    let keepAlive: Bool
    /// Under TLS bytes must pass through the TLS handler; without it the kernel can send a file itself.
    let tls: Bool
    let isHead: Bool
    let state: State

    final class State: @unchecked Sendable {
        // Touched only by the task serving this connection.
        var headWritten = false
        var status = 0
        var bytes: Int64 = 0
    }

    var hasWrittenHead: Bool { state.headWritten }

    func head(_ status: HTTPResponseStatus, headers extra: [(String, String)] = [], contentType: String? = nil,
              contentLength: Int64?) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Docker-Distribution-API-Version", value: "registry/2.0")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        if let contentLength { headers.add(name: "Content-Length", value: String(contentLength)) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        for (name, value) in extra { headers.add(name: name, value: value) }
        state.headWritten = true
        state.status = Int(status.code)
        channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)),
                      promise: nil)
    }

    func body(_ buffer: ByteBuffer) async throws {
        guard !isHead, buffer.readableBytes > 0 else { return }
        state.bytes += Int64(buffer.readableBytes)
        try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer))).get()
    }

    /// Ends the response once every byte of it is on the socket (a connection that closes after
    /// it must not drop the tail of a large body still queued).
    func end() async throws {
        try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
    }

    func empty(_ status: HTTPResponseStatus, headers: [(String, String)] = []) async throws {
        try await head(status, headers: headers, contentLength: 0)
        try await end()
    }

    func json<T: Encodable>(_ value: T, status: HTTPResponseStatus = .ok, headers: [(String, String)] = [],
                            contentType: String = "application/json") async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = try encoder.encode(value)
        try await head(status, headers: headers, contentType: contentType, contentLength: Int64(bytes.count))
        try await body(ByteBuffer(bytes: bytes))
        try await end()
    }

    func bytes(_ bytes: [UInt8], status: HTTPResponseStatus = .ok, headers: [(String, String)] = [],
               contentType: String) async throws {
        try await head(status, headers: headers, contentType: contentType, contentLength: Int64(bytes.count))
        try await body(ByteBuffer(bytes: bytes))
        try await end()
    }

    /// The distribution spec's error body.
    func error(_ error: RegistryError, headers: [(String, String)] = []) async throws {
        let body = DistributionErrors(errors: [.init(code: error.code.wireCode, message: error.message)])
        try await json(body, status: HTTPResponseStatus(statusCode: error.status), headers: headers)
    }

    /// Streams `length` bytes of a file from `offset`: with `sendfile(2)` on a plain connection
    /// (awaited before the file is closed), else reading on the thread pool one piece ahead of
    /// the socket.
    func file(_ path: String, offset: Int64, length: Int64) async throws {
        guard !isHead, length > 0 else { return }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RegistryError(.storage, "cannot open \(path): \(Files.errnoText())") }
        if !tls {
            let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
            defer { try? handle.close() }
            let region = FileRegion(fileHandle: handle, readerIndex: Int(offset), endIndex: Int(offset + length))
            state.bytes += length
            try await channel.writeAndFlush(HTTPServerResponsePart.body(.fileRegion(region))).get()
            return
        }
        defer { close(fd) }
        let pool = NIOThreadPool.singleton
        let chunk = 1 << 20
        var position = offset
        let end = offset + length
        func read(_ at: Int64) async throws -> ByteBuffer {
            let want = Int(min(Int64(chunk), end - at))
            return try await pool.runIfActive {
                var buffer = ByteBufferAllocator().buffer(capacity: want)
                let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw in
                    var done = 0
                    while done < want {
                        let got = pread(fd, raw.baseAddress! + done, want - done, off_t(at) + off_t(done))
                        if got < 0, errno == EINTR { continue }
                        if got <= 0 { break }
                        done += got
                    }
                    return done
                }
                guard n == want else {
                    throw RegistryError(.storage, "blob \(path) is shorter than expected")
                }
                return buffer
            }
        }
        var next: ByteBuffer? = try await read(position)
        while let current = next {
            position += Int64(current.readableBytes)
            let at = position
            async let ahead: ByteBuffer? = at < end ? read(at) : nil
            try await body(current)
            next = try await ahead
        }
    }
}

extension RegistryError.Code {
    /// The code on the wire; client-only codes go out as their nearest spec code.
    var wireCode: String {
        switch self {
        case .unreachable, .protocolError, .storage, .internalError, .invalidConfiguration, .unusableImage: "UNKNOWN"
        default: rawValue
        }
    }
}
