import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PierOCI
import Synchronization

/// Talking to one repository of one registry: finding the endpoint that answers, answering
/// its auth challenges, and the distribution API calls a pull or push needs.
public final class RepositorySession: Sendable {
    public let host: String
    public let repository: String
    let client: RegistryClient
    let authenticator: Authenticator
    let endpoints: [RegistryHosts.Endpoint]
    let baseScopes: [AccessScope]
    let resolved = Mutex<Resolved?>(nil)

    struct Resolved: Sendable {
        let endpoint: RegistryHosts.Endpoint
        let base: String
        let http: HTTPClient
    }

    /// `shared` sessions reuse the client's authenticator for these credentials (tokens cached
    /// across transfers); a login check always starts from nothing.
    init(client: RegistryClient, host: String, repository: String, credentials: RegistryCredentials?, actions: [String],
         skipMirrors: Bool = false, fixedBase: String? = nil, shared: Bool = false) {
        self.client = client
        self.host = host
        self.repository = repository
        self.authenticator = shared ? client.authenticator(host: host, credentials: credentials)
            : Authenticator(credentials: credentials)
        var endpoints = client.hosts.endpoints(for: host)
        if skipMirrors { endpoints = endpoints.filter { !$0.isMirror } }
        if let fixedBase {
            endpoints = [RegistryHosts.Endpoint(host: host, baseURLs: [fixedBase], isMirror: false, insecure: false)]
        }
        self.endpoints = endpoints
        self.baseScopes = actions.isEmpty || repository.isEmpty ? [] : [AccessScope(name: repository, actions: actions)]
    }

    /// The registry as users name it (`docker.io`, `localhost:5000`).
    public var displayHost: String { host }

    // MARK: connecting

    /// Pings `/v2/` on each candidate (mirrors first, then HTTPS, then HTTP for insecure
    /// registries) and keeps the first that answers as a registry, with its auth challenge.
    public func connect(probe: String = "/v2/") async throws {
        if resolved.withLock({ $0 != nil }) { return }
        var failures: [String] = []
        for endpoint in endpoints {
            var bases = endpoint.baseURLs
            if let known = client.workingBase.withLock({ $0[endpoint.host] }), let index = bases.firstIndex(of: known) {
                bases.swapAt(0, index)
            }
            for base in bases {
                do {
                    let http = try client.http(for: endpoint, baseURL: base)
                    var request = HTTPClientRequest(url: base + probe)
                    request.headers.add(name: "User-Agent", value: RegistryClient.userAgent)
                    let response = try await http.execute(request, timeout: .seconds(30))
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    if response.status == .unauthorized {
                        await authenticator.learn(response.headers["WWW-Authenticate"].flatMap(AuthChallenge.parse))
                    } else if response.status != .ok {
                        failures.append("\(base)\(probe): \(response.status.code)")
                        continue
                    }
                    client.workingBase.withLock { $0[endpoint.host] = base }
                    resolved.withLock { $0 = Resolved(endpoint: endpoint, base: base, http: http) }
                    return
                } catch let error as RegistryError {
                    throw error
                } catch {
                    failures.append("\(base)\(probe): \(RepositorySession.describe(error))")
                    client.logger.debug("registry endpoint did not answer", metadata: ["url": "\(base)", "error": "\(error)"])
                }
            }
        }
        throw RegistryError(.unreachable, "cannot reach registry \(host): " + failures.joined(separator: "; "))
    }

    func resolvedHTTP() throws -> HTTPClient {
        guard let http = resolved.withLock({ $0?.http }) else {
            throw RegistryError(.internalError, "registry session used before connect()")
        }
        return http
    }

    var base: String { resolved.withLock { $0?.base } ?? "" }

    // MARK: requests

    /// Sends a request with authorization, answering one 401 by (re)authenticating, and following
    /// redirects by hand so credentials never go to another host (blob stores behind a redirect).
    func send(_ method: HTTPMethod, path: String, headers: [(String, String)] = [], scopes extra: [AccessScope] = [],
              body: (@Sendable () -> HTTPClientRequest.Body?)? = nil, deadline: TimeAmount = .hours(2),
              followRedirects: Bool = false) async throws -> HTTPClientResponse {
        try await connect()
        let http = try resolvedHTTP()
        let scopes = baseScopes + extra
        var url = path.hasPrefix("http://") || path.hasPrefix("https://") ? path : base + path
        var attempt = 0
        var redirects = 0
        var sendAuthorization = true
        while true {
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "User-Agent", value: RegistryClient.userAgent)
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if sendAuthorization,
               let authorization = try await authenticator.authorization(for: scopes, using: http, forceRefresh: attempt > 0) {
                request.headers.add(name: "Authorization", value: authorization)
            }
            if let body { request.body = body() }
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, deadline: .now() + deadline)
            } catch {
                throw RegistryError(.unreachable, "\(method.rawValue) \(RepositorySession.redact(url)): \(RepositorySession.describe(error))",
                                    cause: error)
            }
            if response.status == .unauthorized, attempt == 0, sendAuthorization {
                let challenges = response.headers["WWW-Authenticate"].flatMap(AuthChallenge.parse)
                if !challenges.isEmpty {
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    await authenticator.learn(challenges)
                    attempt += 1
                    continue
                }
            }
            if followRedirects, [301, 302, 303, 307, 308].contains(response.status.code),
               let location = response.headers.first(name: "Location"), redirects < 5 {
                _ = try? await response.body.collect(upTo: 1 << 16)
                let next = RepositorySession.resolve(location, against: url)
                if RepositorySession.origin(next) != RepositorySession.origin(base) { sendAuthorization = false }
                url = next
                redirects += 1
                continue
            }
            return response
        }
    }

    /// Reads an error answer into a RegistryError with the registry's own words.
    static func failure(_ status: HTTPResponseStatus, body: ByteBuffer, context: String) -> RegistryError {
        if let decoded = try? JSONDecoder().decode(DistributionErrors.self, from: Data(body.readableBytesView)),
           let first = decoded.errors.first {
            let code = RegistryError.Code(rawValue: first.code) ?? .protocolError
            let words = first.code.lowercased().replacingOccurrences(of: "_", with: " ")
            let message = first.message.map { "\(words): \($0)" } ?? words
            return RegistryError(code, "\(context): \(message)", status: Int(status.code))
        }
        switch status {
        case .unauthorized:
            return RegistryError(.unauthorized, "\(context): unauthorized: authentication required", status: 401)
        case .forbidden:
            return RegistryError(.denied, "\(context): denied: requested access to the resource is denied", status: 403)
        case .tooManyRequests:
            return RegistryError(.tooManyRequests, "\(context): too many requests", status: 429)
        default:
            let text = String(buffer: body).prefix(200).trimmingCharacters(in: .whitespacesAndNewlines)
            return RegistryError(.protocolError, "\(context): the registry answered \(status.code) \(status.reasonPhrase)"
                                 + (text.isEmpty ? "" : ": \(text)"), status: Int(status.code))
        }
    }

    func expect(_ response: HTTPClientResponse, _ statuses: Set<UInt>, context: String) async throws {
        guard statuses.contains(response.status.code) else {
            let body = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
            throw RepositorySession.failure(response.status, body: body, context: context)
        }
    }

    // MARK: manifests

    public static let manifestAccept = [MediaType.ociIndex, MediaType.dockerManifestList, MediaType.ociManifest,
                                        MediaType.dockerManifest].joined(separator: ", ")

    public struct FetchedManifest: Sendable {
        public let bytes: [UInt8]
        public let mediaType: String
        public let digest: Digest
    }

    /// Fetches a manifest or index by tag or digest, verifying it against the digest it was
    /// asked by (or the `Docker-Content-Digest` the registry claims for a tag).
    public func manifest(_ reference: String) async throws -> FetchedManifest {
        let response = try await send(.GET, path: "/v2/\(repository)/manifests/\(reference)",
                                      headers: [("Accept", RepositorySession.manifestAccept)])
        if response.status == .notFound {
            let body = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
            let inner = RepositorySession.failure(response.status, body: body, context: "")
            throw RegistryError(.manifestUnknown, "manifest for \(displayName(reference)) not found" + inner.message, status: 404)
        }
        try await expect(response, [200], context: "fetching manifest \(displayName(reference))")
        let buffer = try await response.body.collect(upTo: RegistryAPI.manifestLimit)
        let bytes = Array((buffer).readableBytesView)
        let digest = Digest.sha256(of: bytes)
        if reference.contains(":") {
            guard reference == digest.description else {
                throw RegistryError(.digestInvalid, "manifest \(reference) from \(host) has the wrong content (it hashes to \(digest))")
            }
        } else if let claimed = response.headers.first(name: "Docker-Content-Digest"), claimed.hasPrefix("sha256:"),
                  claimed != digest.description {
            throw RegistryError(.digestInvalid, "manifest \(displayName(reference)) from \(host) does not match its "
                                + "Docker-Content-Digest \(claimed)")
        }
        var mediaType = response.headers.first(name: "Content-Type")?.split(separator: ";").first
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        if !MediaType.isManifest(mediaType), !MediaType.isIndex(mediaType) {
            struct Probe: Decodable { var mediaType: String?; var manifests: [Descriptor]? }
            let probe = try? JSONDecoder().decode(Probe.self, from: Data(bytes))
            mediaType = probe?.mediaType ?? (probe?.manifests != nil ? MediaType.ociIndex : MediaType.ociManifest)
        }
        return FetchedManifest(bytes: bytes, mediaType: mediaType, digest: digest)
    }

    /// Pushes a manifest under a tag or digest; returns the digest the registry stored.
    @discardableResult
    public func putManifest(_ bytes: [UInt8], mediaType: String, reference: String) async throws -> Digest {
        let buffer = ByteBuffer(bytes: bytes)
        let response = try await send(.PUT, path: "/v2/\(repository)/manifests/\(reference)",
                                      headers: [("Content-Type", mediaType)], body: { .bytes(buffer) })
        try await expect(response, [200, 201, 202], context: "pushing manifest \(displayName(reference))")
        _ = try? await response.body.collect(upTo: 1 << 16)
        return Digest.sha256(of: bytes)
    }

    /// Every tag, following `Link` pagination.
    public func tags() async throws -> [String] {
        var result: [String] = []
        var path: String? = "/v2/\(repository)/tags/list?n=1000"
        while let next = path {
            let response = try await send(.GET, path: next)
            try await expect(response, [200], context: "listing tags of \(host)/\(repository)")
            let body = try await response.body.collect(upTo: 32 << 20)
            struct TagList: Decodable { var tags: [String]? }
            guard let list = try? JSONDecoder().decode(TagList.self, from: Data(body.readableBytesView)) else {
                throw RegistryError(.protocolError, "\(host) answered the tag list with something else")
            }
            result += list.tags ?? []
            path = response.headers.first(name: "Link").flatMap(RepositorySession.nextLink)
        }
        return result
    }

    /// `</v2/x/tags/list?last=b&n=2>; rel="next"` → the path.
    static func nextLink(_ header: String) -> String? {
        guard header.contains("rel=\"next\"") || header.contains("rel=next"),
              let open = header.firstIndex(of: "<"), let close = header.firstIndex(of: ">"), open < close else { return nil }
        return String(header[header.index(after: open)..<close])
    }

    func displayName(_ reference: String) -> String {
        let name = host == "docker.io" && repository.hasPrefix("library/") ? String(repository.dropFirst(8))
            : (host == "docker.io" ? repository : "\(host)/\(repository)")
        return reference.contains(":") ? "\(name)@\(reference)" : "\(name):\(reference)"
    }

    // MARK: blobs

    /// The size of a blob if the repository has it (`HEAD`), else nil.
    public func blobSize(_ digest: Digest) async throws -> Int64? {
        let response = try await send(.HEAD, path: "/v2/\(repository)/blobs/\(digest)", followRedirects: true)
        if response.status == .notFound { return nil }
        try await expect(response, [200], context: "checking blob \(digest.shortID)")
        return response.headers.first(name: "Content-Length").flatMap { Int64($0) } ?? 0
    }

    /// A small blob (a config) whole, verified.
    public func blobBytes(_ digest: Digest, limit: Int = 64 << 20) async throws -> [UInt8] {
        let response = try await send(.GET, path: "/v2/\(repository)/blobs/\(digest)", followRedirects: true)
        try await expect(response, [200], context: "fetching blob \(digest.shortID)")
        let bytes = Array((try await response.body.collect(upTo: limit).readableBytesView))
        guard Digest.sha256(of: bytes) == digest else {
            throw RegistryError(.digestInvalid, "blob \(digest) from \(host) has the wrong content")
        }
        return bytes
    }

    /// Why a delivery failed: the consumer's own error, not the network's, so never retried.
    struct DeliveryFailure: Error { let error: any Error }

    /// Streams a blob to `deliver` piece by piece. A connection that breaks mid-blob is resumed
    /// with a `Range` request from the byte where it stopped (or, if the registry ignores ranges,
    /// by skipping what was already delivered), up to `retries` times. The consumer verifies the
    /// digest; this only guarantees every byte is delivered once, in order.
    public func streamBlob(_ digest: Digest, size: Int64, retries: Int = 5,
                           deliver: @Sendable (ByteBuffer) async throws -> Void) async throws {
        var received: Int64 = 0
        var failures = 0
        while true {
            do {
                var headers: [(String, String)] = []
                if received > 0 { headers.append(("Range", "bytes=\(received)-")) }
                let response = try await send(.GET, path: "/v2/\(repository)/blobs/\(digest)", headers: headers,
                                              followRedirects: true)
                try await expect(response, received > 0 ? [200, 206] : [200], context: "fetching blob \(digest.shortID)")
                var skip: Int64 = response.status == .ok ? received : 0
                for try await var piece in response.body {
                    if skip > 0 {
                        let drop = Int(min(skip, Int64(piece.readableBytes)))
                        piece.moveReaderIndex(forwardBy: drop)
                        skip -= Int64(drop)
                        if piece.readableBytes == 0 { continue }
                    }
                    received += Int64(piece.readableBytes)
                    if size >= 0, received > size {
                        throw RegistryError(.sizeInvalid, "blob \(digest.shortID) from \(host) is larger than the "
                                            + "\(size) bytes its descriptor says")
                    }
                    do { try await deliver(piece) } catch { throw DeliveryFailure(error: error) }
                }
                if size >= 0, received < size {
                    throw RegistryError(.unreachable, "the connection ended after \(received) of \(size) bytes")
                }
                return
            } catch let failure as DeliveryFailure {
                throw failure.error
            } catch let error as RegistryError where error.code != .unreachable {
                throw error
            } catch {
                failures += 1
                guard failures <= retries else {
                    throw RegistryError(.unreachable, "fetching blob \(digest.shortID) from \(host) failed after "
                                        + "\(failures) attempts: \(RepositorySession.describe(error))")
                }
                client.logger.info("blob download interrupted; resuming", metadata: [
                    "digest": "\(digest)", "offset": "\(received)", "error": "\(error)"])
                try await Task.sleep(for: .milliseconds(200 * failures))
            }
        }
    }

    /// Downloads a blob into a pipe whose consumer (a blocking thread) stores and unpacks it,
    /// reporting the bytes received so far. The pipe ends, or fails with the download's error.
    public func download(_ digest: Digest, size: Int64, into pipe: BlobPipe,
                         progress: @escaping @Sendable (Int64) -> Void) async throws {
        let received = Mutex<Int64>(0)
        do {
            try await streamBlob(digest, size: size) { piece in
                try await pipe.send(piece)
                progress(received.withLock { $0 += Int64(piece.readableBytes); return $0 })
            }
            pipe.finish()
        } catch {
            pipe.fail(error)
            throw error
        }
    }

    public enum BlobPushOutcome: Sendable, Equatable {
        case exists
        case mounted(from: String)
        case uploaded
    }

    /// Pushes a blob from a file unless the repository has it: `HEAD`, then a cross-repository
    /// mount from `mountSources` (repositories of this registry known to hold it), then an upload.
    /// Up to `chunkSize` bytes go in one `PUT`; larger blobs go as `PATCH` chunks with
    /// `Content-Range`. A broken connection resumes from the offset the registry reports.
    public func pushBlob(_ digest: Digest, size: Int64, file: String, mountSources: [String] = [],
                         chunkSize: Int64 = 256 << 20, retries: Int = 3,
                         progress: @escaping @Sendable (Int64) -> Void = { _ in }) async throws -> BlobPushOutcome {
        if try await blobSize(digest) != nil { return .exists }
        var failures = 0
        var location = try await startUpload(digest, mountSources: mountSources)
        if case .mounted(let from) = location { return .mounted(from: from) }
        var offset: Int64 = 0
        while true {
            guard case .upload(let url) = location else { return .uploaded }
            do {
                if offset == 0 && size <= chunkSize {
                    let response = try await send(.PUT, path: RepositorySession.appendDigest(url, digest),
                                                  headers: [("Content-Type", "application/octet-stream"),
                                                            ("Content-Length", String(size))],
                                                  body: { .stream(FileChunks(path: file, offset: 0, length: size, progress: progress),
                                                                  length: .known(size)) })
                    try await expect(response, [201, 204], context: "uploading blob \(digest.shortID)")
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    return .uploaded
                }
                var current = url
                while offset < size {
                    let length = min(chunkSize, size - offset)
                    let start = offset
                    let response = try await send(.PATCH, path: current,
                                                  headers: [("Content-Type", "application/octet-stream"),
                                                            ("Content-Length", String(length)),
                                                            ("Content-Range", "\(start)-\(start + length - 1)")],
                                                  body: { .stream(FileChunks(path: file, offset: start, length: length,
                                                                             progress: { progress(start + $0) }),
                                                                  length: .known(length)) })
                    try await expect(response, [202, 204], context: "uploading blob \(digest.shortID)")
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    if let next = response.headers.first(name: "Location") { current = RepositorySession.resolve(next, against: base) }
                    offset += length
                }
                let response = try await send(.PUT, path: RepositorySession.appendDigest(current, digest),
                                              headers: [("Content-Length", "0")])
                try await expect(response, [201, 204], context: "completing upload of blob \(digest.shortID)")
                _ = try? await response.body.collect(upTo: 1 << 16)
                return .uploaded
            } catch let error as RegistryError where error.code != .unreachable {
                throw error
            } catch {
                failures += 1
                guard failures <= retries else {
                    throw RegistryError(.unreachable, "uploading blob \(digest.shortID) to \(host) failed after "
                                        + "\(failures) attempts: \(RepositorySession.describe(error))")
                }
                client.logger.info("blob upload interrupted; resuming", metadata: ["digest": "\(digest)", "error": "\(error)"])
                try await Task.sleep(for: .milliseconds(200 * failures))
                // Ask where the upload stands (the registry may still be finishing the broken
                // request: ask a few times); give it up and start again if that does not work.
                var status: (Int64, String)?
                for attempt in 0..<5 where status == nil {
                    if attempt > 0 { try await Task.sleep(for: .milliseconds(100 * attempt)) }
                    status = try? await uploadStatus(url)
                }
                if let (resumeAt, next) = status {
                    offset = resumeAt
                    location = .upload(next)
                } else {
                    if let response = try? await send(.DELETE, path: url) { _ = try? await response.body.collect(upTo: 1 << 16) }
                    offset = 0
                    location = try await startUpload(digest, mountSources: [])
                }
            }
        }
    }

    /// Uploads a blob while it is still being made (a layer being compressed): one `PATCH` whose
    /// body is `pipe` (chunked), then the closing `PUT` with the digest `finish` returns once the
    /// producer is done. The pipe is closed however this ends; a caller whose stream upload
    /// failed can still push the finished blob from its file with `pushBlob`.
    public func pushStreamed(_ pipe: UploadPipe, finish: @Sendable () async throws -> Digest) async throws {
        defer { pipe.close() }
        guard case .upload(let url) = try await startUpload(nil, mountSources: []) else {
            throw RegistryError(.protocolError, "the registry mounted a blob it was not asked to mount")
        }
        let response = try await send(.PATCH, path: url, headers: [("Content-Type", "application/octet-stream")],
                                      body: { .stream(pipe, length: .unknown) })
        try await expect(response, [202, 204], context: "uploading a layer")
        _ = try? await response.body.collect(upTo: 1 << 16)
        let next = response.headers.first(name: "Location").map { RepositorySession.resolve($0, against: base) } ?? url
        let digest = try await finish()
        let done = try await send(.PUT, path: RepositorySession.appendDigest(next, digest), headers: [("Content-Length", "0")])
        try await expect(done, [201, 204], context: "completing upload of blob \(digest.shortID)")
        _ = try? await done.body.collect(upTo: 1 << 16)
    }

    enum UploadStart: Sendable {
        case mounted(String)
        case upload(String)
    }

    func startUpload(_ digest: Digest?, mountSources: [String]) async throws -> UploadStart {
        for source in mountSources where source != repository {
            guard let digest else { break }
            let query = Authenticator.formEncode([("mount", digest.description), ("from", source)])
            let response = try await send(.POST, path: "/v2/\(repository)/blobs/uploads/?\(query)",
                                          headers: [("Content-Length", "0")],
                                          scopes: [AccessScope(name: source, actions: ["pull"])])
            _ = try? await response.body.collect(upTo: 1 << 16)
            if response.status == .created { return .mounted(source) }
            if response.status == .accepted, let location = response.headers.first(name: "Location") {
                return .upload(RepositorySession.resolve(location, against: base))
            }
        }
        let response = try await send(.POST, path: "/v2/\(repository)/blobs/uploads/", headers: [("Content-Length", "0")])
        guard response.status == .accepted, let location = response.headers.first(name: "Location") else {
            try await expect(response, [], context: "starting upload of blob \(digest?.shortID ?? "")")
            throw RegistryError(.protocolError, "the registry did not start an upload")
        }
        _ = try? await response.body.collect(upTo: 1 << 16)
        return .upload(RepositorySession.resolve(location, against: base))
    }

    /// `GET` on an upload: how many bytes the registry has (from `Range: 0-N`), and its location.
    func uploadStatus(_ url: String) async throws -> (Int64, String) {
        let response = try await send(.GET, path: url)
        _ = try? await response.body.collect(upTo: 1 << 16)
        guard response.status == .noContent || response.status == .accepted,
              let range = response.headers.first(name: "Range") else {
            throw RegistryError(.blobUploadUnknown, "the registry no longer knows the upload")
        }
        let end = range.split(separator: "-").last.flatMap { Int64($0) } ?? -1
        let location = response.headers.first(name: "Location").map { RepositorySession.resolve($0, against: base) } ?? url
        // "0-0" is ambiguous (nothing, or one byte); resuming from 0 is always safe.
        return (end <= 0 ? 0 : end + 1, location)
    }

    // MARK: URLs

    static func appendDigest(_ url: String, _ digest: Digest) -> String {
        url + (url.contains("?") ? "&" : "?") + "digest=" + digest.description.replacingOccurrences(of: ":", with: "%3A")
    }

    static func resolve(_ location: String, against base: String) -> String {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        let origin = RepositorySession.origin(base)
        return location.hasPrefix("/") ? origin + location : origin + "/" + location
    }

    /// `scheme://host[:port]` of a URL.
    static func origin(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let end = rest.firstIndex(of: "/") ?? rest.endIndex
        return String(url[..<end])
    }

    /// A URL without its query (upload URLs carry state tokens).
    static func redact(_ url: String) -> String {
        url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? RegistryError { return error.message }
        if let error = error as? HTTPClientError { return "\(error)" }
        return String(describing: error)
    }
}

/// A byte range of a file as an async sequence of buffers, read on NIO's thread pool, reporting
/// how many bytes have been handed out.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    let offset: Int64
    let length: Int64
    let progress: @Sendable (Int64) -> Void

    func makeAsyncIterator() -> Iterator {
        Iterator(reader: Reader(path: path), position: offset, end: offset + length, start: offset, progress: progress)
    }

    final class Reader: @unchecked Sendable {
        // Used by one iterator at a time.
        let path: String
        var fd: Int32 = -1

        init(path: String) { self.path = path }
        deinit { if fd >= 0 { close(fd) } }

        func read(at position: Int64, count: Int) throws -> ByteBuffer {
            if fd < 0 {
                fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw RegistryError(.storage, "cannot open \(path): \(Files.errnoText())") }
            }
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            let descriptor = fd
            let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                var done = 0
                while done < count {
                    let got = pread(descriptor, base + done, count - done, off_t(position) + off_t(done))
                    if got < 0, errno == EINTR { continue }
                    if got <= 0 { break }
                    done += got
                }
                return done
            }
            guard n == count else { throw RegistryError(.storage, "\(path) is shorter than expected") }
            return buffer
        }
    }

    struct Iterator: AsyncIteratorProtocol {
        let reader: Reader
        var position: Int64
        let end: Int64
        let start: Int64
        let progress: @Sendable (Int64) -> Void

        mutating func next() async throws -> ByteBuffer? {
            guard position < end else { return nil }
            let count = Int(Swift.min(Int64(1 << 20), end - position))
            let reader = self.reader
            let at = position
            let buffer = try await Offload.pool { try reader.read(at: at, count: count) }
            position += Int64(count)
            progress(position - start)
            return buffer
        }
    }
}
