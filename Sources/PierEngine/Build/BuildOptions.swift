import PierAPI
import PierOCI
import PierRegistry
import Synchronization

/// What `POST /build` asks for, in the builder's terms (the query parameters of the Engine
/// API's `ImageBuild`, swagger v1.41).
public struct BuildOptions: Sendable {
    /// `-t`: names to give the image, as written (`app`, `team/app:1.0`).
    public var tags: [String] = []
    /// The Dockerfile's path inside the context.
    public var dockerfile = "Dockerfile"
    /// `--build-arg NAME=VALUE`; a nil value means "declared but unset" as the docker CLI sends it.
    public var buildArgs: [String: String?] = [:]
    /// `--target`: the stage to stop at; nil builds the last stage.
    public var target: String?
    /// `--no-cache`: run every step again (results are still recorded for later builds).
    public var noCache = false
    /// `--pull`: fetch each `FROM` image from its registry before the build, even if it is local.
    public var pull = false
    /// The client's logins, by registry (`X-Registry-Config`), for `--pull`.
    public var registryLogins: [String: RegistryAuthConfig] = [:]
    /// `--label`: labels added to the final image.
    public var labels: [String: String] = [:]
    /// `-q`: no step output, only the image ID.
    public var quiet = false
    /// `--add-host NAME:IP`: lines for the /etc/hosts of RUN containers.
    public var extraHosts: [String] = []
    /// `--secret`: id → value, for `RUN --mount=type=secret`. Never part of a key, a layer or
    /// the image config.
    public var secrets: [String: [UInt8]] = [:]
    /// `--platform`: must be the host's (Pier runs what it builds natively, without emulation).
    public var platform: String?
    /// `remote`: a Git repository to clone as the context (the request's body is then empty).
    public var remote: GitContextURL?

    public init() {}
}

/// What a build reports while it runs: the lines Docker's legacy builder prints, and the
/// image ID at the end (`{"aux":{"ID":...}}`).
public enum BuildEvent: Sendable {
    case stream(String)
    case imageID(Digest)
}

/// Lets the HTTP side stop a build whose client went away (Ctrl-C on `docker build`).
public final class BuildCancellation: Sendable {
    private let flag = Mutex(false)

    public init() {}

    public func cancel() { flag.withLock { $0 = true } }
    public var isCancelled: Bool { flag.withLock { $0 } }
}
