import Foundation
import NIOCore
import NIOHTTP1
import PierAPI
import PierEngine

/// `/images/...`: list, inspect, history, tag, remove, prune, save, load, import.
extension Router {
    mutating func addImageRoutes(_ engine: Engine) {
        add(.GET, "/images/json") { request, _, writer in
            let all = request.query.bool("all")
            let filters = try request.query.filters()
            let bytes = try await Blocking.run { FastJSON.encode(try engine.images.list(all: all, filters: filters)) }
            try await writer.writeHead(status: .ok, contentType: "application/json", contentLength: bytes.count + 1)
            try await writer.writeBody(bytes + [10])
            try await writer.end()
        }
        add(.GET, "/images/{name*}/json") { request, _, writer in
            let name = request.parameter("name")
            try await writer.json(try await Blocking.run { try engine.images.inspect(name) })
        }
        add(.GET, "/images/{name*}/history") { request, _, writer in
            let name = request.parameter("name")
            try await writer.json(try await Blocking.run { try engine.images.history(name) })
        }
        add(.POST, "/images/{name*}/tag") { request, _, writer in
            let name = request.parameter("name")
            guard let repo = request.query["repo"], !repo.isEmpty else {
                throw APIError.badRequest("tag needs a repository name (repo=)")
            }
            let tag = request.query["tag"]
            try await Blocking.run { try engine.images.tag(name, repository: repo, tag: tag) }
            let id = (try? await Blocking.run { try engine.images.resolve(name) })?.id.description ?? name
            engine.imageEvent("tag", id: id, name: tag.map { $0.isEmpty ? repo : "\(repo):\($0)" } ?? repo)
            try await writer.empty(status: .created)
        }
        add(.DELETE, "/images/{name*}") { request, _, writer in
            let name = request.parameter("name")
            let force = request.query.bool("force")
            let id = (try? await Blocking.run { try engine.images.resolve(name) })?.id.description ?? name
            let removed = try await Blocking.run { try engine.images.remove(name, force: force) }
            for item in removed {
                if let untagged = item.Untagged { engine.imageEvent("untag", id: id, name: untagged) }
                if let deleted = item.Deleted { engine.imageEvent("delete", id: deleted, name: name) }
            }
            try await writer.json(removed)
        }
        add(.POST, "/images/prune") { request, _, writer in
            let filters = try request.query.filters()
            let all = filters["dangling"]?.contains("false") == true
            try await writer.json(try await Blocking.run {
                try engine.images.prune(all: all, filters: filters.filter { $0.key != "dangling" })
            })
        }
        add(.GET, "/images/get") { request, _, writer in
            try await Router.save(engine, names: request.query.all("names"), writer: writer)
        }
        add(.GET, "/images/{name*}/get") { request, _, writer in
            try await Router.save(engine, names: [request.parameter("name")], writer: writer)
        }
        add(.POST, "/images/load") { _, body, writer in
            let loaded = try await Blocking.withBodySource(body) { source in try engine.transfer.load(from: source) }
            for line in loaded {
                let name = line.replacingOccurrences(of: "Loaded image ID: ", with: "").replacingOccurrences(of: "Loaded image: ", with: "")
                engine.imageEvent("load", id: name, name: name)
            }
            try await writer.writeHead(status: .ok, contentType: "application/json")
            for line in loaded {
                try await writer.writeBody(try JSONCoding.encode(ProgressMessage(stream: line + "\n")) + [10])
            }
            try await writer.end()
        }
        add(.POST, "/images/create") { request, body, writer in
            guard let source = request.query["fromSrc"] else {
                try await Router.pullImage(engine, request, writer)
                return
            }
            guard source == "-" else {
                throw APIError.badRequest("import from a URL is not supported; pipe the tarball in (`-`)")
            }
            let reference = request.query["repo"].map { repo in
                request.query["tag"].flatMap { $0.isEmpty ? nil : "\(repo):\($0)" } ?? repo
            }
            let changes = request.query.all("changes")
            let message = request.query["message"]
            let id = try await Blocking.withBodySource(body) { source in
                try engine.transfer.importRootfs(from: source, reference: reference, changes: changes, message: message)
            }
            engine.imageEvent("import", id: id.description, name: reference)
            try await writer.writeHead(status: .ok, contentType: "application/json")
            try await writer.writeBody(try JSONCoding.encode(ProgressMessage(status: id.description)) + [10])
            try await writer.end()
        }
    }

    static func save(_ engine: Engine, names: [String], writer: ResponseWriter) async throws {
        let plan = try await Blocking.run { try engine.transfer.planSave(names) }
        try await writer.writeHead(status: .ok, contentType: "application/x-tar")
        try await Blocking.streamResponse(writer) { sink in try engine.transfer.save(plan, to: sink) }
        for name in names { engine.imageEvent("save", id: name, name: name) }
        try await writer.end()
    }
}
