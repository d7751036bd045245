import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PierAPI

/// Serves the Engine API over HTTP/1.1 on a unix socket. Each connection is one task that
/// reads requests in order (keep-alive), routes them, and lets the handler stream its response.
public final class HTTPServer: Sendable {
    let socketPath: String
    let router: Router
    let logger: Logger
    let trimmer = IdleMemoryTrimmer()

    public init(socketPath: String, router: Router, logger: Logger) {
        self.socketPath = socketPath
        self.router = router
        self.logger = logger
    }

    /// Binds the socket, calls `ready`, and serves until the task is cancelled.
    public func run(ready: @Sendable () -> Void = {}) async throws {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            // attach and exec: a client closes its stdin with a half-close and keeps reading output.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        chmod(socketPath, 0o660)
        ready()
        try await withThrowingDiscardingTaskGroup { group in
            try await listener.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask { await self.serve(connection) }
                }
            }
        }
    }

    func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                let body = RequestBody(iterator: inbound.makeAsyncIterator())
                while let part = try await body.iterator.next() {
                    guard case .head(let head) = part else { continue }
                    body.finished = false
                    let keepAlive = head.isKeepAlive
                    let writer = ResponseWriter(outbound: outbound, keepAlive: keepAlive, headWritten: .init(),
                                                channel: connection.channel)
                    await handle(head, body: body, writer: writer)
                    if writer.isHijacked { break }
                    try await body.drain()
                    if !keepAlive { break }
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    func handle(_ head: HTTPRequestHead, body: RequestBody, writer: ResponseWriter) async {
        let started = ContinuousClock.now
        let uri = head.uri
        let pathPart: Substring
        let queryPart: Substring
        if let mark = uri.firstIndex(of: "?") {
            pathPart = uri[..<mark]
            queryPart = uri[uri.index(after: mark)...]
        } else {
            pathPart = Substring(uri)
            queryPart = ""
        }
        do {
            guard let (version, path) = APIVersion.strip(String(pathPart)) else {
                throw APIError.badRequest(
                    "client version is not supported by this daemon: use an API version between "
                    + "\(APIVersion.minimum) and \(APIVersion.maximumAccepted)")
            }
            var request = APIRequest(method: head.method, path: path, apiVersion: version,
                                     query: Query(queryPart), headers: head.headers)
            switch router.match(method: head.method, path: path) {
            case .found(let handler, let parameters):
                request.parameters = parameters
                try await handler(request, body, writer)
            case .methodNotAllowed:
                throw APIError(status: 405, "method \(head.method.rawValue) not allowed on \(path)")
            case .notFound:
                throw APIError.notFound("page not found")
            }
        } catch {
            let apiError = (error as? APIError) ?? APIError.internalError("\(error)")
            if writer.hasWrittenHead {
                // The status is already on the wire; a streaming handler reports errors in-band.
                logger.warning("request failed after its response started",
                               metadata: ["path": "\(uri)", "error": "\(apiError.message)"])
            } else {
                try? await writer.error(apiError)
            }
        }
        trimmer.requestFinished()
        logger.debug("request", metadata: [
            "method": "\(head.method.rawValue)", "uri": "\(uri)",
            "ms": "\((ContinuousClock.now - started).components.attoseconds / 1_000_000_000_000_000)",
        ])
    }
}
