import NIOHTTP1
import PierAPI
import PierEngine

/// `/networks/...`: list, inspect, create, remove, prune, connect, disconnect.
extension Router {
    mutating func addNetworkRoutes(_ engine: Engine) {
        let networks = engine.networks
        add(.GET, "/networks") { request, _, writer in
            let filters = try request.query.filters()
            try await writer.json(try await Blocking.run { try networks.list(filters: filters) })
        }
        add(.GET, "/networks/{id}") { request, _, writer in
            let id = request.parameter("id")
            try await writer.json(try await Blocking.run { try networks.inspect(id) })
        }
        add(.POST, "/networks/create") { _, body, writer in
            let bytes = try await body.collect()
            let create: NetworkCreateRequest
            do {
                create = try JSONCoding.decode(NetworkCreateRequest.self, from: bytes.readableBytesView)
            } catch {
                throw APIError.badRequest("invalid JSON body for network create: \(error)")
            }
            try await writer.json(try await Blocking.run { try networks.create(create) }, status: .created)
        }
        add(.DELETE, "/networks/{id}") { request, _, writer in
            let id = request.parameter("id")
            try await Blocking.run { try networks.remove(id) }
            try await writer.empty()
        }
        add(.POST, "/networks/prune") { _, _, writer in
            try await writer.json(try await Blocking.run {
                NetworkPruneResponse(NetworksDeleted: networks.prune(inUse: engine.containers.networksInUse()))
            })
        }
        add(.POST, "/networks/{id}/connect") { request, body, writer in
            let id = request.parameter("id")
            let bytes = try await body.collect()
            let connect: NetworkConnectRequest
            do {
                connect = try JSONCoding.decode(NetworkConnectRequest.self, from: bytes.readableBytesView)
            } catch {
                throw APIError.badRequest("invalid JSON body for network connect: \(error)")
            }
            try await Blocking.run {
                try engine.containers.connect(network: id, container: connect.Container, settings: connect.EndpointConfig)
            }
            try await writer.empty(status: .ok)
        }
        add(.POST, "/networks/{id}/disconnect") { request, body, writer in
            let id = request.parameter("id")
            let bytes = try await body.collect()
            let disconnect: NetworkDisconnectRequest
            do {
                disconnect = try JSONCoding.decode(NetworkDisconnectRequest.self, from: bytes.readableBytesView)
            } catch {
                throw APIError.badRequest("invalid JSON body for network disconnect: \(error)")
            }
            try await Blocking.run {
                try engine.containers.disconnect(network: id, container: disconnect.Container, force: disconnect.Force ?? false)
            }
            try await writer.empty(status: .ok)
        }
    }

    /// `/volumes/...`: list, inspect, create, remove, prune.
    mutating func addVolumeRoutes(_ engine: Engine) {
        let volumes = engine.volumes
        add(.GET, "/volumes") { request, _, writer in
            let filters = try request.query.filters()
            try await writer.json(try await Blocking.run { try volumes.list(filters: filters) })
        }
        add(.POST, "/volumes/create") { _, body, writer in
            let bytes = try await body.collect()
            let create: VolumeCreateRequest
            do {
                create = try JSONCoding.decode(VolumeCreateRequest.self, from: bytes.readableBytesView)
            } catch {
                throw APIError.badRequest("invalid JSON body for volume create: \(error)")
            }
            try await writer.json(try await Blocking.run { try volumes.create(create) }, status: .created)
        }
        add(.POST, "/volumes/prune") { request, _, writer in
            let filters = try request.query.filters()
            try await writer.json(try await Blocking.run { try volumes.prune(filters: filters) })
        }
        add(.GET, "/volumes/{name}") { request, _, writer in
            let name = request.parameter("name")
            try await writer.json(try await Blocking.run { try volumes.inspect(name) })
        }
        add(.DELETE, "/volumes/{name}") { request, _, writer in
            let name = request.parameter("name")
            let force = request.query.bool("force")
            try await Blocking.run { try volumes.remove(name, force: force) }
            try await writer.empty()
        }
    }
}
