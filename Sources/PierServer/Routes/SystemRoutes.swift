import NIOHTTP1
import PierAPI
import PierEngine

/// `/_ping`, `/version`, `/info`, `/system/df`.
extension Router {
    mutating func addSystemRoutes(_ engine: Engine) {
        let ping: RouteHandler = { request, _, writer in
            let headers = [("Cache-Control", "no-cache, no-store, must-revalidate"), ("Pragma", "no-cache")]
            if request.method == .HEAD {
                try await writer.writeHead(status: .ok, contentType: "text/plain; charset=utf-8", contentLength: 0,
                                           extraHeaders: headers)
                try await writer.end()
            } else {
                try await writer.writeHead(status: .ok, contentType: "text/plain; charset=utf-8", contentLength: 2,
                                           extraHeaders: headers)
                try await writer.writeBody(Array("OK".utf8))
                try await writer.end()
            }
        }
        add(.GET, "/_ping", ping)
        add(.HEAD, "/_ping", ping)
        add(.GET, "/version") { _, _, writer in
            try await writer.json(engine.system.version())
        }
        add(.GET, "/info") { _, _, writer in
            try await writer.json(try await Blocking.run { engine.system.info() })
        }
        add(.GET, "/system/df") { _, _, writer in
            try await writer.json(try await Blocking.run {
                var usage = try engine.system.diskUsage()
                usage.Volumes = engine.volumes.usage()
                return usage
            })
        }
    }
}
