// Mirrors the OCI image-spec configuration (specs-go/v1/config.go, config.md), with the
// extra fields Docker writes (Healthcheck, OnBuild, Shell, ArgsEscaped) as moby's
// image/spec documents them. Pier stores config blobs byte for byte; these types are for
// reading them and for writing new ones.

/// `{}`: the value type of Docker's set-like maps (`ExposedPorts`, `Volumes`).
public struct EmptyObject: Codable, Hashable, Sendable {
    public init() {}
}

/// The image configuration blob.
public struct ImageConfig: Codable, Hashable, Sendable {
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var osVersion: String?
    public var variant: String?
    public var config: ContainerConfig?
    public var rootfs: RootFS
    public var history: [History]?

    enum CodingKeys: String, CodingKey {
        case created, author, architecture, os, variant, config, rootfs, history
        case osVersion = "os.version"
    }

    public init(created: String? = nil, author: String? = nil, platform: Platform = .host,
                config: ContainerConfig? = nil, rootfs: RootFS, history: [History]? = nil) {
        self.created = created
        self.author = author
        self.architecture = platform.architecture
        self.os = platform.os
        self.variant = platform.variant
        self.config = config
        self.rootfs = rootfs
        self.history = history
    }
}

/// The execution parameters an image gives a container (`config` in the image config).
public struct ContainerConfig: Codable, Hashable, Sendable {
    public var User: String?
    public var ExposedPorts: [String: EmptyObject]?
    public var Env: [String]?
    public var Entrypoint: [String]?
    public var Cmd: [String]?
    public var Volumes: [String: EmptyObject]?
    public var WorkingDir: String?
    public var Labels: [String: String]?
    public var StopSignal: String?
    public var ArgsEscaped: Bool?
    public var Healthcheck: HealthcheckConfig?
    public var OnBuild: [String]?
    public var Shell: [String]?

    public init() {}
}

/// Docker's HEALTHCHECK settings; durations are nanoseconds.
public struct HealthcheckConfig: Codable, Hashable, Sendable {
    public var Test: [String]?
    public var Interval: Int64?
    public var Timeout: Int64?
    public var StartPeriod: Int64?
    public var StartInterval: Int64?
    public var Retries: Int?

    public init(Test: [String]? = nil) { self.Test = Test }
}

public struct RootFS: Codable, Hashable, Sendable {
    public var type: String
    public var diff_ids: [Digest]

    public init(diffIDs: [Digest]) {
        self.type = "layers"
        self.diff_ids = diffIDs
    }
}

public struct History: Codable, Hashable, Sendable {
    public var created: String?
    public var created_by: String?
    public var author: String?
    public var comment: String?
    public var empty_layer: Bool?

    public init(created: String? = nil, createdBy: String? = nil, comment: String? = nil, emptyLayer: Bool? = nil) {
        self.created = created
        self.created_by = createdBy
        self.comment = comment
        self.empty_layer = emptyLayer
    }
}
