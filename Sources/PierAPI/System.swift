// System models of the Engine API v1.41 (swagger SystemVersion, SystemInfo, /system/df).

public struct SystemVersion: Codable, Sendable {
    public var Platform: PlatformName
    public var Components: [Component]
    public var Version: String
    public var ApiVersion: String
    public var MinAPIVersion: String
    public var GitCommit: String
    public var GoVersion: String
    public var Os: String
    public var Arch: String
    public var KernelVersion: String
    public var BuildTime: String

    public struct PlatformName: Codable, Sendable {
        public var Name: String
        public init(Name: String) { self.Name = Name }
    }

    public struct Component: Codable, Sendable {
        public var Name: String
        public var Version: String
        public var Details: [String: String]?
        public init(Name: String, Version: String, Details: [String: String]?) {
            self.Name = Name
            self.Version = Version
            self.Details = Details
        }
    }

    public init(version: String, gitCommit: String, os: String, arch: String, kernelVersion: String,
                buildTime: String, swiftVersion: String) {
        Platform = PlatformName(Name: "Pier Engine")
        Version = version
        ApiVersion = APIVersion.current
        MinAPIVersion = APIVersion.minimum
        GitCommit = gitCommit
        GoVersion = swiftVersion
        Os = os
        Arch = arch
        KernelVersion = kernelVersion
        BuildTime = buildTime
        Components = [Component(Name: "Engine", Version: version, Details: [
            "ApiVersion": APIVersion.current, "MinAPIVersion": APIVersion.minimum, "GitCommit": gitCommit,
            "GoVersion": swiftVersion, "Os": os, "Arch": arch, "KernelVersion": kernelVersion,
            "BuildTime": buildTime,
        ])]
    }
}

public struct SystemInfo: Codable, Sendable {
    public var ID: String
    public var Containers: Int
    public var ContainersRunning: Int
    public var ContainersPaused: Int
    public var ContainersStopped: Int
    public var Images: Int
    public var Driver: String
    public var DriverStatus: [[String]]
    public var DockerRootDir: String
    public var Plugins: PluginsInfo
    public var MemoryLimit: Bool
    public var SwapLimit: Bool
    public var CpuCfsPeriod: Bool
    public var CpuCfsQuota: Bool
    public var CPUShares: Bool
    public var CPUSet: Bool
    public var PidsLimit: Bool
    public var OomKillDisable: Bool
    public var IPv4Forwarding: Bool
    public var Debug: Bool
    public var NFd: Int
    public var NGoroutines: Int
    public var SystemTime: String
    public var LoggingDriver: String
    public var CgroupDriver: String
    public var CgroupVersion: String
    public var NEventsListener: Int
    public var KernelVersion: String
    public var OperatingSystem: String
    public var OSVersion: String
    public var OSType: String
    public var Architecture: String
    public var NCPU: Int
    public var MemTotal: Int64
    public var IndexServerAddress: String
    public var Name: String
    public var Labels: [String]
    public var ExperimentalBuild: Bool
    public var ServerVersion: String
    public var DefaultRuntime: String
    public var LiveRestoreEnabled: Bool
    public var Isolation: String
    public var SecurityOptions: [String]
    public var Warnings: [String]?

    public struct PluginsInfo: Codable, Sendable {
        public var Volume: [String]
        public var Network: [String]
        public var Authorization: [String]?
        public var Log: [String]
        public init(Volume: [String], Network: [String], Log: [String]) {
            self.Volume = Volume
            self.Network = Network
            self.Authorization = nil
            self.Log = Log
        }
    }

    public init(ID: String, Containers: Int, ContainersRunning: Int, ContainersPaused: Int,
                ContainersStopped: Int, Images: Int, Driver: String, DockerRootDir: String,
                SystemTime: String, CgroupDriver: String, CgroupVersion: String, KernelVersion: String,
                OperatingSystem: String, OSVersion: String, Architecture: String, NCPU: Int, MemTotal: Int64,
                Name: String, ServerVersion: String, NFd: Int, NGoroutines: Int) {
        self.ID = ID
        self.Containers = Containers
        self.ContainersRunning = ContainersRunning
        self.ContainersPaused = ContainersPaused
        self.ContainersStopped = ContainersStopped
        self.Images = Images
        self.Driver = Driver
        self.DriverStatus = [["Backing Filesystem", "extfs"]]
        self.DockerRootDir = DockerRootDir
        self.Plugins = PluginsInfo(Volume: ["local"], Network: ["bridge", "host", "none"], Log: ["json-file"])
        self.MemoryLimit = true
        self.SwapLimit = true
        self.CpuCfsPeriod = true
        self.CpuCfsQuota = true
        self.CPUShares = true
        self.CPUSet = true
        self.PidsLimit = true
        self.OomKillDisable = false
        self.IPv4Forwarding = true
        self.Debug = false
        self.NFd = NFd
        self.NGoroutines = NGoroutines
        self.SystemTime = SystemTime
        self.LoggingDriver = "json-file"
        self.CgroupDriver = CgroupDriver
        self.CgroupVersion = CgroupVersion
        self.NEventsListener = 0
        self.KernelVersion = KernelVersion
        self.OperatingSystem = OperatingSystem
        self.OSVersion = OSVersion
        self.OSType = "linux"
        self.Architecture = Architecture
        self.NCPU = NCPU
        self.MemTotal = MemTotal
        self.IndexServerAddress = "https://index.docker.io/v1/"
        self.Name = Name
        self.Labels = []
        self.ExperimentalBuild = false
        self.ServerVersion = ServerVersion
        self.DefaultRuntime = "pier"
        self.LiveRestoreEnabled = true
        self.Isolation = ""
        self.SecurityOptions = ["name=seccomp,profile=default"]
        self.Warnings = nil
    }
}

/// `GET /system/df`.
public struct DiskUsage: Codable, Sendable {
    public var LayersSize: Int64
    public var Images: [ImageSummary]
    public var Containers: [ContainerUsage]
    public var Volumes: [Volume]
    public var BuildCache: [BuildCacheUsage]

    public init(LayersSize: Int64, Images: [ImageSummary]) {
        self.LayersSize = LayersSize
        self.Images = Images
        self.Containers = []
        self.Volumes = []
        self.BuildCache = []
    }

    /// Placeholders until containers, volumes and the build cache exist; decode any shape.
    public struct ContainerUsage: Codable, Sendable { public var Id: String?; public var SizeRw: Int64? }
    public struct VolumeUsage: Codable, Sendable { public var Name: String? }
    public struct BuildCacheUsage: Codable, Sendable { public var ID: String?; public var Size: Int64? }
}

/// `POST /images/load` answer when not quiet; also the shape of `POST /system/prune`-like reports.
public struct SystemPruneReport: Codable, Sendable {
    public var ImagesDeleted: [ImageDeleteItem]?
    public var ContainersDeleted: [String]?
    public var SpaceReclaimed: Int64
    public init(ImagesDeleted: [ImageDeleteItem]?, SpaceReclaimed: Int64) {
        self.ImagesDeleted = ImagesDeleted
        self.ContainersDeleted = nil
        self.SpaceReclaimed = SpaceReclaimed
    }
}
