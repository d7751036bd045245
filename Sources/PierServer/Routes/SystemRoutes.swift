import Foundation
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
        add(.GET, "/events") { request, _, writer in
            let filters = try request.query.filters()
            let since = try request.query["since"].map { try Router.eventTime($0, "since") }
            let until = try request.query["until"].map { try Router.eventTime($0, "until") }
            let (past, future, cancel) = engine.events.subscribe(since: since ?? (until != nil ? 0 : nil))
            defer { cancel() }
            try await writer.writeHead(status: .ok, contentType: "application/json")
            for event in past where event.matches(filters) {
                if let until, event.timeNano > until { break }
                try await writer.writeBody(try JSONCoding.encode(event) + [10])
            }
            if let until {
                // Stream what still comes until `until`, then end.
                let remaining = Double(until - Int64(Date().timeIntervalSince1970 * 1e9)) / 1e9
                if remaining > 0 {
                    let stopper = Task { try? await Task.sleep(for: .seconds(remaining)); cancel() }
                    defer { stopper.cancel() }
                    for await event in future where event.matches(filters) && event.timeNano <= until {
                        try await writer.writeBody(try JSONCoding.encode(event) + [10])
                    }
                }
                try await writer.end()
                return
            }
            for await event in future where event.matches(filters) {
                try await writer.writeBody(try JSONCoding.encode(event) + [10])
            }
            try await writer.end()
        }
    }
}

extension Router {
    /// `since`/`until` of `/events`: Unix seconds with an optional fraction (what the docker CLI
    /// sends), as nanoseconds.
    static func eventTime(_ text: String, _ name: String) throws(APIError) -> Int64 {
        guard let seconds = Double(text) else {
            throw APIError.badRequest("invalid value for \(name): \"\(text)\": give Unix seconds, e.g. 1700000000.5")
        }
        return Int64(seconds * 1e9)
    }
}
