import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PierOCI

/// The OCI distribution spec v1.1 endpoints (spec.md "API"), plus Docker's token service at
/// `/token` and `/v1/search` over the catalog. Each handler authorizes first, then touches
/// storage on NIO's thread pool.
struct RegistryAPI: Sendable {
    let storage: RegistryStorage
    let uploads: UploadSessions
    let access: AccessControl
    let logger: Logger
    static let manifestLimit = 4 << 20

    enum Route: Equatable {
        case base
        case catalog
        case token
        case search
        case tags(RepositoryName)
        case manifest(RepositoryName, String)
        case blob(RepositoryName, String)
        case uploads(RepositoryName)
        case upload(RepositoryName, String)
        case referrers(RepositoryName, String)
    }

    /// Maps a path to a route; names are validated here, so nothing later sees `..` or upper case.
    static func route(_ path: String) throws(RegistryError) -> Route? {
        if path == "/token" { return .token }
        if path == "/v1/search" { return .search }
        guard path.hasPrefix("/v2/") || path == "/v2" else { return nil }
        let rest = path.dropFirst(path == "/v2" ? 3 : 4)
        if rest.isEmpty { return .base }
        if rest == "_catalog" { return .catalog }
        let segments = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        func name(dropping count: Int) throws(RegistryError) -> RepositoryName {
            guard segments.count > count else { throw RegistryError(.nameInvalid, "missing repository name") }
            return try RepositoryName(segments.dropLast(count).joined(separator: "/"))
        }
        let count = segments.count
        if count >= 3, segments[count - 3] == "blobs", segments[count - 2] == "uploads" {
            return segments[count - 1].isEmpty ? .uploads(try name(dropping: 3)) : .upload(try name(dropping: 3), segments[count - 1])
        }
        guard count >= 3 else { return nil }
        switch segments[count - 2] {
        case "blobs":
            if segments[count - 1] == "uploads" { return .uploads(try name(dropping: 2)) }
            return .blob(try name(dropping: 2), segments[count - 1])
        case "manifests": return .manifest(try name(dropping: 2), segments[count - 1])
        case "tags" where segments[count - 1] == "list": return .tags(try name(dropping: 2))
        case "referrers": return .referrers(try name(dropping: 2), segments[count - 1])
        default: return nil
        }
    }

    func handle(_ request: RegistryRequest, body: RegistryRequestBody, writer: RegistryResponseWriter) async throws {
        guard let route = try RegistryAPI.route(request.path) else {
            throw RegistryError(.nameUnknown, "page not found: \(request.path)", status: 404)
        }
        let method = request.method
        switch (route, method) {
        case (.base, .GET), (.base, .HEAD):
            _ = try authorize(request, [])
            try await writer.json([String: String]())
        case (.catalog, .GET):
            let user = try authorize(request, [AccessScope(type: "registry", name: "catalog", actions: ["*"])])
            try await catalog(request, user: user, writer)
        case (.token, .GET), (.token, .POST):
            try await TokenService(access: access).handle(request, body: body, writer: writer)
        case (.search, .GET):
            try await search(request, writer)
        case (.tags(let name), .GET):
            _ = try authorize(request, [.repository(name.value, "pull")])
            try await tags(name, request, writer)
        case (.manifest(let name, let reference), .GET), (.manifest(let name, let reference), .HEAD):
            _ = try authorize(request, [.repository(name.value, "pull")])
            try await getManifest(name, try ManifestReference(reference), writer)
        case (.manifest(let name, let reference), .PUT):
            _ = try authorize(request, [.repository(name.value, "pull", "push")])
            try await putManifest(name, try ManifestReference(reference), request, body, writer)
        case (.manifest(let name, let reference), .DELETE):
            _ = try authorize(request, [.repository(name.value, "delete")])
            let ref = try ManifestReference(reference)
            try await run { try storage.deleteManifest(name, ref) }
            try await writer.empty(.accepted)
        case (.blob(let name, let digestText), .GET), (.blob(let name, let digestText), .HEAD):
            _ = try authorize(request, [.repository(name.value, "pull")])
            try await getBlob(name, try RegistryAPI.digest(digestText), request, writer)
        case (.blob(let name, let digestText), .DELETE):
            _ = try authorize(request, [.repository(name.value, "delete")])
            let digest = try RegistryAPI.digest(digestText)
            try await run { try storage.unlinkBlob(name, digest) }
            try await writer.empty(.accepted, headers: [("Docker-Content-Digest", digest.description)])
        case (.uploads(let name), .POST):
            _ = try authorize(request, [.repository(name.value, "pull", "push")])
            try await startUpload(name, request, body, writer)
        case (.upload(let name, let id), .GET):
            _ = try authorize(request, [.repository(name.value, "pull", "push")])
            let upload = try uploads.checkOut(id, repository: name)
            uploads.checkIn(upload)
            try await writer.empty(.noContent, headers: uploadHeaders(name, upload))
        case (.upload(let name, let id), .PATCH):
            _ = try authorize(request, [.repository(name.value, "pull", "push")])
            try await patchUpload(name, id, request, body, writer)
        case (.upload(let name, let id), .PUT):
            _ = try authorize(request, [.repository(name.value, "pull", "push")])
            try await finishUpload(name, id, request, body, writer)
        case (.upload(let name, let id), .DELETE):
            _ = try authorize(request, [.repository(name.value, "pull", "push")])
            let upload = try uploads.checkOut(id, repository: name)
            uploads.cancel(upload)
            try await writer.empty(.noContent)
        case (.referrers(let name, let digestText), .GET):
            _ = try authorize(request, [.repository(name.value, "pull")])
            try await referrers(name, try RegistryAPI.digest(digestText), request, writer)
        default:
            throw RegistryError(.unsupported, "\(method.rawValue) is not supported on \(request.path)")
        }
    }

    // MARK: authorization

    /// Throws the 401/403 the access control decides on; returns the user.
    func authorize(_ request: RegistryRequest, _ scopes: [AccessScope]) throws(Challenge) -> String? {
        switch access.authorize(authorization: request.header("Authorization"), scopes: scopes, realmBase: request.base) {
        case .allow(let user): return user
        case .challenge(let error, let header): throw Challenge(error: error, header: header)
        case .deny(let error): throw Challenge(error: error, header: nil)
        }
    }

    /// Whether the client may pull from `name` (for a cross-repository mount's source).
    func mayPull(_ request: RegistryRequest, _ name: RepositoryName) -> Bool {
        do {
            _ = try authorize(request, [.repository(name.value, "pull")])
            return true
        } catch {
            return false
        }
    }

    /// A refusal with its `WWW-Authenticate` header.
    struct Challenge: Error {
        let error: RegistryError
        let header: String?
        var extra: [(String, String)] = []
    }

    // MARK: catalog, tags, search

    /// Repositories the client may pull from, in order.
    func catalog(_ request: RegistryRequest, user: String?, _ writer: RegistryResponseWriter) async throws {
        let names = try await run { storage.repositories().map(\.value) }.filter(visible(to: user))
        let (page, next) = try RegistryAPI.paginate(names, request)
        var headers: [(String, String)] = []
        if let next { headers.append(("Link", "</v2/_catalog?last=\(RegistryRequest.encode(next))&n=\(page.count)>; rel=\"next\"")) }
        try await writer.json(["repositories": page], headers: headers)
    }

    func tags(_ name: RepositoryName, _ request: RegistryRequest, _ writer: RegistryResponseWriter) async throws {
        let tags = try await run { () throws(RegistryError) -> [String] in
            guard storage.repositoryExists(name) else {
                throw RegistryError(.nameUnknown, "repository name not known to registry: \(name)")
            }
            return storage.tags(name)
        }
        let (page, next) = try RegistryAPI.paginate(tags, request)
        var headers: [(String, String)] = []
        if let next {
            headers.append(("Link", "</v2/\(name)/tags/list?last=\(RegistryRequest.encode(next))&n=\(page.count)>; rel=\"next\""))
        }
        try await writer.json(TagList(name: name.value, tags: page), headers: headers)
    }

    struct TagList: Codable {
        var name: String
        var tags: [String]
    }

    /// `n` and `last` (spec.md "Listing Tags"): entries after `last`, at most `n`; the last
    /// entry of a short page names the next.
    static func paginate(_ sorted: [String], _ request: RegistryRequest) throws(RegistryError) -> ([String], String?) {
        var items = sorted
        if let last = request.query("last"), !last.isEmpty { items = items.filter { $0 > last } }
        guard let text = request.query("n") else { return (items, nil) }
        guard let n = Int(text), n >= 0 else {
            throw RegistryError(.unsupported, "invalid n=\(text): expected a non-negative number", status: 400)
        }
        if items.count > n {
            let page = Array(items.prefix(n))
            return (page, page.last)
        }
        return (items, nil)
    }

    func search(_ request: RegistryRequest, _ writer: RegistryResponseWriter) async throws {
        let term = request.query("q") ?? ""
        let limit = min(max(Int(request.query("n") ?? "") ?? 25, 1), 100)
        let user = try authorize(request, [])
        let names = try await run { storage.repositories().map(\.value) }
        let visible = names.filter(visible(to: user)).filter { term.isEmpty || $0.contains(term.lowercased()) }
        let results = visible.prefix(limit).map {
            SearchResult(name: $0, description: "", star_count: 0, is_official: false, is_automated: false)
        }
        try await writer.json(SearchResults(num_results: visible.count, query: term, results: Array(results),
                                            page: 1, num_pages: 1, page_size: limit))
    }

    func visible(to user: String?) -> (String) -> Bool {
        { name in
            if case .open = access.mode { return true }
            return access.policy.actions(user: user, repository: name).contains("pull")
        }
    }

    struct SearchResult: Codable {
        var name: String
        var description: String
        var star_count: Int
        var is_official: Bool
        var is_automated: Bool
    }

    struct SearchResults: Codable {
        var num_results: Int
        var query: String
        var results: [SearchResult]
        var page: Int
        var num_pages: Int
        var page_size: Int
    }

    // MARK: manifests

    func getManifest(_ name: RepositoryName, _ reference: ManifestReference, _ writer: RegistryResponseWriter) async throws {
        let stored = try await run { try storage.manifest(name, reference) }
        let path = storage.blobPath(stored.digest)
        try await writer.head(.ok, headers: [("Docker-Content-Digest", stored.digest.description),
                                             ("ETag", "\"\(stored.digest)\"")],
                              contentType: stored.mediaType, contentLength: stored.size)
        try await writer.file(path, offset: 0, length: stored.size)
        try await writer.end()
    }

    func putManifest(_ name: RepositoryName, _ reference: ManifestReference, _ request: RegistryRequest,
                     _ body: RegistryRequestBody, _ writer: RegistryResponseWriter) async throws {
        let bytes = try await body.collect(limit: RegistryAPI.manifestLimit)
        let contentType = request.header("Content-Type")
        let document = try ManifestValidation.parse(bytes, contentType: contentType)
        let digest = Digest.sha256(of: bytes)
        let tag: String?
        switch reference {
        case .digest(let expected):
            guard expected == digest else {
                throw RegistryError(.digestInvalid, "manifest digest \(digest) does not match \(expected) in the URL")
            }
            tag = nil
        case .tag(let value):
            tag = value
        }
        let stored = try await run { () throws(RegistryError) -> Digest in
            try storage.putManifest(name, bytes: bytes, mediaType: document.mediaType, tag: tag,
                                    subject: document.subject?.digest) { () throws(RegistryError) in
                try ManifestValidation.checkReferences(document, in: name, storage: storage)
            }
        }
        var headers = [("Location", "/v2/\(name)/manifests/\(stored)"), ("Docker-Content-Digest", stored.description)]
        if let subject = document.subject { headers.append(("OCI-Subject", subject.digest.description)) }
        logger.info("manifest pushed", metadata: ["repository": "\(name)", "reference": "\(reference)", "digest": "\(stored)"])
        try await writer.empty(.created, headers: headers)
    }

    func referrers(_ name: RepositoryName, _ subject: Digest, _ request: RegistryRequest,
                   _ writer: RegistryResponseWriter) async throws {
        let filter = request.query("artifactType")
        let descriptors = try await run { () -> [Descriptor] in
            storage.referrers(name, subject).compactMap { digest -> Descriptor? in
                guard let stored = try? storage.manifest(name, .digest(digest)),
                      let document = try? storage.content.readJSON(ReferrerProbe.self, digest) else { return nil }
                var descriptor = Descriptor(mediaType: stored.mediaType, digest: digest, size: stored.size,
                                            annotations: document.annotations)
                descriptor.artifactType = document.artifactType ?? document.config?.mediaType
                return descriptor
            }
        }
        let selected = filter.map { type in descriptors.filter { $0.artifactType == type } } ?? descriptors
        var headers: [(String, String)] = []
        if filter != nil { headers.append(("OCI-Filters-Applied", "artifactType")) }
        try await writer.json(ImageIndex(mediaType: MediaType.ociIndex, manifests: selected), headers: headers,
                              contentType: MediaType.ociIndex)
    }

    struct ReferrerProbe: Decodable {
        var artifactType: String?
        var config: Descriptor?
        var annotations: [String: String]?
    }

    // MARK: blobs

    func getBlob(_ name: RepositoryName, _ digest: Digest, _ request: RegistryRequest,
                 _ writer: RegistryResponseWriter) async throws {
        let size = try await run { () throws(RegistryError) -> Int64 in
            guard storage.hasBlob(name, digest), let size = storage.blobSize(digest) else {
                throw RegistryError(.blobUnknown, "blob unknown to registry: \(digest)")
            }
            return size
        }
        var headers = [("Docker-Content-Digest", digest.description), ("Accept-Ranges", "bytes"),
                       ("ETag", "\"\(digest)\""), ("Cache-Control", "max-age=31536000")]
        var start: Int64 = 0
        var length = size
        var status = HTTPResponseStatus.ok
        if let range = request.header("Range"), request.method == .GET {
            guard let (from, to) = RegistryAPI.byteRange(range, size: size) else {
                throw RegistryError(.rangeInvalid, "requested range \(range) not satisfiable for \(size) bytes")
            }
            start = from
            length = to - from + 1
            status = .partialContent
            headers.append(("Content-Range", "bytes \(from)-\(to)/\(size)"))
        }
        try await writer.head(status, headers: headers, contentType: "application/octet-stream", contentLength: length)
        try await writer.file(storage.blobPath(digest), offset: start, length: length)
        try await writer.end()
    }

    /// `bytes=FROM-TO` or `bytes=FROM-` (one range only).
    static func byteRange(_ header: String, size: Int64) -> (Int64, Int64)? {
        guard header.hasPrefix("bytes=") else { return nil }
        let parts = header.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let from = Int64(parts[0]), from >= 0, from < size else { return nil }
        if parts[1].isEmpty { return (from, size - 1) }
        guard let to = Int64(parts[1]), to >= from else { return nil }
        return (from, min(to, size - 1))
    }

    // MARK: uploads

    func uploadHeaders(_ name: RepositoryName, _ upload: UploadSessions.Upload) -> [(String, String)] {
        [("Location", "/v2/\(name)/blobs/uploads/\(upload.id)"),
         ("Range", "0-\(max(upload.offset - 1, 0))"),
         ("Docker-Upload-UUID", upload.id)]
    }

    func startUpload(_ name: RepositoryName, _ request: RegistryRequest, _ body: RegistryRequestBody,
                     _ writer: RegistryResponseWriter) async throws {
        if let mountText = request.query("mount") {
            let digest = try RegistryAPI.digest(mountText)
            if let from = request.query("from").flatMap({ try? RepositoryName($0) }), mayPull(request, from) {
                let mounted = try await run { () -> Bool in
                    guard storage.hasBlob(from, digest) else { return false }
                    return (try? storage.linkBlob(name, digest)) != nil
                }
                if mounted {
                    try await body.drain()
                    logger.debug("blob mounted", metadata: ["repository": "\(name)", "from": "\(from)", "digest": "\(digest)"])
                    try await writer.empty(.created, headers: [("Location", "/v2/\(name)/blobs/\(digest)"),
                                                               ("Docker-Content-Digest", digest.description)])
                    return
                }
            }
            // Not mountable: fall back to an ordinary upload, as the spec says.
        }
        let upload = try await run { try uploads.start(name) }
        if let digestText = request.query("digest") {
            // Monolithic upload in one POST.
            let digest = try RegistryAPI.digest(digestText)
            _ = try uploads.checkOut(upload.id, repository: name)
            do {
                try await receive(body, into: upload)
                try await run { try uploads.finish(upload, digest: digest) }
            } catch {
                uploads.cancel(upload)
                throw error
            }
            try await writer.empty(.created, headers: [("Location", "/v2/\(name)/blobs/\(digest)"),
                                                       ("Docker-Content-Digest", digest.description)])
            return
        }
        try await body.drain()
        try await writer.empty(.accepted, headers: uploadHeaders(name, upload))
    }

    func patchUpload(_ name: RepositoryName, _ id: String, _ request: RegistryRequest, _ body: RegistryRequestBody,
                     _ writer: RegistryResponseWriter) async throws {
        let upload = try uploads.checkOut(id, repository: name)
        defer { uploads.checkIn(upload) }
        try checkContentRange(request, upload: upload, name: name)
        try await receive(body, into: upload)
        try await writer.empty(.accepted, headers: uploadHeaders(name, upload))
    }

    func finishUpload(_ name: RepositoryName, _ id: String, _ request: RegistryRequest, _ body: RegistryRequestBody,
                      _ writer: RegistryResponseWriter) async throws {
        guard let digestText = request.query("digest") else {
            throw RegistryError(.digestInvalid, "completing an upload needs ?digest=")
        }
        let digest = try RegistryAPI.digest(digestText)
        let upload = try uploads.checkOut(id, repository: name)
        do {
            try checkContentRange(request, upload: upload, name: name)
            try await receive(body, into: upload)
        } catch {
            uploads.checkIn(upload)
            throw error
        }
        try await run { try uploads.finish(upload, digest: digest) }
        logger.debug("blob pushed", metadata: ["repository": "\(name)", "digest": "\(digest)"])
        try await writer.empty(.created, headers: [("Location", "/v2/\(name)/blobs/\(digest)"),
                                                   ("Docker-Content-Digest", digest.description)])
    }

    /// A chunk must start where the upload ends (spec.md "Pushing a blob in chunks"); anything
    /// else is 416 with the current range, so the client can resume from there.
    func checkContentRange(_ request: RegistryRequest, upload: UploadSessions.Upload, name: RepositoryName) throws(Challenge) {
        guard let header = request.header("Content-Range") else { return }
        var text = Substring(header)
        if text.hasPrefix("bytes ") { text = text.dropFirst(6) }
        if text.hasPrefix("bytes=") { text = text.dropFirst(6) }
        if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        let parts = text.split(separator: "-", maxSplits: 1)
        let range = RegistryError(.rangeInvalid,
                                  "invalid Content-Range \"\(header)\": the upload has \(upload.offset) bytes; "
                                  + "the next chunk must start there", status: 416)
        guard parts.count == 2, let start = Int64(parts[0]), let end = Int64(parts[1]), end >= start,
              start == upload.offset else {
            throw Challenge(error: range, header: nil, extra: uploadHeaders(name, upload))
        }
        if let length = request.header("Content-Length").flatMap(Int64.init), length != end - start + 1 {
            throw Challenge(error: range, header: nil, extra: uploadHeaders(name, upload))
        }
    }

    /// Streams the body into an upload, hashing and writing on the thread pool in 1 MiB
    /// pieces while the next piece arrives.
    func receive(_ body: RegistryRequestBody, into upload: UploadSessions.Upload) async throws {
        let pool = NIOThreadPool.singleton
        var pending = ByteBuffer()
        var writing: Task<Void, any Error>?
        func flush(_ buffer: ByteBuffer) async throws {
            try await writing?.value
            writing = Task {
                try await pool.runIfActive { buffer.withUnsafeReadableBytes { upload.write($0) } }
            }
        }
        do {
            while var piece = try await body.next() {
                if pending.readableBytes == 0 && piece.readableBytes >= 1 << 20 {
                    try await flush(piece)
                    continue
                }
                pending.writeBuffer(&piece)
                if pending.readableBytes >= 1 << 20 {
                    try await flush(pending)
                    pending = ByteBuffer()
                }
            }
            if pending.readableBytes > 0 { try await flush(pending) }
            try await writing?.value
        } catch {
            // What arrived before the break stays in the upload, so the client can resume.
            if pending.readableBytes > 0 {
                try? await writing?.value
                let rest = pending
                try? await pool.runIfActive { rest.withUnsafeReadableBytes { upload.write($0) } }
            } else {
                try? await writing?.value
            }
            throw error
        }
    }

    // MARK: helpers

    static func digest(_ text: String) throws(RegistryError) -> Digest {
        do {
            return try Digest(parsing: text)
        } catch {
            throw RegistryError(.digestInvalid, "invalid digest \"\(text)\": \(error.message)")
        }
    }

    /// Runs blocking storage work on NIO's thread pool.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}
