import Foundation
import Logging
import PierOCI
import PierRegistry
import PierStore
import Synchronization

/// One line of a pull or push progress stream, as Docker's daemon reports it: a status for an
/// ID (a layer, a tag) or for the whole transfer, with byte counts while bytes move.
public struct TransferProgress: Sendable {
    public var id: String?
    public var status: String
    public var current: Int64?
    public var total: Int64?
    /// The final result of a push (`{"Tag":…,"Digest":…,"Size":…}`).
    public var pushed: PushResult?
    /// A layer's line (redrawn in place by the docker CLI), not a heading such as "Pulling from".
    public var isLayer = true

    public init(id: String? = nil, status: String, current: Int64? = nil, total: Int64? = nil) {
        self.id = id
        self.status = status
        self.current = current
        self.total = total
    }
}

public struct PushResult: Codable, Sendable {
    public var Tag: String
    public var Digest: String
    public var Size: Int
}

public typealias ProgressHandler = @Sendable (TransferProgress) -> Void

/// Images to and from registries: `pull`, `push`, `login` and `search`, for pierd's
/// `/images/create?fromImage=`, `/images/{name}/push`, `/auth` and `/images/search`.
///
/// Registry settings come from `daemon.json` (`PIER_DAEMON_CONFIG`, else `/etc/pier/daemon.json`):
/// `insecure-registries`, `registry-mirrors`, and `certs-dirs` (default `/etc/pier/certs.d` and
/// `/etc/docker/certs.d`). Credentials never come from the daemon's own files: clients send them
/// with each request (`X-Registry-Auth`), as Docker's do.
public final class RegistryService: Sendable {
    public let client: RegistryClient
    let transfer: ImageTransfer
    let metadata: DistributionMetadata
    let logger: Logger
    /// Parallel layer downloads and uploads (Docker's defaults: 3 and 5).
    let concurrentDownloads = 3
    let concurrentUploads = 5
    /// gzip level for layers Pier compresses to push (1: fastest; Docker uses 6).
    let gzipLevel: Int
    var store: ImageStore { transfer.store }

    public init(transfer: ImageTransfer, root: String, logger: Logger) {
        self.transfer = transfer
        self.logger = logger
        let configPath = ProcessInfo.processInfo.environment["PIER_DAEMON_CONFIG"] ?? "/etc/pier/daemon.json"
        var hosts = RegistryHosts()
        do {
            hosts = try RegistryHosts.load(daemonConfig: configPath)
        } catch {
            logger.error("ignoring registry settings", metadata: ["error": "\(error)"])
        }
        client = RegistryClient(hosts: hosts, logger: logger)
        metadata = DistributionMetadata(directory: root + "/registry")
        gzipLevel = ProcessInfo.processInfo.environment["PIER_PUSH_GZIP_LEVEL"].flatMap(Int.init).map { min(max($0, 1), 9) } ?? 1
    }

    // MARK: login

    public struct LoginResult: Codable, Sendable {
        public var Status: String
        public var IdentityToken: String
    }

    /// Checks credentials against a registry (`POST /auth`); nothing is stored here.
    public func login(_ config: RegistryAuthConfig) async throws -> LoginResult {
        guard let credentials = config.credentials, credentials.username != nil || credentials.identityToken != nil else {
            throw EngineError(.invalidArgument, "login needs a username and password")
        }
        let address = config.serveraddress.flatMap { $0.isEmpty ? nil : $0 } ?? "docker.io"
        let token = try await client.login(serverAddress: address, credentials: credentials)
        logger.info("login succeeded", metadata: ["registry": "\(RegistryHosts.host(fromServerAddress: address))"])
        return LoginResult(Status: "Login Succeeded", IdentityToken: token ?? "")
    }

    // MARK: search

    public struct SearchItem: Codable, Sendable {
        public var name: String
        public var description: String
        public var star_count: Int
        public var is_official: Bool
        public var is_automated: Bool
    }

    /// `GET /images/search`: `term` may start with a registry (`localhost:5000/app`); Docker Hub otherwise.
    public func search(term: String, limit: Int, filters: [String: [String]], auth: RegistryAuthConfig?) async throws -> [SearchItem] {
        var host = "docker.io"
        var query = term
        if let slash = term.firstIndex(of: "/") {
            let first = String(term[..<slash])
            if first.contains(".") || first.contains(":") || first == "localhost" {
                host = first
                query = String(term[term.index(after: slash)...])
            }
        }
        let results = try await client.search(host: host, term: query, limit: limit, credentials: auth?.credentials)
        let minimumStars = filters["stars"]?.compactMap(Int.init).max() ?? 0
        let official = filters["is-official"]?.first.map { $0 == "true" || $0 == "1" }
        let automated = filters["is-automated"]?.first.map { $0 == "true" || $0 == "1" }
        return results.compactMap { result in
            let item = SearchItem(name: result.name, description: result.description ?? "", star_count: result.star_count ?? 0,
                                  is_official: result.is_official ?? false, is_automated: result.is_automated ?? false)
            guard item.star_count >= minimumStars else { return nil }
            if let official, item.is_official != official { return nil }
            if let automated, item.is_automated != automated { return nil }
            return item
        }
    }

    // MARK: helpers

    /// Runs `work` at most `limit` at a time, in order of `items`; the first failure cancels the rest.
    static func forEach<T: Sendable>(_ items: [T], limit: Int,
                                     _ work: @escaping @Sendable (Int, T) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            while next < min(limit, items.count) {
                let index = next
                group.addTask { try await work(index, items[index]) }
                next += 1
            }
            while try await group.next() != nil {
                if next < items.count {
                    let index = next
                    group.addTask { try await work(index, items[index]) }
                    next += 1
                }
            }
        }
    }

    /// Parses `os/arch[/variant]`.
    static func platform(_ text: String) throws -> Platform {
        let parts = text.split(separator: "/").map(String.init)
        guard parts.count >= 2, parts.count <= 3 else {
            throw EngineError(.invalidArgument, "invalid platform \"\(text)\": expected os/arch[/variant], e.g. linux/amd64")
        }
        return Platform(architecture: parts[1], os: parts[0], variant: parts.count == 3 ? parts[2] : nil)
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = (ContinuousClock.now - start).components
        return elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000
    }

    /// Calls `report` at most every 100 ms (and always for the final count).
    final class Throttle: Sendable {
        let last = Mutex<ContinuousClock.Instant?>(nil)
        func due(final: Bool) -> Bool {
            let now = ContinuousClock.now
            return last.withLock { last in
                if !final, let previous = last, now - previous < .milliseconds(100) { return false }
                last = now
                return true
            }
        }
    }
}
