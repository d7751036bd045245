import Foundation
import NIOCore
import NIOHTTP1
import PierAPI
import PierEngine
import PierRegistry

/// Registry traffic: `POST /images/create?fromImage=` (pull, wired from ImageRoutes),
/// `POST /images/{name}/push`, `POST /auth`, `GET /images/search`. Credentials come in
/// `X-Registry-Auth` (base64url JSON AuthConfig), as the docker CLI sends them.
extension Router {
    mutating func addRegistryRoutes(_ engine: Engine) {
        add(.POST, "/images/{name*}/push") { request, _, writer in
            let name = request.parameter("name")
            let tag = request.query["tag"]
            let auth = try Router.registryAuth(request)
            try await Router.streamTransfer(writer) { progress in
                try await engine.registry.push(name: name, tag: tag, auth: auth, progress: progress)
                let reference = tag.map { $0.isEmpty ? name : "\(name):\($0)" } ?? name
                engine.imageEvent("push", id: reference, name: reference)
            }
        }
        add(.POST, "/auth") { _, body, writer in
            let bytes = try await body.collect(limit: 1 << 20)
            let config: RegistryAuthConfig
            do {
                config = try JSONCoding.decode(RegistryAuthConfig.self, from: bytes.readableBytesView)
            } catch {
                throw APIError.badRequest("invalid login request: \(error)")
            }
            do {
                try await writer.json(try await engine.registry.login(config))
            } catch {
                throw Router.apiError(error)
            }
        }
        add(.GET, "/images/search") { request, _, writer in
            guard let term = request.query["term"], !term.isEmpty else {
                throw APIError.badRequest("search needs a term (term=)")
            }
            let limit = request.query.int("limit") ?? 25
            let filters = try request.query.filters()
            let auth = try Router.registryAuth(request)
            do {
                try await writer.json(try await engine.registry.search(term: term, limit: limit, filters: filters, auth: auth))
            } catch {
                throw Router.apiError(error)
            }
        }
    }

    /// `POST /images/create?fromImage=…&tag=…&platform=…`.
    static func pullImage(_ engine: Engine, _ request: APIRequest, _ writer: ResponseWriter) async throws {
        guard let image = request.query["fromImage"], !image.isEmpty else {
            throw APIError.badRequest("pull needs an image name (fromImage=) or an import source (fromSrc=)")
        }
        let tag = request.query["tag"]
        let platform = request.query["platform"]
        let auth = try registryAuth(request)
        try await streamTransfer(writer) { progress in
            try await engine.registry.pull(fromImage: image, tag: tag, platform: platform, auth: auth, progress: progress)
            let reference = tag.map { $0.isEmpty ? image : "\(image):\($0)" } ?? image
            engine.imageEvent("pull", id: reference, name: reference)
        }
    }

    static func registryAuth(_ request: APIRequest) throws -> RegistryAuthConfig? {
        do {
            return try RegistryAuthConfig.decodeHeader(request.headers.first(name: "X-Registry-Auth"))
        } catch {
            throw APIError.badRequest(error.message)
        }
    }

    /// Runs a transfer, streaming its progress as JSON lines. A failure before the first line
    /// is an HTTP error status (what `docker pull` shows as "Error response from daemon");
    /// after it, it is the stream's last line, as Docker's daemon does.
    static func streamTransfer(_ writer: ResponseWriter,
                               _ work: @escaping @Sendable (@escaping ProgressHandler) async throws -> Void) async throws {
        enum Event: Sendable {
            case progress(TransferProgress)
            case failed(APIError)
        }
        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        let task = Task {
            do {
                try await work { continuation.yield(.progress($0)) }
            } catch {
                continuation.yield(.failed(apiError(error)))
            }
            continuation.finish()
        }
        defer { task.cancel() }
        var started = false
        for await event in events {
            switch event {
            case .progress(let progress):
                if !started {
                    try await writer.writeHead(status: .ok, contentType: "application/json")
                    started = true
                }
                try await writer.writeBody(try JSONCoding.encode(ProgressLine(progress)) + [10])
            case .failed(let error):
                guard started else { throw error }
                try await writer.writeBody(try JSONCoding.encode(ProgressLine(error: error.message)) + [10])
            }
        }
        if !started { try await writer.writeHead(status: .ok, contentType: "application/json") }
        try await writer.end()
    }

    /// Registry and engine errors as the Engine API reports them.
    static func apiError(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as EngineError: return error.apiError
        case let error as RegistryError:
            switch error.code {
            case .unauthorized: return APIError(status: 401, error.message)
            case .denied: return APIError(status: 403, error.message)
            case .manifestUnknown, .nameUnknown, .blobUnknown: return APIError(status: 404, error.message)
            case .invalidConfiguration, .nameInvalid, .unusableImage: return APIError(status: 400, error.message)
            case .tooManyRequests: return APIError(status: 429, error.message)
            default: return APIError(status: 500, error.message)
            }
        default: return APIError(status: 500, "\(error)")
        }
    }
}

/// One line of Docker's JSON progress stream (moby `jsonmessage.JSONMessage`).
struct ProgressLine: Encodable {
    struct Detail: Encodable {
        var current: Int64?
        var total: Int64?
    }

    struct ErrorDetail: Encodable {
        var message: String
    }

    var id: String?
    var status: String?
    var progressDetail: Detail?
    var progress: String?
    var error: String?
    var errorDetail: ErrorDetail?
    var aux: PushResult?

    init(_ event: TransferProgress) {
        id = event.id
        status = event.pushed == nil ? event.status : nil
        aux = event.pushed
        if event.pushed != nil || (event.id != nil && event.isLayer) { progressDetail = Detail() }
        if let current = event.current {
            progressDetail = Detail(current: current, total: event.total)
            progress = ProgressLine.bar(current: current, total: event.total)
        }
    }

    init(error: String) {
        self.error = error
        errorDetail = ErrorDetail(message: error)
    }

    /// `[=====>      ]  1.2MB/3.4MB`, as moby's JSONProgress.String() draws it (50 columns).
    static func bar(current: Int64, total: Int64?) -> String {
        let size = humanSize(current)
        guard let total, total > 0 else { return "\(String(repeating: " ", count: max(0, 8 - size.count)))\(size)" }
        let filled = Int(min(50, Double(current) / Double(total) * 50))
        var bar = String(repeating: "=", count: filled)
        if filled < 50 { bar += ">" + String(repeating: " ", count: 49 - filled) }
        let numbers = "\(String(repeating: " ", count: max(0, 8 - size.count)))\(size)/\(humanSize(total))"
        return "[\(bar)] \(numbers)"
    }

    /// Decimal units with four significant digits (go-units HumanSize).
    static func humanSize(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var value = Double(bytes)
        var index = 0
        while value >= 1000, index < units.count - 1 {
            value /= 1000
            index += 1
        }
        var text = String(format: "%.4g", value)
        if text.contains("e") { text = String(format: "%.0f", value) }
        return text + units[index]
    }
}
