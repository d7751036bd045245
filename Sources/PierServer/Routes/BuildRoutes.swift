import Foundation
import NIOCore
import NIOPosix
import PierAPI
import PierEngine
import PierRegistry

/// `POST /build`: the context arrives as a tar body, the build's output leaves as a JSON-message
/// stream (`{"stream":…}`, `{"aux":{"ID":…}}`, and `{"errorDetail":…,"error":…}` on failure), as
/// Docker's legacy builder answers `DOCKER_BUILDKIT=0 docker build`.
extension Router {
    mutating func addBuildRoutes(_ engine: Engine) {
        addBuildPruneRoute(engine)
        add(.POST, "/build") { request, body, writer in
            let options = try Router.buildOptions(request)
            if request.query["version"] == "2" {
                throw APIError.badRequest("Pier serves the classic builder (version 1), not BuildKit: build with DOCKER_BUILDKIT=0")
            }
            enum Event: Sendable {
                case build(BuildEvent)
                case failed(String)
                /// A bare newline (JSON-message readers skip it) every second: a client that went away
                /// during a long silent RUN is noticed by the failed write, not at the end of the build.
                case heartbeat
            }
            let cancellation = BuildCancellation()
            // Ctrl-C on the client closes the connection: the build stops (a running RUN is killed).
            writer.channel.closeFuture.whenComplete { _ in cancellation.cancel() }
            let (events, continuation) = AsyncStream.makeStream(of: Event.self)
            let box = BodyBox(body)
            // A build blocks for as long as its RUN steps take (minutes for a pip install): it gets a
            // thread of its own rather than one of the few threads of NIO's blocking pool.
            let finished = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                do {
                    _ = try engine.builder.build(context: .pull { try box.read(into: $0) }, options: options,
                                                 cancellation: cancellation) { continuation.yield(.build($0)) }
                } catch let error as EngineError {
                    continuation.yield(.failed(error.message))
                } catch {
                    continuation.yield(.failed("\(error)"))
                }
                continuation.finish()
                finished.signal()
            }
            let heartbeat = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    continuation.yield(.heartbeat)
                }
            }
            defer { heartbeat.cancel() }
            do {
                try await writer.writeHead(status: .ok, contentType: "application/json")
                for await event in events {
                    let message: ProgressMessage
                    switch event {
                    case .heartbeat:
                        try await writer.writeBody([10])
                        continue
                    case .build(.stream(let text)):
                        message = ProgressMessage(stream: text)
                    case .build(.imageID(let id)):
                        var aux = ProgressMessage()
                        aux.aux = ProgressMessage.AuxID(ID: id.description)
                        message = aux
                    case .failed(let text):
                        message = ProgressMessage(error: text)
                    }
                    try await writer.writeBody(try JSONCoding.encode(message) + [10])
                }
                try await writer.end()
            } catch {
                // The client went away: stop the build at its next step (a RUN is killed).
                cancellation.cancel()
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    Thread.detachNewThread { finished.wait(); done.resume() }
                }
                throw error
            }
        }
    }

    /// `POST /build/prune` (`docker builder prune`): the answer's shape is swagger's `BuildPruneResponse`.
    mutating func addBuildPruneRoute(_ engine: Engine) {
        add(.POST, "/build/prune") { _, _, writer in
            let (removed, reclaimed) = try await Blocking.run {
                // The cache's layers that no image uses go now that the entries are gone.
                let removed = engine.builder.pruneCache()
                return (removed, engine.images.collectGarbage())
            }
            try await writer.json(BuildPruneResponse(CachesDeleted: removed, SpaceReclaimed: reclaimed))
        }
    }

    struct BuildPruneResponse: Encodable {
        var CachesDeleted: [String]
        var SpaceReclaimed: Int64
    }

    /// The query of `POST /build` (swagger v1.41 `ImageBuild`).
    static func buildOptions(_ request: APIRequest) throws -> BuildOptions {
        var options = BuildOptions()
        options.tags = request.query.all("t").filter { !$0.isEmpty }
        if let dockerfile = request.query["dockerfile"], !dockerfile.isEmpty { options.dockerfile = dockerfile }
        if let target = request.query["target"], !target.isEmpty { options.target = target }
        if let platform = request.query["platform"], !platform.isEmpty { options.platform = platform }
        if let remote = request.query["remote"], !remote.isEmpty {
            guard let git = GitContextURL(remote) else {
                throw APIError.badRequest("remote context \(remote) is not a Git URL: Pier builds from Git repositories "
                                          + "(https://host/repo.git#ref:dir, git://…, git@…) or a tar of the context")
            }
            options.remote = git
        }
        options.noCache = request.query.bool("nocache")
        options.pull = request.query.bool("pull")
        do {
            options.registryLogins = try RegistryAuthConfig.decodeConfigHeader(request.headers.first(name: "X-Registry-Config"))
        } catch {
            throw APIError.badRequest(error.message)
        }
        options.quiet = request.query.bool("q")
        if let text = request.query["buildargs"], !text.isEmpty {
            do {
                options.buildArgs = try JSONCoding.decode([String: String?].self, from: Array(text.utf8))
            } catch {
                throw APIError.badRequest("invalid buildargs: \(text) is not a JSON object of strings")
            }
        }
        if let text = request.query["extrahosts"], !text.isEmpty {
            options.extraHosts = text.split(separator: ",").map(String.init)
        }
        options.secrets = try BuildSecrets(headerValue: request.headers.first(name: BuildSecrets.headerName)).values
        if let text = request.query["labels"], !text.isEmpty {
            do {
                options.labels = try JSONCoding.decode([String: String].self, from: Array(text.utf8))
            } catch {
                throw APIError.badRequest("invalid labels: \(text) is not a JSON object of strings")
            }
        }
        return options
    }
}
