import PierOCI

// Image models of the Engine API v1.41 (swagger definitions ImageSummary, Image,
// HistoryResponseItem, ImageDeleteResponseItem, ImagePruneResponse). Field names are the JSON keys.

public struct ImageSummary: Codable, Sendable {
    public var Id: String
    public var ParentId: String
    public var RepoTags: [String]
    public var RepoDigests: [String]
    public var Created: Int64
    public var Size: Int64
    public var SharedSize: Int64
    public var VirtualSize: Int64
    public var Labels: [String: String]
    public var Containers: Int64

    public init(Id: String, ParentId: String, RepoTags: [String], RepoDigests: [String], Created: Int64,
                Size: Int64, Labels: [String: String], Containers: Int64) {
        self.Id = Id
        self.ParentId = ParentId
        self.RepoTags = RepoTags
        self.RepoDigests = RepoDigests
        self.Created = Created
        self.Size = Size
        self.SharedSize = -1
        self.VirtualSize = Size
        self.Labels = Labels
        self.Containers = Containers
    }
}

public struct ImageInspect: Codable, Sendable {
    public var Id: String
    public var RepoTags: [String]
    public var RepoDigests: [String]
    public var Parent: String
    public var Comment: String
    public var Created: String
    public var Container: String
    public var ContainerConfig: ContainerConfig?
    public var DockerVersion: String
    public var Author: String
    public var Config: ContainerConfig?
    public var Architecture: String
    public var Variant: String?
    public var Os: String
    public var OsVersion: String?
    public var Size: Int64
    public var VirtualSize: Int64
    public var GraphDriver: GraphDriverData
    public var RootFS: RootFSInfo
    public var Metadata: ImageMetadata

    public init(Id: String, RepoTags: [String], RepoDigests: [String], Parent: String, Comment: String,
                Created: String, Author: String, Config: ContainerConfig?, Architecture: String,
                Variant: String?, Os: String, Size: Int64, GraphDriver: GraphDriverData,
                RootFS: RootFSInfo, Metadata: ImageMetadata) {
        self.Id = Id
        self.RepoTags = RepoTags
        self.RepoDigests = RepoDigests
        self.Parent = Parent
        self.Comment = Comment
        self.Created = Created
        self.Container = ""
        self.ContainerConfig = nil
        self.DockerVersion = ""
        self.Author = Author
        self.Config = Config
        self.Architecture = Architecture
        self.Variant = Variant
        self.Os = Os
        self.Size = Size
        self.VirtualSize = Size
        self.GraphDriver = GraphDriver
        self.RootFS = RootFS
        self.Metadata = Metadata
    }
}

public struct GraphDriverData: Codable, Sendable {
    public var Name: String
    public var Data: [String: String]
    public init(Name: String, Data: [String: String]) {
        self.Name = Name
        self.Data = Data
    }
}

public struct RootFSInfo: Codable, Sendable {
    public var `Type`: String
    public var Layers: [String]
    public init(Layers: [String]) {
        self.Type = "layers"
        self.Layers = Layers
    }
}

public struct ImageMetadata: Codable, Sendable {
    public var LastTagTime: String?
    public init(LastTagTime: String?) { self.LastTagTime = LastTagTime }
}

public struct HistoryItem: Codable, Sendable {
    public var Id: String
    public var Created: Int64
    public var CreatedBy: String
    public var Tags: [String]?
    public var Size: Int64
    public var Comment: String

    public init(Id: String, Created: Int64, CreatedBy: String, Tags: [String]?, Size: Int64, Comment: String) {
        self.Id = Id
        self.Created = Created
        self.CreatedBy = CreatedBy
        self.Tags = Tags
        self.Size = Size
        self.Comment = Comment
    }
}

public struct ImageDeleteItem: Codable, Sendable {
    public var Untagged: String?
    public var Deleted: String?
    public init(Untagged: String? = nil, Deleted: String? = nil) {
        self.Untagged = Untagged
        self.Deleted = Deleted
    }
}

public struct ImagePruneReport: Codable, Sendable {
    public var ImagesDeleted: [ImageDeleteItem]?
    public var SpaceReclaimed: Int64
    public init(ImagesDeleted: [ImageDeleteItem]?, SpaceReclaimed: Int64) {
        self.ImagesDeleted = ImagesDeleted
        self.SpaceReclaimed = SpaceReclaimed
    }
}

/// The `id` of a newly made image (`/commit`, `/images/create?fromSrc=-`).
public struct IDResponse: Codable, Sendable {
    public var Id: String
    public init(Id: String) { self.Id = Id }
}
