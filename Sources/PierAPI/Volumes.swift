// Volume models of the Engine API v1.41 (swagger: Volume, VolumeCreateOptions, VolumeListResponse).

public struct Volume: Codable, Sendable {
    public var Name: String
    public var Driver: String
    public var Mountpoint: String
    public var CreatedAt: String?
    public var Status: [String: String]?
    public var Labels: [String: String]
    public var Scope: String
    public var Options: [String: String]
    public var UsageData: UsageData?

    public struct UsageData: Codable, Sendable {
        public var Size: Int64
        public var RefCount: Int64
        public init(Size: Int64, RefCount: Int64) {
            self.Size = Size
            self.RefCount = RefCount
        }
    }

    public init(Name: String, Mountpoint: String, CreatedAt: String, Labels: [String: String], Options: [String: String]) {
        self.Name = Name
        self.Driver = "local"
        self.Mountpoint = Mountpoint
        self.CreatedAt = CreatedAt
        self.Labels = Labels
        self.Scope = "local"
        self.Options = Options
    }
}

/// `POST /volumes/create` body.
public struct VolumeCreateRequest: Codable, Sendable {
    public var Name: String?
    public var Driver: String?
    public var DriverOpts: [String: String]?
    public var Labels: [String: String]?
    public init(Name: String?) { self.Name = Name }
}

public struct VolumeListResponse: Codable, Sendable {
    public var Volumes: [Volume]
    public var Warnings: [String]
    public init(Volumes: [Volume]) {
        self.Volumes = Volumes
        self.Warnings = []
    }
}

public struct VolumePruneResponse: Codable, Sendable {
    public var VolumesDeleted: [String]
    public var SpaceReclaimed: Int64
    public init(VolumesDeleted: [String], SpaceReclaimed: Int64) {
        self.VolumesDeleted = VolumesDeleted
        self.SpaceReclaimed = SpaceReclaimed
    }
}
