import Foundation
import Logging
import PierAPI
import PierOCI
import PierStore

/// The daemon's domain layer: one instance per root directory, shared by all API requests.
///
///     <root>/image/...      the image store (see ImageStore)
///     <root>/containers/    one directory per container (see docs/runtime.md)
///     <root>/builder/       the build cache and the directories of RUN containers
///     <root>/tmp/           scratch space for loads and imports, emptied at start
///     <root>/engine-id      a stable ID for `info`
public final class Engine: Sendable {
    public let root: String
    public let images: ImageService
    public let containers: ContainerService
    public let transfer: ImageTransfer
    public let system: SystemService
    public let bootstrapper: Bootstrapper
    public let registry: RegistryService
    public let events = EventBus()
    public let builder: Builder
    public let networks: NetworkService
    public let volumes: VolumeService
    let logger: Logger

    /// `bridge` and `bridgeSubnet`: the default bridge's device and subnet (pierd `--bridge`, `--bip`).
    public init(root: String, bridge: String = "pier0", bridgeSubnet: String? = nil, logger: Logger) throws(EngineError) {
        self.root = root
        self.logger = logger
        let store: ImageStore
        let containerStore: ContainerStore
        do {
            store = try ImageStore(root: root + "/image")
            containerStore = try ContainerStore(root: root + "/containers")
            try FileManager.default.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: true)
        } catch let error as StoreError {
            throw EngineError.from(error)
        } catch {
            throw EngineError(.internalError, "cannot prepare \(root): \(error)")
        }
        images = ImageService(store: store, usage: ImageUsage(containers: { containerStore.users(of: $0) }), logger: logger)
        networks = try NetworkService(root: root, bridge: bridge, subnet: bridgeSubnet, logger: logger)
        volumes = try VolumeService(root: root, logger: logger) { containerStore.users(ofVolume: $0) }
        containers = ContainerService(root: root, images: images, store: containerStore, networks: networks, volumes: volumes,
                                      events: events, logger: logger)
        transfer = ImageTransfer(images: images, scratch: root + "/tmp", logger: logger)
        system = SystemService(root: root, images: images)
        bootstrapper = Bootstrapper(transfer: transfer, scratch: root + "/tmp", logger: logger)
        registry = RegistryService(transfer: transfer, root: root, logger: logger)
        builder = try Builder(transfer: transfer, containers: containers, registry: registry, root: root + "/builder",
                              scratch: root + "/tmp", logger: logger)
    }

    /// A clean stop: the bridges and rules of this daemon go when no container runs.
    public func shutdown() {
        networks.shutdown()
        containers.finishDeletions()
    }

    /// Brings the store back to a consistent state after a crash: drops half-written blobs and
    /// snapshots, and anything an interrupted load or import left unreferenced.
    public func recover() {
        images.store.recover()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root + "/tmp")) ?? [] {
            try? FileManager.default.removeItem(atPath: root + "/tmp/" + name)
        }
        containers.restore()
        builder.recover()
        let reclaimed = images.collectGarbage()
        if reclaimed > 0 { logger.info("recovered space left by interrupted work", metadata: ["bytes": "\(reclaimed)"]) }
    }
}
