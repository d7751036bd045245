import Foundation
import Logging
import PierArchive
import PierDockerfile
import PierOCI
import PierStore

/// `docker build` with Docker's legacy builder's output: a Dockerfile and a context in, an
/// image out. Only the stages the target needs run, each as soon as those it needs are built
/// (independent stages at once; see `BuildSession.buildStages`); each step is
/// looked up in the `BuildCache` first; `RUN` runs in a container of Pier's runtime (see
/// `BuildSession+Run`), `COPY`/`ADD` build their layer straight from the context.
public final class Builder: Sendable {
    let transfer: ImageTransfer
    let containers: ContainerService
    /// For `--pull`.
    let registry: RegistryService
    let root: String
    let scratch: String
    let cache: BuildCache
    let logger: Logger

    init(transfer: ImageTransfer, containers: ContainerService, registry: RegistryService, root: String,
         scratch: String, logger: Logger) throws(EngineError) {
        self.transfer = transfer
        self.containers = containers
        self.registry = registry
        self.root = root
        self.scratch = scratch
        self.logger = logger
        do {
            cache = try BuildCache(directory: root + "/cache", store: transfer.store)
            try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
        } catch {
            throw EngineError(.internalError, "cannot prepare the build cache in \(root): \(error)")
        }
        let cache = self.cache
        transfer.store.addRetainer { cache.referencedDigests() }
    }

    /// Cleans what an interrupted build left (its containers' directories, cache temp files).
    func recover() {
        cache.removeAbandoned()
        try? FileManager.default.removeItem(atPath: root + "/containers")
    }

    /// `docker builder prune`: forgets the build cache. Returns the entries removed.
    public func pruneCache() -> [String] {
        cache.prune()
    }

    /// Builds an image from a context tar stream. Events go to `output` as they happen; the
    /// returned digest is the image ID. Nothing is named or cached unless it is complete.
    public func build(context: ArchiveSource, options: BuildOptions, cancellation: BuildCancellation = BuildCancellation(),
                      output: @escaping @Sendable (BuildEvent) -> Void) throws(EngineError) -> Digest {
        let session: BuildSession
        do {
            session = try BuildSession(builder: self, options: options, cancellation: cancellation, output: output)
        } catch {
            throw Builder.engineError(error)
        }
        let started = ContinuousClock.now
        defer {
            session.close()
            logger.debug("build finished", metadata: ["elapsed": "\(ContinuousClock.now - started)"])
        }
        do {
            if let remote = options.remote {
                try session.fetchGitContext(remote)
            } else {
                try session.receive(context)
            }
            logger.debug("build context received", metadata: ["elapsed": "\(ContinuousClock.now - started)"])
            return try session.run()
        } catch {
            throw Builder.engineError(error)
        }
    }

    static func engineError(_ error: any Error) -> EngineError {
        switch error {
        case let error as EngineError: return error
        case let error as DockerfileError: return EngineError(.invalidArgument, error.description)
        case let error as ArchiveError: return EngineError(.invalidArgument, "invalid build context: \(error.message)")
        case let error as StoreError: return EngineError.from(error)
        default: return EngineError(.internalError, "build failed: \(error)")
        }
    }
}

/// An error at a line of the Dockerfile, worded for the user.
func stepError(_ line: Int, _ message: String, code: EngineError.Code = .invalidArgument) -> EngineError {
    EngineError(code, "Dockerfile:\(line): \(message)")
}
