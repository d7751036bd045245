/// `RUN [--mount=...] [--network=...] [--security=...] command`.
public struct RunInstruction: Sendable, Equatable {
    public var command: CommandForm
    /// Heredocs the command line announces (`RUN <<EOF` ... `EOF`).
    public var heredocs: [Heredoc]
    /// The `--mount` values as written. Their values may use variables, so they are parsed
    /// into `RunMount`s at build time, after expansion: see `mounts(expandingWith:)`.
    public var mountSpecifications: [String]
    public var network: RunNetwork
    public var security: RunSecurity

    public init(command: CommandForm, heredocs: [Heredoc] = [], mountSpecifications: [String] = [],
                network: RunNetwork = .default, security: RunSecurity = .sandbox) {
        self.command = command
        self.heredocs = heredocs
        self.mountSpecifications = mountSpecifications
        self.network = network
        self.security = security
    }

    /// The mounts with every field value passed through `expand` first (BuildKit expands each
    /// value on its own).
    public func mounts(
        expandingWith expand: (String) throws(DockerfileError) -> String
    ) throws(DockerfileError) -> [RunMount] {
        var mounts: [RunMount] = []
        for specification in mountSpecifications {
            mounts.append(try RunMount(parsing: specification, expandingWith: expand))
        }
        return mounts
    }

    /// The mounts with values as written.
    public func mounts() throws(DockerfileError) -> [RunMount] {
        try mounts(expandingWith: RunMount.asWritten)
    }
}

/// `RUN --network=`.
public enum RunNetwork: String, Sendable, Equatable {
    case `default`
    case none
    case host
}

/// `RUN --security=`.
public enum RunSecurity: String, Sendable, Equatable {
    case sandbox
    case insecure
}
