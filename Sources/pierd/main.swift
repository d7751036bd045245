import ArgumentParser
import Foundation
import Logging
import PierEngine
import PierServer

/// `pierd`: the Pier daemon. Serves the Docker Engine API on a unix socket.
@main
struct Pierd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pierd",
        abstract: "The Pier daemon: serves the Docker Engine API on a unix socket.")

    @Option(name: [.customShort("H"), .long], help: "Socket to listen on (also PIER_SOCKET).")
    var host: String = ProcessInfo.processInfo.environment["PIER_SOCKET"] ?? "/run/pier/pier.sock"

    @Option(name: .customLong("data-root"), help: "Root of Pier's state (also PIER_ROOT).")
    var dataRoot: String = ProcessInfo.processInfo.environment["PIER_ROOT"] ?? "/var/lib/pier"

    @Option(name: [.customShort("b"), .customLong("bridge")],
            help: "Device of the default bridge network (also PIER_BRIDGE).")
    var bridge: String = ProcessInfo.processInfo.environment["PIER_BRIDGE"] ?? "pier0"

    @Option(name: .customLong("bip"), help: "Subnet of the default bridge, e.g. 172.18.0.0/16 (default: the first free one).")
    var bip: String?

    @Option(name: .customLong("log-level"), help: "debug, info, warning or error.")
    var logLevel: String = "info"

    static func main() async {
        // One malloc arena instead of glibc's eight per core: pierd's threads (event loops, the
        // blocking pool, Dispatch, container monitors) are mostly idle, and each extra arena keeps
        // free pages resident (idle RSS budget: 30 MB; extra arenas held ~1.4 MB more after the
        // image benchmarks). pierd's allocations are few next to its I/O: one lock costs nothing
        // measurable. Set here, before the first task starts a thread that would make its own.
        MallocTuning.limitArenas(1)
        await main(nil)
    }

    func run() async throws {
        let socketPath = host.hasPrefix("unix://") ? String(host.dropFirst(7)) : host
        guard let level = Logger.Level(rawValue: logLevel == "warn" ? "warning" : logLevel) else {
            throw ValidationError("invalid --log-level \"\(logLevel)\": use debug, info, warning or error")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "pierd")
        try FileManager.default.createDirectory(atPath: (socketPath as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        // Held until the process exits; a second daemon on this root stops here.
        let rootLock: DataRootLock
        do {
            rootLock = try DataRootLock(root: dataRoot)
        } catch let busy as DataRootLock.Busy {
            logger.error("\(busy)")
            Foundation.exit(Pierd.exitRootBusy)
        }
        guard !bridge.isEmpty, bridge.count <= 15, bridge.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ValidationError("invalid --bridge \"\(bridge)\": a device name of at most 15 letters, digits, - or _")
        }
        let engine: Engine
        do {
            engine = try Engine(root: dataRoot, bridge: bridge, bridgeSubnet: bip, logger: logger)
        } catch {
            throw ValidationError("cannot open the data root \(dataRoot): \(error.message)")
        }
        engine.recover()
        let server = HTTPServer(socketPath: socketPath, router: .engineAPI(engine), logger: logger)
        let serving = Task {
            try await server.run {
                logger.info("API listening", metadata: ["socket": "\(socketPath)", "root": "\(dataRoot)"])
            }
        }
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
            source.setEventHandler {
                logger.info("shutting down")
                engine.shutdown()
                unlink(socketPath)
                Foundation.exit(0)
            }
            source.resume()
            SignalSources.keep(source)
        }
        try await serving.value
        withExtendedLifetime(rootLock) {}
    }

    /// The exit status of a `pierd` that found its data root in use by another daemon; `pier`
    /// then waits for that one instead of reporting a failed start.
    static let exitRootBusy: Int32 = 3
}

/// Keeps signal sources alive for the life of the process.
enum SignalSources {
    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []
    static func keep(_ source: any DispatchSourceSignal) { sources.append(source) }
}

/// glibc's `mallopt`, which Swift's Glibc module does not export.
enum MallocTuning {
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    static let arenaMax: Int32 = -8   // M_ARENA_MAX in <malloc.h>

    static func limitArenas(_ count: Int32) {
        guard let symbol = dlsym(nil, "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(arenaMax, count)
    }
}
