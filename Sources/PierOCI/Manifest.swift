// Mirrors the OCI image-spec manifest and index (specs-go/v1/manifest.go, index.go).
// Docker's schema 2 manifest and manifest list share this shape and decode into the same types.

/// An image manifest: one config and an ordered list of layers.
public struct ImageManifest: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var artifactType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(mediaType: String? = MediaType.ociManifest, config: Descriptor, layers: [Descriptor],
                annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

/// An image index (or Docker manifest list): manifests for several platforms.
public struct ImageIndex: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var artifactType: String?
    public var manifests: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(mediaType: String? = MediaType.ociIndex, manifests: [Descriptor],
                annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }
}

/// `oci-layout` at the root of an image layout (image-layout.md).
public struct ImageLayoutHeader: Codable, Hashable, Sendable {
    public var imageLayoutVersion: String
    public init(imageLayoutVersion: String = "1.0.0") { self.imageLayoutVersion = imageLayoutVersion }
}

/// Annotation keys of the OCI image-spec (annotations.md) and containerd's image name key.
public enum AnnotationKey {
    public static let refName = "org.opencontainers.image.ref.name"
    public static let created = "org.opencontainers.image.created"
    public static let containerdImageName = "io.containerd.image.name"
}

/// One entry of Docker's `manifest.json` in a `docker save` archive (moby image/tarexport).
public struct DockerArchiveEntry: Codable, Hashable, Sendable {
    public var Config: String
    public var RepoTags: [String]?
    public var Layers: [String]
    public var LayerSources: [String: Descriptor]?

    public init(config: String, repoTags: [String]?, layers: [String]) {
        self.Config = config
        self.RepoTags = repoTags
        self.Layers = layers
    }
}
