import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Everything `pier registry serve` is told.
public struct RegistryServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var storage: String
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var access: AccessControl
    /// Run garbage collection this often (nil: only on demand, `pier registry gc`).
    public var collectionInterval: Duration?
    /// Blobs younger than this are never collected (an upload whose manifest is still to come).
    public var collectionGrace: Duration

    public init(host: String, port: Int, storage: String, tlsCertificate: String? = nil, tlsKey: String? = nil,
                access: AccessControl = AccessControl(mode: .open, policy: AccessPolicy()),
                collectionInterval: Duration? = nil, collectionGrace: Duration = .seconds(3600)) {
        self.host = host
        self.port = port
        self.storage = storage
        self.tlsCertificate = tlsCertificate
        self.tlsKey = tlsKey
        self.access = access
        self.collectionInterval = collectionInterval
        self.collectionGrace = collectionGrace
    }
}

/// Pier's registry: the OCI distribution API over HTTP/1.1 (TCP, optionally TLS) with SwiftNIO.
/// Each connection is one task that serves its requests in order; request and response bodies
/// stream, so memory stays flat whatever the blob size.
public final class RegistryServer: Sendable {
    public let configuration: RegistryServerConfiguration
    public let storage: RegistryStorage
    let uploads: UploadSessions
    let logger: Logger
    let api: RegistryAPI
    /// The listening socket once bound, for `shutdown()`.
    let listening = Mutex<(any Channel)?>(nil)

    public init(configuration: RegistryServerConfiguration,
                logger: Logger = Logger(label: "pier-registry")) throws(RegistryError) {
        self.configuration = configuration
        self.logger = logger
        storage = try RegistryStorage(root: configuration.storage)
        storage.content.removeAbandonedIngests()
        uploads = UploadSessions(storage: storage)
        api = RegistryAPI(storage: storage, uploads: uploads, access: configuration.access, logger: logger)
    }

    /// Where the server listens once bound.
    public struct BoundAddress: Sendable {
        public let host: String
        public let port: Int
    }

    /// Binds, calls `ready` with the bound address (port 0 picks a free one), and serves until cancelled.
    public func run(ready: @Sendable (BoundAddress) -> Void = { _ in }) async throws {
        let tls = try makeTLSContext()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    // A connection that neither sends nor receives for five minutes is closed.
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: .minutes(5)))
                    try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        guard let address = listener.channel.localAddress, let port = address.port else {
            throw RegistryError(.internalError, "the listening socket has no address")
        }
        listening.withLock { $0 = listener.channel }
        ready(BoundAddress(host: address.ipAddress ?? configuration.host, port: port))
        try await withThrowingDiscardingTaskGroup { group in
            if let interval = configuration.collectionInterval {
                group.addTask { await self.collectPeriodically(every: interval) }
            }
            try await listener.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask { await self.serve(connection, tls: tls != nil) }
                }
            }
            // The listener is closed (`shutdown()`): every connection it accepted has been taken
            // up above, so ending them now leaves none half-owned.
            group.cancelAll()
        }
    }

    /// Stops accepting connections, then ends the open ones; `run` returns after that. (Cancelling
    /// `run` instead could drop a connection accepted at that very moment.)
    public func shutdown() async {
        guard let channel = listening.withLock({ $0 }) else { return }
        try? await channel.close()
    }

    func makeTLSContext() throws -> NIOSSLContext? {
        guard let certificate = configuration.tlsCertificate else { return nil }
        guard let key = configuration.tlsKey else {
            throw RegistryError(.invalidConfiguration, "--tls-cert needs --tls-key")
        }
        do {
            let tlsConfiguration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            return try NIOSSLContext(configuration: tlsConfiguration)
        } catch {
            throw RegistryError(.invalidConfiguration, "cannot use TLS certificate \(certificate) and key \(key)",
                                cause: error)
        }
    }

    func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, tls: Bool) async {
        do {
            // Responses go straight to the channel (see RegistryResponseWriter); the outbound writer is unused.
            try await connection.executeThenClose { inbound, _ in
                let body = RegistryRequestBody(iterator: inbound.makeAsyncIterator())
                while let part = try await body.iterator.next() {
                    guard case .head(let head) = part else { continue }
                    body.finished = false
                    let keepAlive = head.isKeepAlive
                    if head.headers.first(name: "Expect")?.lowercased() == "100-continue" {
                        try await connection.channel.writeAndFlush(
                            HTTPServerResponsePart.head(HTTPResponseHead(version: head.version, status: .continue))).get()
                    }
                    let writer = RegistryResponseWriter(channel: connection.channel, keepAlive: keepAlive,
                                                        tls: tls, isHead: head.method == .HEAD, state: .init())
                    let cleanEnd = await handle(head, tls: tls, body: body, writer: writer)
                    if !cleanEnd { break }
                    try await body.drain()
                    if !keepAlive {
                        // Half-close once the response is out and read on until the client hangs up:
                        // closing with its bytes unread would reset the connection and could destroy
                        // the response in flight.
                        try? await connection.channel.close(mode: .output).get()
                    }
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// Serves one request; false when the connection cannot carry another.
    func handle(_ head: HTTPRequestHead, tls: Bool, body: RegistryRequestBody, writer: RegistryResponseWriter) async -> Bool {
        let started = ContinuousClock.now
        let request = RegistryRequest(head: head, tls: tls)
        var clean = true
        do {
            try await api.handle(request, body: body, writer: writer)
        } catch {
            var extra: [(String, String)] = []
            let failure: RegistryError
            switch error {
            case let challenge as RegistryAPI.Challenge:
                failure = challenge.error
                if let header = challenge.header { extra.append(("WWW-Authenticate", header)) }
                extra += challenge.extra
            case let error as RegistryError:
                failure = error
            default:
                failure = RegistryError(.internalError, "internal error: \(error)")
            }
            if failure.status >= 500, !writer.hasWrittenHead {
                logger.error("request failed", metadata: ["path": "\(head.uri)", "error": "\(failure)"])
            }
            if writer.hasWrittenHead {
                logger.debug("response cut short", metadata: ["path": "\(head.uri)", "error": "\(failure)"])
                clean = false   // the status is on the wire already: all we can do is close
            } else {
                do {
                    // A request refused before its body was read: read on if the rest is small (the
                    // connection stays usable), close rather than take in a large upload for nothing.
                    if !(await body.drain(upTo: 1 << 20)) { extra.append(("Connection", "close")); clean = false }
                    try await writer.error(failure, headers: extra)
                } catch {
                    clean = false
                }
            }
        }
        logger.debug("request", metadata: [
            "method": "\(head.method.rawValue)", "uri": "\(head.uri)", "status": "\(writer.state.status)",
            "bytes": "\(writer.state.bytes)",
            "ms": "\((ContinuousClock.now - started).components.attoseconds / 1_000_000_000_000_000)",
        ])
        return clean
    }

    func collectPeriodically(every interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            let grace = configuration.collectionGrace
            let storage = self.storage
            let logger = self.logger
            _ = try? await NIOThreadPool.singleton.runIfActive {
                let report = GarbageCollector(storage: storage, logger: logger).collect(grace: grace, dryRun: false)
                logger.info("garbage collection", metadata: ["removedBlobs": "\(report.removedBlobs.count)",
                                                             "bytes": "\(report.reclaimedBytes)"])
            }
        }
    }
}

/// Closes a connection when `IdleStateHandler` reports it idle.
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
