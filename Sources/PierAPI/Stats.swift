/// `GET /containers/{id}/stats`: one sample, with Docker's field names (the cgroup v1 shape,
/// which the docker CLI reads for v2 hosts too).
public struct ContainerStats: Codable, Sendable {
    public struct CPUUsage: Codable, Sendable {
        public var total_usage: UInt64
        public var percpu_usage: [UInt64]?
        public var usage_in_kernelmode: UInt64
        public var usage_in_usermode: UInt64
        public init(total_usage: UInt64 = 0, percpu_usage: [UInt64]? = nil, usage_in_kernelmode: UInt64 = 0,
                    usage_in_usermode: UInt64 = 0) {
            self.total_usage = total_usage
            self.percpu_usage = percpu_usage
            self.usage_in_kernelmode = usage_in_kernelmode
            self.usage_in_usermode = usage_in_usermode
        }
    }

    public struct Throttling: Codable, Sendable {
        public var periods: UInt64
        public var throttled_periods: UInt64
        public var throttled_time: UInt64
        public init(periods: UInt64 = 0, throttled_periods: UInt64 = 0, throttled_time: UInt64 = 0) {
            self.periods = periods
            self.throttled_periods = throttled_periods
            self.throttled_time = throttled_time
        }
    }

    public struct CPU: Codable, Sendable {
        public var cpu_usage: CPUUsage
        /// Host CPU time in nanoseconds (all CPUs, all states), the denominator of CPU %.
        public var system_cpu_usage: UInt64?
        public var online_cpus: Int?
        public var throttling_data: Throttling
        public init(cpu_usage: CPUUsage = CPUUsage(), system_cpu_usage: UInt64? = nil, online_cpus: Int? = nil,
                    throttling_data: Throttling = Throttling()) {
            self.cpu_usage = cpu_usage
            self.system_cpu_usage = system_cpu_usage
            self.online_cpus = online_cpus
            self.throttling_data = throttling_data
        }
    }

    public struct Memory: Codable, Sendable {
        public var usage: UInt64?
        public var max_usage: UInt64?
        public var stats: [String: UInt64]?
        public var limit: UInt64?
        public init(usage: UInt64? = nil, max_usage: UInt64? = nil, stats: [String: UInt64]? = nil, limit: UInt64? = nil) {
            self.usage = usage
            self.max_usage = max_usage
            self.stats = stats
            self.limit = limit
        }
    }

    public struct Pids: Codable, Sendable {
        public var current: UInt64?
        public var limit: UInt64?
        public init(current: UInt64? = nil, limit: UInt64? = nil) {
            self.current = current
            self.limit = limit
        }
    }

    public struct Network: Codable, Sendable {
        public var rx_bytes: UInt64 = 0
        public var rx_packets: UInt64 = 0
        public var rx_errors: UInt64 = 0
        public var rx_dropped: UInt64 = 0
        public var tx_bytes: UInt64 = 0
        public var tx_packets: UInt64 = 0
        public var tx_errors: UInt64 = 0
        public var tx_dropped: UInt64 = 0
        public init() {}
    }

    public struct BlkioEntry: Codable, Sendable {
        public var major: UInt64
        public var minor: UInt64
        public var op: String
        public var value: UInt64
        public init(major: UInt64, minor: UInt64, op: String, value: UInt64) {
            self.major = major
            self.minor = minor
            self.op = op
            self.value = value
        }
    }

    public struct Blkio: Codable, Sendable {
        public var io_service_bytes_recursive: [BlkioEntry]?
        public init(io_service_bytes_recursive: [BlkioEntry]? = nil) {
            self.io_service_bytes_recursive = io_service_bytes_recursive
        }
    }

    public var name: String
    public var id: String
    public var read: String
    public var preread: String
    public var pids_stats: Pids
    public var blkio_stats: Blkio
    public var num_procs: Int
    public var cpu_stats: CPU
    public var precpu_stats: CPU
    public var memory_stats: Memory
    public var networks: [String: Network]?

    public init(name: String, id: String, read: String, preread: String = "0001-01-01T00:00:00Z", pids_stats: Pids = Pids(),
                blkio_stats: Blkio = Blkio(), cpu_stats: CPU = CPU(), precpu_stats: CPU = CPU(), memory_stats: Memory = Memory(),
                networks: [String: Network]? = nil) {
        self.name = name
        self.id = id
        self.read = read
        self.preread = preread
        self.pids_stats = pids_stats
        self.blkio_stats = blkio_stats
        num_procs = 0
        self.cpu_stats = cpu_stats
        self.precpu_stats = precpu_stats
        self.memory_stats = memory_stats
        self.networks = networks
    }
}
