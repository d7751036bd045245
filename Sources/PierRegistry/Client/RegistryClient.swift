import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import PierOCI
import Synchronization

/// A client of any registry that speaks the OCI distribution spec (Docker Hub, GHCR, ECR,
/// Harbor, CNCF distribution, Pier's own), on AsyncHTTPClient.
///
/// One instance lives as long as the daemon: it holds the HTTP connection pools (one for the
/// system trust store, one per registry with its own certificates, one for unverified TLS to
/// insecure registries) and remembers which scheme an insecure registry answered on.
public final class RegistryClient: Sendable {
    public static let userAgent = "pier/0.1.0 (linux) docker/28 (compatible)"

    public let hosts: RegistryHosts
    let logger: Logger
    let clients = Mutex<[String: HTTPClient]>([:])
    /// Endpoint host → the base URL that answered last time.
    let workingBase = Mutex<[String: String]>([:])
    /// Challenge and tokens per registry and credentials, kept across pulls and pushes.
    let authenticators = Mutex<[String: Authenticator]>([:])

    public init(hosts: RegistryHosts = RegistryHosts(), logger: Logger = Logger(label: "pier-registry-client")) {
        self.hosts = hosts
        self.logger = logger
    }

    deinit {
        // A client dropped without `shutdown()` (an engine that goes away) still closes its pools.
        for client in clients.withLock({ Array($0.values) }) {
            client.shutdown { _ in }
        }
    }

    /// Closes every connection pool; the client must not be used afterwards.
    public func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients.removeAll() }
            return Array(clients.values)
        }
        for client in all { try? await client.shutdown() }
    }

    /// The authenticator for `host` and `credentials`, shared by every session that uses them
    /// (so a token fetched for one pull serves the next until it expires).
    func authenticator(host: String, credentials: RegistryCredentials?) -> Authenticator {
        var key = host
        if let credentials {
            let text = [credentials.username, credentials.password, credentials.identityToken, credentials.registryToken]
                .map { $0 ?? "" }.joined(separator: "\u{0}")
            key += "\u{0}" + Digest.sha256(of: Array(text.utf8)).encoded
        }
        return authenticators.withLock { cache in
            if let existing = cache[key] { return existing }
            if cache.count >= 64 { cache.removeAll() }
            let created = Authenticator(credentials: credentials)
            cache[key] = created
            return created
        }
    }

    /// A session on one repository: `actions` are the token scope's (`pull`, `push`).
    public func repository(host: String, path: String, credentials: RegistryCredentials?,
                           actions: [String]) -> RepositorySession {
        RepositorySession(client: self, host: RegistryHosts.canonicalHost(host), repository: path,
                          credentials: credentials, actions: actions, shared: true)
    }

    /// Checks credentials against a registry as `docker login` does; returns an identity token
    /// when the registry's token service issued a refresh token.
    public func login(serverAddress: String, credentials: RegistryCredentials) async throws -> String? {
        let host = RegistryHosts.host(fromServerAddress: serverAddress)
        let session = RepositorySession(client: self, host: host, repository: "", credentials: credentials, actions: [],
                                        skipMirrors: true)
        try await session.connect()
        guard await session.authenticator.needsAuthentication else { return nil }
        let challenge = await session.authenticator.challenge
        if challenge?.isBearer == true {
            return try await session.authenticator.verifyWithTokenService(using: try session.resolvedHTTP())
        }
        // Basic: the ping itself must pass with the credentials.
        let response = try await session.send(.GET, path: "/v2/", scopes: [])
        _ = try? await response.body.collect(upTo: 1 << 16)
        guard response.status == .ok else {
            throw RegistryError(.unauthorized, "unauthorized: incorrect username or password", status: 401)
        }
        return nil
    }

    /// One result of `GET /v1/search` (Docker Hub's search API, which Pier's registry also offers).
    public struct SearchResult: Codable, Sendable {
        public var name: String
        public var description: String?
        public var star_count: Int?
        public var is_official: Bool?
        public var is_automated: Bool?
    }

    /// Searches a registry that offers Docker's `/v1/search`.
    public func search(host: String, term: String, limit: Int, credentials: RegistryCredentials?) async throws -> [SearchResult] {
        let canonical = RegistryHosts.canonicalHost(host)
        let session = RepositorySession(client: self, host: canonical, repository: "", credentials: credentials,
                                        actions: [], skipMirrors: true,
                                        fixedBase: canonical == "docker.io" ? "https://index.docker.io" : nil)
        try await session.connect(probe: canonical == "docker.io" ? "/v1/_ping" : "/v2/")
        let query = Authenticator.formEncode([("q", term), ("n", String(limit))])
        let response = try await session.send(.GET, path: "/v1/search?\(query)", scopes: [])
        let body = try await response.body.collect(upTo: 16 << 20)
        guard response.status == .ok else {
            if response.status == .notFound {
                throw RegistryError(.unsupported, "\(host) does not offer search (/v1/search)", status: 404)
            }
            throw RepositorySession.failure(response.status, body: body, context: "search on \(host)")
        }
        struct Answer: Decodable { var results: [SearchResult]? }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(body.readableBytesView)) else {
            throw RegistryError(.protocolError, "\(host) answered the search with something that is not a search result")
        }
        return answer.results ?? []
    }

    // MARK: connection pools

    /// The HTTP client for a base URL of an endpoint, with the right TLS settings.
    func http(for endpoint: RegistryHosts.Endpoint, baseURL: String) throws -> HTTPClient {
        let plain = baseURL.hasPrefix("http://")
        let certificates = hosts.certificates(for: endpoint.host)
        let custom = !certificates.cas.isEmpty || !certificates.clientPairs.isEmpty
        let key: String
        if plain { key = "plain" }
        else if custom { key = "certs:\(endpoint.host)\(endpoint.insecure ? ":insecure" : "")" }
        else if endpoint.insecure { key = "insecure" }
        else { key = "default" }
        if let existing = clients.withLock({ $0[key] }) { return existing }

        var tls = TLSConfiguration.makeClientConfiguration()
        if endpoint.insecure { tls.certificateVerification = .none }
        if !certificates.cas.isEmpty {
            tls.additionalTrustRoots = certificates.cas.map { .file($0) }
        }
        if let (certificate, privateKey) = certificates.clientPairs.first {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: privateKey, format: .pem))
            } catch {
                throw RegistryError(.invalidConfiguration, "cannot read client certificate \(certificate): \(error)")
            }
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(30), read: .seconds(120)),
            decompression: .disabled)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        // Fail fast (a TLS handshake with a plain-HTTP registry must fall back to HTTP at once);
        // transfers retry on their own, resuming where they stopped.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.httpVersion = .http1Only
        let created = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let (winner, loser) = clients.withLock { clients -> (HTTPClient, HTTPClient?) in
            if let existing = clients[key] { return (existing, created) }
            clients[key] = created
            return (created, nil)
        }
        if let loser { Task { try? await loser.shutdown() } }
        return winner
    }
}
