import Foundation
import NIOCore
import PierAPI
import PierEngine

/// Pier's own endpoints, under `/pier/` so they never collide with Docker's.
extension Router {
    mutating func addPierRoutes(_ engine: Engine) {
        add(.GET, "/pier/bootstrap") { _, _, writer in
            try await writer.json(engine.bootstrapper.list())
        }
        add(.POST, "/pier/bootstrap") { request, _, writer in
            guard let name = request.query["name"], !name.isEmpty else {
                throw APIError.badRequest("bootstrap needs an image name (name=)")
            }
            let force = request.query.bool("force")
            try await writer.writeHead(status: .ok, contentType: "application/json")
            // Progress lines go out as they come; a failure becomes the stream's last line.
            let (lines, continuation) = AsyncStream.makeStream(of: ProgressMessage.self)
            let work = Task {
                do {
                    let id = try await Blocking.run {
                        try engine.bootstrapper.bootstrap(name, force: force) { line in
                            continuation.yield(ProgressMessage(status: line))
                        }
                    }
                    continuation.yield(ProgressMessage(status: id))
                } catch let error as APIError {
                    continuation.yield(ProgressMessage(error: error.message))
                } catch {
                    continuation.yield(ProgressMessage(error: "\(error)"))
                }
                continuation.finish()
            }
            for await line in lines {
                try await writer.writeBody(try JSONCoding.encode(line) + [10])
            }
            await work.value
            try await writer.end()
        }
    }
}
