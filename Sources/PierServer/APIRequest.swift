import NIOCore
import NIOHTTP1
import PierAPI

/// One Engine API request after routing: method, path without version prefix, query, headers
/// and the captured path parameters.
public struct APIRequest: Sendable {
    public let method: HTTPMethod
    public let path: String
    public let apiVersion: String?
    public let query: Query
    public let headers: HTTPHeaders
    public internal(set) var parameters: [String: String] = [:]

    public func parameter(_ name: String) -> String {
        parameters[name] ?? ""
    }
}

/// A decoded URL query (`a=1&b=x%20y`), keeping repeated keys in order.
public struct Query: Sendable {
    let pairs: [(String, String)]

    init(_ text: Substring) {
        pairs = text.split(separator: "&").map { item in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Query.decode(parts[0])
            let value = parts.count > 1 ? Query.decode(parts[1]) : ""
            return (key, value)
        }
    }

    public subscript(_ key: String) -> String? {
        pairs.first { $0.0 == key }?.1
    }

    public func all(_ key: String) -> [String] {
        pairs.filter { $0.0 == key }.map(\.1)
    }

    /// Docker's booleans: `1`, `true`, `True` are true; absent is the default.
    public func bool(_ key: String, default value: Bool = false) -> Bool {
        guard let text = self[key] else { return value }
        return ["1", "true", "True", "TRUE", "yes"].contains(text)
    }

    public func int(_ key: String) -> Int? {
        self[key].flatMap { Int($0) }
    }

    /// The `filters` parameter: `{"dangling":["true"]}` (or the old `{"dangling":{"true":true}}`).
    public func filters() throws(APIError) -> [String: [String]] {
        guard let text = self["filters"], !text.isEmpty else { return [:] }
        return try FilterSet.decode(text)
    }

    static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                if let high = iterator.next(), let low = iterator.next(),
                   let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                    bytes.append(value)
                }
            default:
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The request body as a stream of buffers; read it once, in order.
public final class RequestBody {
    var iterator: NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator
    public internal(set) var finished = false

    init(iterator: NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator) {
        self.iterator = iterator
    }

    /// The next piece of the body, or nil at its end.
    public func next() async throws -> ByteBuffer? {
        guard !finished else { return nil }
        while let part = try await iterator.next() {
            switch part {
            case .body(let buffer):
                return buffer
            case .end:
                finished = true
                return nil
            case .head:
                throw APIError.badRequest("unexpected request head inside a body")
            }
        }
        finished = true
        return nil
    }

    /// Collects the whole body; refuses one larger than `limit` bytes.
    public func collect(limit: Int = 16 << 20) async throws -> ByteBuffer {
        var result = ByteBuffer()
        while var piece = try await next() {
            guard result.readableBytes + piece.readableBytes <= limit else {
                throw APIError(status: 413, "request body larger than \(limit) bytes")
            }
            result.writeBuffer(&piece)
        }
        return result
    }

    /// Reads and discards what is left, so the connection can serve the next request.
    func drain() async throws {
        while try await next() != nil {}
    }
}

/// Writes one response: a head, then body parts, then the end.
public struct ResponseWriter: Sendable {
    let outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    let keepAlive: Bool
    let headWritten: HeadFlag
    let channel: any Channel

    final class HeadFlag: @unchecked Sendable {
        // Touched only by the task serving this connection.
        var written = false
        var hijacked = false
    }

    /// Whether the connection was taken over as a raw stream (attach, exec).
    public var isHijacked: Bool { headWritten.hijacked }

    /// Docker's connection hijack (`Upgrade: tcp`): answers `101 UPGRADED`, then the connection
    /// carries raw bytes both ways. The HTTP decoder is swapped for a handler that passes what the
    /// client sends on as body parts, so `body.next()` keeps delivering stdin.
    public func hijack(_ body: RequestBody, contentType: String) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Connection", value: "Upgrade")
        headers.add(name: "Upgrade", value: "tcp")
        headers.add(name: "Api-Version", value: APIVersion.current)
        // The request itself carries no body of interest: consume it up to its end first.
        try await body.drain()
        headWritten.written = true
        headWritten.hijacked = true
        // Swap the decoder out before answering: the client may send stdin the moment it reads the 101.
        try await channel.eventLoop.submit {
            let pipeline = channel.pipeline.syncOperations
            if let decoder = try? pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self) {
                pipeline.removeHandler(context: decoder, promise: nil)
            }
            if let handler = try? pipeline.context(handlerType: HTTPServerPipelineHandler.self) {
                pipeline.removeHandler(context: handler, promise: nil)
            }
            if let handler = try? pipeline.context(handlerType: HTTPServerProtocolErrorHandler.self) {
                pipeline.removeHandler(context: handler, promise: nil)
            }
            try pipeline.addHandler(RawStreamInbound(), position: .first)
        }.get()
        try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: headers)))
        body.finished = false
    }

    public var hasWrittenHead: Bool { headWritten.written }

    /// Starts a response. Without `contentLength` the body is sent chunked.
    public func writeHead(status: HTTPResponseStatus, contentType: String?, contentLength: Int? = nil,
                          extraHeaders: [(String, String)] = []) async throws {
        try await outbound.write(.head(head(status: status, contentType: contentType, contentLength: contentLength,
                                            extraHeaders: extraHeaders)))
    }

    /// The head of a response about to be written (and noted as written, for the error path).
    func head(status: HTTPResponseStatus, contentType: String?, contentLength: Int?,
              extraHeaders: [(String, String)] = []) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.add(name: "Api-Version", value: APIVersion.current)
        headers.add(name: "Server", value: "Pier/\(PierVersion.current) (linux)")
        headers.add(name: "Docker-Experimental", value: "false")
        headers.add(name: "Ostype", value: "linux")
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        if let contentLength { headers.add(name: "Content-Length", value: String(contentLength)) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        headWritten.written = true
        return HTTPResponseHead(version: .http1_1, status: status, headers: headers)
    }

    public func writeBody(_ buffer: ByteBuffer) async throws {
        guard buffer.readableBytes > 0 else { return }
        try await outbound.write(.body(.byteBuffer(buffer)))
    }

    public func writeBody(_ bytes: [UInt8]) async throws {
        try await writeBody(ByteBuffer(bytes: bytes))
    }

    public func end() async throws {
        try await outbound.write(.end(nil))
    }

    /// The last of the body and the end, in one write (one flush, one trip through the loop).
    public func end(with bytes: [UInt8]) async throws {
        try await outbound.write(contentsOf: [.body(.byteBuffer(ByteBuffer(bytes: bytes))), .end(nil)])
    }

    /// A whole JSON response, head, body and end in one write.
    public func json<T: Encodable>(_ value: T, status: HTTPResponseStatus = .ok) async throws {
        let bytes = try JSONCoding.encode(value) + [UInt8(ascii: "\n")]
        try await outbound.write(contentsOf: [
            .head(head(status: status, contentType: "application/json", contentLength: bytes.count)),
            .body(.byteBuffer(ByteBuffer(bytes: bytes))), .end(nil)])
    }

    /// A response with no body.
    public func empty(status: HTTPResponseStatus = .noContent) async throws {
        try await outbound.write(contentsOf: [
            .head(head(status: status, contentType: nil, contentLength: status == .noContent ? nil : 0)), .end(nil)])
    }

    public func text(_ text: String, status: HTTPResponseStatus = .ok, contentType: String = "text/plain; charset=utf-8") async throws {
        let bytes = Array(text.utf8)
        try await writeHead(status: status, contentType: contentType, contentLength: bytes.count)
        try await writeBody(bytes)
        try await end()
    }

    /// Docker's error body with the given status.
    public func error(_ error: APIError) async throws {
        try await json(ErrorResponse(message: error.message), status: HTTPResponseStatus(statusCode: error.status))
    }
}

/// After a hijack: what the client sends arrives as body parts of the (finished) request.
final class RawStreamInbound: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(wrapInboundOut(.body(unwrapInboundIn(data))))
    }
}
