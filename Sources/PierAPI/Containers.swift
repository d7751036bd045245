import PierOCI

// Container models of the Engine API v1.41 (swagger: ContainerConfig, HostConfig, Resources,
// RestartPolicy, Mount, ContainerState, ContainerSummary, the inspect body, exec). Field names are
// the JSON keys; everything a client may leave out is optional.

/// `POST /containers/create` body: the container config plus `HostConfig` and `NetworkingConfig`.
public struct ContainerCreateRequest: Codable, Sendable {
    public var Hostname: String?
    public var Domainname: String?
    public var User: String?
    public var AttachStdin: Bool?
    public var AttachStdout: Bool?
    public var AttachStderr: Bool?
    public var ExposedPorts: [String: EmptyObject]?
    public var Tty: Bool?
    public var OpenStdin: Bool?
    public var StdinOnce: Bool?
    public var Env: [String]?
    public var Cmd: [String]?
    public var Healthcheck: HealthcheckConfig?
    public var ArgsEscaped: Bool?
    public var Image: String?
    public var Volumes: [String: EmptyObject]?
    public var WorkingDir: String?
    public var Entrypoint: [String]?
    public var NetworkDisabled: Bool?
    public var OnBuild: [String]?
    public var Labels: [String: String]?
    public var StopSignal: String?
    public var StopTimeout: Int?
    public var Shell: [String]?
    public var HostConfig: HostConfig?
    public var NetworkingConfig: NetworkingConfig?

    public init(Image: String) { self.Image = Image }
}

public struct HostConfig: Codable, Sendable {
    public var Binds: [String]?
    public var ContainerIDFile: String?
    public var LogConfig: LogConfig?
    public var NetworkMode: String?
    public var PortBindings: [String: [PortBinding]?]?
    public var RestartPolicy: RestartPolicy?
    public var AutoRemove: Bool?
    public var VolumesFrom: [String]?
    public var Mounts: [MountSpec]?
    public var CapAdd: [String]?
    public var CapDrop: [String]?
    public var Dns: [String]?
    public var DnsOptions: [String]?
    public var DnsSearch: [String]?
    public var ExtraHosts: [String]?
    public var GroupAdd: [String]?
    public var IpcMode: String?
    public var OomScoreAdj: Int?
    public var PidMode: String?
    public var Privileged: Bool?
    public var PublishAllPorts: Bool?
    public var ReadonlyRootfs: Bool?
    public var SecurityOpt: [String]?
    public var Tmpfs: [String: String]?
    public var UTSMode: String?
    public var ShmSize: Int64?
    public var Sysctls: [String: String]?
    public var ConsoleSize: [Int]?
    public var Init: Bool?
    // Resources
    public var CpuShares: Int64?
    public var Memory: Int64?
    public var MemoryReservation: Int64?
    public var MemorySwap: Int64?
    public var MemorySwappiness: Int64?
    public var NanoCpus: Int64?
    public var CpuPeriod: Int64?
    public var CpuQuota: Int64?
    public var CpusetCpus: String?
    public var CpusetMems: String?
    public var PidsLimit: Int64?
    public var OomKillDisable: Bool?
    public var BlkioWeight: UInt16?
    public var Ulimits: [UlimitSpec]?

    public init() {}
}

public struct LogConfig: Codable, Sendable {
    public var `Type`: String?
    public var Config: [String: String]?
    public init(Type: String?, Config: [String: String]?) {
        self.Type = Type
        self.Config = Config
    }
}

public struct PortBinding: Codable, Sendable, Hashable {
    public var HostIp: String?
    public var HostPort: String?
    public init(HostIp: String?, HostPort: String?) {
        self.HostIp = HostIp
        self.HostPort = HostPort
    }
}

public struct RestartPolicy: Codable, Sendable, Hashable {
    public var Name: String?
    public var MaximumRetryCount: Int?
    public init(Name: String?, MaximumRetryCount: Int?) {
        self.Name = Name
        self.MaximumRetryCount = MaximumRetryCount
    }
}

public struct MountSpec: Codable, Sendable, Hashable {
    public var Target: String?
    public var Source: String?
    public var `Type`: String?
    public var ReadOnly: Bool?
    public var TmpfsOptions: TmpfsOptions?
    public var VolumeOptions: VolumeOptions?
    public struct VolumeOptions: Codable, Sendable, Hashable {
        public var NoCopy: Bool?
        public var Labels: [String: String]?
        public init(NoCopy: Bool?) { self.NoCopy = NoCopy }
    }
    public struct TmpfsOptions: Codable, Sendable, Hashable {
        public var SizeBytes: Int64?
        public var Mode: UInt32?
        public init(SizeBytes: Int64?, Mode: UInt32?) {
            self.SizeBytes = SizeBytes
            self.Mode = Mode
        }
    }
    public init(Target: String?, Source: String?, Type: String?, ReadOnly: Bool?) {
        self.Target = Target
        self.Source = Source
        self.Type = Type
        self.ReadOnly = ReadOnly
    }
}

public struct UlimitSpec: Codable, Sendable, Hashable {
    public var Name: String
    public var Soft: Int64
    public var Hard: Int64
    public init(Name: String, Soft: Int64, Hard: Int64) {
        self.Name = Name
        self.Soft = Soft
        self.Hard = Hard
    }
}

public struct ContainerCreateResponse: Codable, Sendable {
    public var Id: String
    public var Warnings: [String]
    public init(Id: String, Warnings: [String]) {
        self.Id = Id
        self.Warnings = Warnings
    }
}

/// `State` of the inspect body.
public struct ContainerState: Codable, Sendable {
    public var Status: String
    public var Running: Bool
    public var Paused: Bool
    public var Restarting: Bool
    public var OOMKilled: Bool
    public var Dead: Bool
    public var Pid: Int
    public var ExitCode: Int
    public var Error: String
    public var StartedAt: String
    public var FinishedAt: String
    /// Present when the container has a health check.
    public var Health: HealthState?

    public init(Status: String, Running: Bool, Paused: Bool, Restarting: Bool, OOMKilled: Bool, Dead: Bool, Pid: Int,
                ExitCode: Int, Error: String, StartedAt: String, FinishedAt: String, Health: HealthState? = nil) {
        self.Status = Status
        self.Running = Running
        self.Paused = Paused
        self.Restarting = Restarting
        self.OOMKilled = OOMKilled
        self.Dead = Dead
        self.Pid = Pid
        self.ExitCode = ExitCode
        self.Error = Error
        self.StartedAt = StartedAt
        self.FinishedAt = FinishedAt
        self.Health = Health
    }
}

/// `State.Health`: the outcome of a container's health check.
public struct HealthState: Codable, Sendable, Hashable {
    /// `starting`, `healthy` or `unhealthy`.
    public var Status: String
    /// Consecutive failed probes.
    public var FailingStreak: Int
    /// The last five probes, oldest first.
    public var Log: [HealthLogEntry]

    public init(Status: String, FailingStreak: Int = 0, Log: [HealthLogEntry] = []) {
        self.Status = Status
        self.FailingStreak = FailingStreak
        self.Log = Log
    }
}

/// One health probe: when it ran, its exit code (-1 when it could not run or timed out) and
/// the first 4 KiB of its output.
public struct HealthLogEntry: Codable, Sendable, Hashable {
    public var Start: String
    public var End: String
    public var ExitCode: Int
    public var Output: String

    public init(Start: String, End: String, ExitCode: Int, Output: String) {
        self.Start = Start
        self.End = End
        self.ExitCode = ExitCode
        self.Output = Output
    }
}

/// `GET /containers/{id}/json`.
public struct ContainerInspect: Codable, Sendable {
    public var Id: String
    public var Created: String
    public var Path: String
    public var Args: [String]
    public var State: ContainerState
    public var Image: String
    public var ResolvConfPath: String
    public var HostnamePath: String
    public var HostsPath: String
    public var LogPath: String
    public var Name: String
    public var RestartCount: Int
    public var Driver: String
    public var Platform: String
    public var MountLabel: String
    public var ProcessLabel: String
    public var AppArmorProfile: String
    public var ExecIDs: [String]?
    public var HostConfig: HostConfig
    public var GraphDriver: GraphDriverData
    public var Mounts: [MountPoint]
    public var Config: ContainerCreateRequest
    public var NetworkSettings: NetworkSettings

    public init(Id: String, Created: String, Path: String, Args: [String], State: ContainerState, Image: String,
                ResolvConfPath: String, HostnamePath: String, HostsPath: String, LogPath: String, Name: String,
                RestartCount: Int, HostConfig: HostConfig, GraphDriver: GraphDriverData, Mounts: [MountPoint],
                Config: ContainerCreateRequest, NetworkSettings: NetworkSettings) {
        self.Id = Id
        self.Created = Created
        self.Path = Path
        self.Args = Args
        self.State = State
        self.Image = Image
        self.ResolvConfPath = ResolvConfPath
        self.HostnamePath = HostnamePath
        self.HostsPath = HostsPath
        self.LogPath = LogPath
        self.Name = Name
        self.RestartCount = RestartCount
        self.Driver = "overlay2"
        self.Platform = "linux"
        self.MountLabel = ""
        self.ProcessLabel = ""
        self.AppArmorProfile = ""
        self.ExecIDs = nil
        self.HostConfig = HostConfig
        self.GraphDriver = GraphDriver
        self.Mounts = Mounts
        self.Config = Config
        self.NetworkSettings = NetworkSettings
    }
}

public struct MountPoint: Codable, Sendable {
    public var `Type`: String
    public var Name: String?
    public var Driver: String?
    public var Source: String
    public var Destination: String
    public var Mode: String
    public var RW: Bool
    public var Propagation: String
    public init(Type: String, Source: String, Destination: String, Mode: String, RW: Bool) {
        self.Type = Type
        self.Source = Source
        self.Destination = Destination
        self.Mode = Mode
        self.RW = RW
        self.Propagation = Type == "bind" ? "rprivate" : ""
    }
}

public struct NetworkSettings: Codable, Sendable {
    public var Bridge: String
    public var SandboxID: String
    public var SandboxKey: String?
    public var Ports: [String: [PortBinding]?]
    public var IPAddress: String
    public var IPPrefixLen: Int?
    public var Gateway: String
    public var MacAddress: String
    public var Networks: [String: EndpointSettings]
    public init(Networks: [String: EndpointSettings]) {
        self.Bridge = ""
        self.SandboxID = ""
        self.Ports = [:]
        self.IPAddress = ""
        self.Gateway = ""
        self.MacAddress = ""
        self.Networks = Networks
    }
}

public struct EndpointSettings: Codable, Sendable {
    public var IPAMConfig: EndpointIPAMConfig?
    public var Links: [String]?
    public var Aliases: [String]?
    public var NetworkID: String?
    public var EndpointID: String?
    public var Gateway: String?
    public var IPAddress: String?
    public var IPPrefixLen: Int?
    public var IPv6Gateway: String?
    public var GlobalIPv6Address: String?
    public var GlobalIPv6PrefixLen: Int?
    public var MacAddress: String?
    public var DriverOpts: [String: String]?
    public init() {
        NetworkID = ""
        EndpointID = ""
        Gateway = ""
        IPAddress = ""
        MacAddress = ""
    }
}

extension EndpointSettings {
    /// What a client asks for when it attaches a container to a network: aliases and an address,
    /// nothing of what the daemon fills in.
    public static func request(aliases: [String], ipv4Address: String?) -> EndpointSettings {
        var endpoint = EndpointSettings()
        endpoint.NetworkID = nil
        endpoint.EndpointID = nil
        endpoint.Gateway = nil
        endpoint.IPAddress = nil
        endpoint.MacAddress = nil
        endpoint.Aliases = aliases.isEmpty ? nil : aliases
        if let ipv4Address { endpoint.IPAMConfig = EndpointIPAMConfig(IPv4Address: ipv4Address) }
        return endpoint
    }
}

/// One row of `GET /containers/json`.
public struct ContainerSummary: Codable, Sendable {
    public var Id: String
    public var Names: [String]
    public var Image: String
    public var ImageID: String
    public var Command: String
    public var Created: Int64
    public var Ports: [PortSummary]
    public var SizeRw: Int64?
    public var SizeRootFs: Int64?
    public var Labels: [String: String]
    public var State: String
    public var Status: String
    public var HostConfig: SummaryHostConfig
    public var Mounts: [MountPoint]

    public struct SummaryHostConfig: Codable, Sendable {
        public var NetworkMode: String
        public init(NetworkMode: String) { self.NetworkMode = NetworkMode }
    }

    public init(Id: String, Names: [String], Image: String, ImageID: String, Command: String, Created: Int64,
                Labels: [String: String], State: String, Status: String, NetworkMode: String, Mounts: [MountPoint]) {
        self.Id = Id
        self.Names = Names
        self.Image = Image
        self.ImageID = ImageID
        self.Command = Command
        self.Created = Created
        self.Ports = []
        self.Labels = Labels
        self.State = State
        self.Status = Status
        self.HostConfig = SummaryHostConfig(NetworkMode: NetworkMode)
        self.Mounts = Mounts
    }
}

public struct PortSummary: Codable, Sendable {
    public var IP: String?
    public var PrivatePort: Int
    public var PublicPort: Int?
    public var `Type`: String
    public init(IP: String?, PrivatePort: Int, PublicPort: Int?, Type: String) {
        self.IP = IP
        self.PrivatePort = PrivatePort
        self.PublicPort = PublicPort
        self.Type = Type
    }
}

public struct ContainerWaitResponse: Codable, Sendable {
    public var StatusCode: Int
    public var Error: WaitError?
    public struct WaitError: Codable, Sendable {
        public var Message: String
    }
    public init(StatusCode: Int, error: String? = nil) {
        self.StatusCode = StatusCode
        self.Error = error.map { WaitError(Message: $0) }
    }
}

/// `POST /containers/{id}/exec` body.
public struct ExecCreateRequest: Codable, Sendable {
    public var AttachStdin: Bool?
    public var AttachStdout: Bool?
    public var AttachStderr: Bool?
    public var DetachKeys: String?
    public var Tty: Bool?
    public var Env: [String]?
    public var Cmd: [String]?
    public var Privileged: Bool?
    public var User: String?
    public var WorkingDir: String?
    public init(Cmd: [String]) { self.Cmd = Cmd }
}

/// `POST /exec/{id}/start` body.
public struct ExecStartRequest: Codable, Sendable {
    public var Detach: Bool?
    public var Tty: Bool?
    public init(Detach: Bool?, Tty: Bool?) {
        self.Detach = Detach
        self.Tty = Tty
    }
}

/// `GET /exec/{id}/json`.
public struct ExecInspect: Codable, Sendable {
    public var ID: String
    public var Running: Bool
    public var ExitCode: Int?
    public var OpenStdin: Bool
    public var OpenStderr: Bool
    public var OpenStdout: Bool
    public var ContainerID: String
    public var Pid: Int
    public var ProcessConfig: ProcessConfig
    public struct ProcessConfig: Codable, Sendable {
        public var tty: Bool
        public var entrypoint: String
        public var arguments: [String]
        public var privileged: Bool
        public var user: String
    }
    public init(ID: String, Running: Bool, ExitCode: Int?, OpenStdin: Bool, ContainerID: String, Pid: Int,
                tty: Bool, command: [String], user: String) {
        self.ID = ID
        self.Running = Running
        self.ExitCode = ExitCode
        self.OpenStdin = OpenStdin
        self.OpenStderr = true
        self.OpenStdout = true
        self.ContainerID = ContainerID
        self.Pid = Pid
        self.ProcessConfig = ExecInspect.ProcessConfig(tty: tty, entrypoint: command.first ?? "",
                                           arguments: Array(command.dropFirst()), privileged: false, user: user)
    }
}

/// `GET /containers/{id}/top`.
public struct TopResponse: Codable, Sendable {
    public var Titles: [String]
    public var Processes: [[String]]
    public init(Titles: [String], Processes: [[String]]) {
        self.Titles = Titles
        self.Processes = Processes
    }
}

/// `POST /containers/prune`.
public struct ContainerPruneReport: Codable, Sendable {
    public var ContainersDeleted: [String]?
    public var SpaceReclaimed: Int64
    public init(ContainersDeleted: [String]?, SpaceReclaimed: Int64) {
        self.ContainersDeleted = ContainersDeleted
        self.SpaceReclaimed = SpaceReclaimed
    }
}
