import Dispatch
import Foundation
import NIOCore
import NIOHTTP1
import PierAPI
import PierEngine
import PierRuntime

/// `/containers/...` and `/exec/...`: lifecycle, logs, attach and exec.
extension Router {
    mutating func addContainerRoutes(_ engine: Engine) {
        let containers = engine.containers
        add(.POST, "/containers/create") { request, body, writer in
            let bytes = try await body.collect()
            let create: ContainerCreateRequest
            do {
                create = try JSONCoding.decode(ContainerCreateRequest.self, from: bytes.readableBytesView)
            } catch {
                throw APIError.badRequest("invalid JSON body for create: \(error)")
            }
            let name = request.query["name"]
            try await writer.json(try await Blocking.run { try containers.create(create, name: name) }, status: .created)
        }
        add(.GET, "/containers/json") { request, _, writer in
            let all = request.query.bool("all")
            let limit = request.query.int("limit")
            let filters = try request.query.filters()
            let bytes = try await Blocking.run { try containers.listJSON(all: all, limit: limit, filters: filters) }
            try await writer.writeHead(status: .ok, contentType: "application/json", contentLength: bytes.count + 1)
            try await writer.writeBody(bytes + [10])
            try await writer.end()
        }
        add(.GET, "/containers/{id}/json") { request, _, writer in
            let id = request.parameter("id")
            try await writer.json(try await Blocking.run { try containers.inspect(id) })
        }
        add(.POST, "/containers/{id}/start") { request, _, writer in
            let id = request.parameter("id")
            try await Blocking.run { try containers.start(id) }
            try await writer.empty()
        }
        add(.POST, "/containers/{id}/stop") { request, _, writer in
            let id = request.parameter("id")
            let timeout = request.query.int("t")
            do { try await containers.stop(id, timeout: timeout) } catch let error as EngineError { throw error.apiError }
            try await writer.empty()
        }
        add(.POST, "/containers/{id}/restart") { request, _, writer in
            let id = request.parameter("id")
            let timeout = request.query.int("t")
            do { try await containers.restart(id, timeout: timeout) } catch let error as EngineError { throw error.apiError }
            try await writer.empty()
        }
        add(.POST, "/containers/{id}/kill") { request, _, writer in
            let id = request.parameter("id")
            let signal = request.query["signal"]
            try await Blocking.run { try containers.kill(id, signal: signal) }
            try await writer.empty()
        }
        add(.DELETE, "/containers/{id}") { request, _, writer in
            let id = request.parameter("id")
            let force = request.query.bool("force")
            let volumes = request.query.bool("v")
            try await Blocking.run { try containers.remove(id, force: force, volumes: volumes) }
            try await writer.empty()
        }
        add(.POST, "/containers/{id}/wait") { request, _, writer in
            let id = request.parameter("id")
            let condition = request.query["condition"] ?? "not-running"
            _ = try await Blocking.run { try containers.resolve(id) }
            try await writer.writeHead(status: .ok, contentType: "application/json")
            let record: ContainerRecord
            do { record = try await containers.wait(id, condition: condition) } catch let error as EngineError { throw error.apiError }
            try await writer.end(with: try JSONCoding.encode(ContainerWaitResponse(StatusCode: Int(record.state.exitCode))) + [10])
        }
        add(.POST, "/containers/{id}/resize") { request, _, writer in
            let id = request.parameter("id")
            try await Blocking.run {
                try containers.resize(id, rows: request.query.int("h") ?? 24, columns: request.query.int("w") ?? 80)
            }
            try await writer.empty(status: .ok)
        }
        add(.GET, "/containers/{id}/logs") { request, _, writer in
            let id = request.parameter("id")
            let query = request.query
            var options = LogReadOptions()
            options.stdout = query.bool("stdout")
            options.stderr = query.bool("stderr")
            options.follow = query.bool("follow")
            options.timestamps = query.bool("timestamps")
            if let tail = query["tail"], tail != "all", let count = Int(tail) { options.tail = count }
            if let since = query["since"], since != "0", !since.isEmpty { options.since = LogTime(apiValue: since) }
            if let until = query["until"], until != "0", !until.isEmpty { options.until = LogTime(apiValue: until) }
            if !options.stdout && !options.stderr {
                throw APIError.badRequest("Bad parameters: you must choose at least one stream")
            }
            let record = try await Blocking.run { try containers.resolve(id) }
            options.framing = containers.usesTerminal(record) ? .raw : .stdcopy
            let chosen = options
            let (stream, _) = try await Blocking.run { try containers.logs(id, options: chosen) }
            try await writer.writeHead(status: .ok, contentType: options.framing == .raw
                                       ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream")
            for try await chunk in stream { try await writer.writeBody(chunk) }
            try await writer.end()
        }
        add(.POST, "/containers/{id}/attach") { request, body, writer in
            let id = request.parameter("id")
            let record = try await Blocking.run { try containers.resolve(id) }
            let raw = containers.usesTerminal(record)
            // Answer first: `docker run` starts the container only once its attach is upgraded.
            try await writer.hijack(body, contentType: raw ? "application/vnd.docker.raw-stream"
                                    : "application/vnd.docker.multiplexed-stream")
            guard let (connection, _) = try? await containers.attach(id) else {
                try? await writer.end()
                return
            }
            try await Relay.run(connection, body: body, writer: writer, forwardStdin: request.query.bool("stdin"))
        }
        add(.POST, "/containers/{id}/exec") { request, body, writer in
            let id = request.parameter("id")
            let bytes = try await body.collect()
            let exec: ExecCreateRequest
            do { exec = try JSONCoding.decode(ExecCreateRequest.self, from: bytes.readableBytesView) } catch {
                throw APIError.badRequest("invalid JSON body for exec: \(error)")
            }
            let execID = try await Blocking.run { try containers.createExec(id, exec) }
            try await writer.json(IDResponse(Id: execID), status: .created)
        }
        add(.POST, "/exec/{id}/start") { request, body, writer in
            let id = request.parameter("id")
            let bytes = try await body.collect()
            let start = (try? JSONCoding.decode(ExecStartRequest.self, from: bytes.readableBytesView))
                ?? ExecStartRequest(Detach: false, Tty: false)
            let exec = try await Blocking.run { try containers.exec(id) }
            if start.Detach == true {
                try await Blocking.run { try containers.startExec(id) { _ in } }
                try await writer.empty(status: .ok)
                return
            }
            let box = ConnectionBox()
            try await Blocking.run {
                try containers.startExec(id) { files in box.connection = try AttachConnection.connect(files) }
            }
            guard let connection = box.connection else { throw APIError.internalError("exec attach failed") }
            let tty = exec.request.Tty ?? false
            try await writer.hijack(body, contentType: tty ? "application/vnd.docker.raw-stream"
                                    : "application/vnd.docker.multiplexed-stream")
            try await Relay.run(connection, body: body, writer: writer, forwardStdin: exec.request.AttachStdin ?? false)
        }
        add(.POST, "/containers/{id}/pause") { request, _, writer in
            let id = request.parameter("id")
            try await Blocking.run { try containers.pause(id) }
            try await writer.empty()
        }
        add(.POST, "/containers/{id}/unpause") { request, _, writer in
            let id = request.parameter("id")
            try await Blocking.run { try containers.unpause(id) }
            try await writer.empty()
        }
        add(.POST, "/containers/{id}/rename") { request, _, writer in
            let id = request.parameter("id")
            guard let name = request.query["name"], !name.isEmpty else { throw APIError.badRequest("rename needs name=") }
            try await Blocking.run { try containers.rename(id, to: name) }
            try await writer.empty()
        }
        // `docker cp`: HEAD stats a path, GET streams it as a tar, PUT unpacks a tar into a directory.
        let pathStat: RouteHandler = { request, _, writer in
            let id = request.parameter("id")
            guard let path = request.query["path"], !path.isEmpty else { throw APIError.badRequest("archive needs path=") }
            let stat = try await Blocking.run { try containers.statPath(id, path: path) }
            let header = [("X-Docker-Container-Path-Stat", Data(try JSONCoding.encode(stat)).base64EncodedString())]
            if request.method == .HEAD {
                try await writer.writeHead(status: .ok, contentType: "application/x-tar", contentLength: 0, extraHeaders: header)
                try await writer.end()
                return
            }
            try await writer.writeHead(status: .ok, contentType: "application/x-tar", extraHeaders: header)
            try await Blocking.streamResponse(writer) { sink in try containers.archive(id, path: path, head: { _ in }, sink: sink) }
            try await writer.end()
        }
        add(.HEAD, "/containers/{id}/archive", pathStat)
        add(.GET, "/containers/{id}/archive", pathStat)
        add(.PUT, "/containers/{id}/archive") { request, body, writer in
            let id = request.parameter("id")
            guard let path = request.query["path"], !path.isEmpty else { throw APIError.badRequest("archive needs path=") }
            try await Blocking.withBodySource(body) { source in try containers.extract(id, path: path, source: source) }
            try await writer.empty(status: .ok)
        }
        add(.GET, "/containers/{id}/stats") { request, _, writer in
            let id = request.parameter("id")
            let stream = request.query["stream"].map { $0 == "1" || $0 == "true" } ?? true
            var previous = try await Blocking.run { try containers.statsSample(id) }
            func next() async throws -> ContainerStats {
                var sample = try await Blocking.run { try containers.statsSample(id) }
                sample.precpu_stats = previous.cpu_stats
                sample.preread = previous.read
                previous = sample
                return sample
            }
            guard stream else {
                // Two samples half a second apart, so CPU % has a span to measure (one-shot: one).
                if !request.query.bool("one-shot") {
                    try await Task.sleep(for: .milliseconds(500))
                    _ = try await next()
                }
                try await writer.json(previous)
                return
            }
            try await writer.writeHead(status: .ok, contentType: "application/json")
            try await writer.writeBody(try JSONCoding.encode(previous) + [10])
            while true {
                try await Task.sleep(for: .seconds(1))
                guard let sample = try? await next() else { break }   // removed: the stream ends
                try await writer.writeBody(try JSONCoding.encode(sample) + [10])
            }
            try await writer.end()
        }
        add(.GET, "/containers/{id}/top") { request, _, writer in
            let id = request.parameter("id")
            let (titles, processes) = try await Blocking.run { try containers.top(id) }
            try await writer.json(TopResponse(Titles: titles, Processes: processes))
        }
        add(.POST, "/containers/prune") { _, _, writer in
            let (deleted, reclaimed) = try await Blocking.run { containers.prune() }
            try await writer.json(ContainerPruneReport(ContainersDeleted: deleted, SpaceReclaimed: reclaimed))
        }
        add(.GET, "/exec/{id}/json") { request, _, writer in
            let id = request.parameter("id")
            try await writer.json(try await Blocking.run { try containers.inspectExec(id) })
        }
        add(.POST, "/exec/{id}/resize") { request, _, writer in
            let id = request.parameter("id")
            try await Blocking.run {
                try containers.resizeExec(id, rows: request.query.int("h") ?? 24, columns: request.query.int("w") ?? 80)
            }
            try await writer.empty(status: .ok)
        }
    }

    static func engineCall<T: Sendable>(_ body: () async throws(EngineError) -> T) async throws -> T {
        do { return try await body() } catch let error as EngineError { throw error.apiError }
    }
}

/// Holds the attach connection made inside a blocking engine call.
final class ConnectionBox: @unchecked Sendable {
    // Written once on the blocking thread before the call returns; read after.
    var connection: AttachConnection?
}

/// Copies a hijacked connection to and from a shim's attach socket: output on a blocking thread
/// (waiting for each network write), stdin from the request body as it arrives.
enum Relay {
    static func run(_ connection: AttachConnection, body: RequestBody, writer: ResponseWriter, forwardStdin: Bool) async throws {
        let fd = connection.fileDescriptor
        // The handler does not touch the body while the relay runs: only this task reads it.
        let box = BodyBox(body)
        let input = Task {
            while true {
                let chunk: ByteBuffer
                do {
                    guard let next = try await box.body.next() else { break }
                    chunk = next
                } catch { break }
                guard forwardStdin else { continue }
                var offset = chunk.readerIndex
                while offset < chunk.writerIndex {
                    let n = chunk.withUnsafeReadableBytes { raw in
                        Glibc.write(fd, raw.baseAddress! + (offset - chunk.readerIndex), chunk.writerIndex - offset)
                    }
                    if n <= 0 { if errno == EINTR { continue }; return }
                    offset += n
                }
            }
            if forwardStdin { connection.closeWrite() }
        }
        try? await Blocking.run {
            var buffer = [UInt8](repeating: 0, count: 32 * 1024)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                let chunk = ByteBuffer(bytes: buffer[0..<n])
                let done = DispatchSemaphore(value: 0)
                let failure = ErrorBox()
                Task {
                    do { try await writer.writeBody(chunk) } catch { failure.error = error }
                    done.signal()
                }
                done.wait()
                if failure.error != nil { break }
            }
        }
        input.cancel()
        connection.close()
        try? await writer.end()
    }
}
