import ArgumentParser
import Foundation
import Logging
import PierRegistry

/// `pier-registry`: Pier's OCI registry. `pier registry …` execs this with the same arguments,
/// so `pier` itself stays small.
@main
struct PierRegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pier registry",
        abstract: "Pier's own OCI registry (distribution spec v1.1).",
        subcommands: [Serve.self, CollectGarbage.self])
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve a registry")

    @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free one)") var addr = ":5000"
    @Option(help: "Directory for the registry's content") var storage = "/var/lib/pier-registry"
    @Option(name: .customLong("tls-cert"), help: "TLS certificate (PEM); serves HTTPS") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "TLS private key (PEM)") var tlsKey: String?
    @Option(help: "htpasswd file of bcrypt entries (htpasswd -B): Basic auth, or the token service's users") var htpasswd: String?
    @Option(name: .customLong("token-issuer"), help: "Use bearer tokens from this issuer (its own token service at /token with --htpasswd)")
    var tokenIssuer: String?
    @Option(name: .customLong("token-service"), help: "The service name tokens are for") var tokenService = "pier-registry"
    @Option(name: .customLong("token-key"), help: "ES256 key (PEM): a private key to sign tokens, or an external issuer's public key")
    var tokenKey: String?
    @Option(name: .customLong("token-realm"), help: "Token service URL to send clients to (default: this registry's /token)")
    var tokenRealm: String?
    @Option(help: "Access policy file: lines of WHO REPOSITORIES ACTIONS") var access: String?
    @Flag(name: .customLong("anonymous-read"), help: "Let anonymous clients pull") var anonymousRead = false
    @Option(name: .customLong("gc-interval"), help: "Collect garbage this often (e.g. 6h; default: never)") var gcInterval: String?
    @Option(name: .customLong("gc-grace"), help: "Never collect blobs younger than this") var gcGrace = "1h"
    @Option(name: .customLong("log-level"), help: "debug, info, warning or error") var logLevel = "info"

    func run() async throws {
        let logger = try makeLogger(logLevel)
        var options = ServeOptions()
        options.address = addr
        options.storage = storage
        options.tlsCertificate = tlsCert
        options.tlsKey = tlsKey
        options.htpasswd = htpasswd
        options.tokenIssuer = tokenIssuer
        options.tokenService = tokenService
        options.tokenKey = tokenKey
        options.tokenRealm = tokenRealm
        options.accessPolicy = access
        options.anonymousRead = anonymousRead
        options.collectionInterval = gcInterval
        options.collectionGrace = gcGrace
        let server: RegistryServer
        do {
            server = try RegistryServer(configuration: try options.configuration(), logger: logger)
        } catch {
            throw CommandFailure(error.description)
        }
        signal(SIGPIPE, SIG_IGN)
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
            source.setEventHandler { Foundation.exit(0) }
            source.resume()
            SignalSources.keep(source)
        }
        let scheme = tlsCert == nil ? "http" : "https"
        try await server.run { address in
            let host = address.host.contains(":") ? "[\(address.host)]" : address.host
            let line = "pier registry listening on \(scheme)://\(host):\(address.port) (storage \(storage))\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }
}

struct CollectGarbage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc", abstract: "Remove blobs no manifest references (run while the registry is idle, or rely on --gc-grace)")

    @Option(help: "Directory of the registry's content") var storage = "/var/lib/pier-registry"
    @Option(help: "Keep blobs younger than this") var grace = "1h"
    @Flag(name: .customLong("dry-run"), help: "Only report what would be removed") var dryRun = false
    @Flag(name: .customLong("delete-untagged"), help: "Also remove manifests no tag reaches") var deleteUntagged = false

    func run() async throws {
        let logger = try makeLogger("warning")
        let report: GarbageCollector.Report
        do {
            let store = try RegistryStorage(root: storage)
            report = GarbageCollector(storage: store, logger: logger)
                .collect(grace: try ServeOptions.parseDuration(grace), dryRun: dryRun, untagged: deleteUntagged)
        } catch {
            throw CommandFailure(error.description)
        }
        for manifest in report.removedManifests { print("\(dryRun ? "would remove" : "removed") manifest \(manifest)") }
        for blob in report.removedBlobs { print("\(dryRun ? "would remove" : "removed") blob \(blob)") }
        print("\(report.removedBlobs.count) blobs, \(report.reclaimedBytes) bytes \(dryRun ? "reclaimable" : "reclaimed")")
    }
}

func makeLogger(_ level: String) throws -> Logger {
    guard let parsed = Logger.Level(rawValue: level == "warn" ? "warning" : level) else {
        throw ValidationError("invalid --log-level \"\(level)\": use debug, info, warning or error")
    }
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = parsed
        return handler
    }
    return Logger(label: "pier-registry")
}

/// Keeps signal sources alive for the life of the process.
enum SignalSources {
    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []
    static func keep(_ source: any DispatchSourceSignal) { sources.append(source) }
}

/// A failure to report as `Error: …` (without the usage text a `ValidationError` brings).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
