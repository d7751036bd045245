import ArgumentParser
import Foundation
import PierAPI
import PierOCI

/// The flags `run` and `create` share, with Docker's names, turned into the create request.
struct ContainerOptions {
    var name: String?
    var interactive = false
    var tty = false
    var env: [String] = []
    var envFile: [String] = []
    var workdir: String?
    var entrypoint: String?
    var label: [String] = []
    var restart: String?
    var stopSignal: String?
    var stopTimeout: Int?
    var user: String?
    var hostname: String?
    var memory: String?
    var memorySwap: String?
    var cpus: String?
    var cpuShares: Int64?
    var pidsLimit: Int64?
    var readOnly = false
    var tmpfs: [String] = []
    var capAdd: [String] = []
    var capDrop: [String] = []
    var privileged = false
    var securityOpt: [String] = []
    var ulimit: [String] = []
    var `init` = false
    var volume: [String] = []
    var mount: [String] = []
    var network: String?
    var networkAlias: [String] = []
    var ip: String?
    var publish: [String] = []
    var publishAll = false
    var expose: [String] = []
    var volumesFrom: [String] = []
    var dnsSearch: [String] = []
    var dnsOption: [String] = []
    var addHost: [String] = []
    var dns: [String] = []
    var logOpt: [String] = []
    var groupAdd: [String] = []
    var shmSize: String?
    var healthCmd: String?
    var healthInterval: String?
    var healthTimeout: String?
    var healthRetries: Int?
    var healthStartPeriod: String?
    var healthStartInterval: String?
    var noHealthcheck = false

    static let table = FlagTable<ContainerOptions>([
        .string("--name", "Assign a name to the container") { $0.name = $1 },
        .flag("-i, --interactive", "Keep STDIN open even if not attached") { $0.interactive = $1 },
        .flag("-t, --tty", "Allocate a pseudo-TTY") { $0.tty = $1 },
        .environment("-e, --env", "Set environment variables") { $0.env.append($1) },
        .list("--env-file", "Read in a file of environment variables") { $0.envFile.append($1) },
        .string("-w, --workdir", "Working directory inside the container") { $0.workdir = $1 },
        .string("--entrypoint", "Overwrite the default ENTRYPOINT of the image") { $0.entrypoint = $1 },
        .list("-l, --label", "Set meta data on a container") { $0.label.append($1) },
        .string("--restart", "Restart policy to apply when a container exits (no, always, unless-stopped, "
                + "on-failure[:N])") { $0.restart = $1 },
        .string("--stop-signal", "Signal to stop the container") { $0.stopSignal = $1 },
        .int("--stop-timeout", "Timeout (in seconds) to stop a container") { $0.stopTimeout = $1 },
        .string("-u, --user", "Username or UID (format: <name|uid>[:<group|gid>])") { $0.user = $1 },
        .string("--hostname", "Container host name") { $0.hostname = $1 },
        .string("-m, --memory", "Memory limit") { $0.memory = $1 },
        .string("--memory-swap", "Swap limit equal to memory plus swap: '-1' to enable unlimited swap") { $0.memorySwap = $1 },
        .string("--cpus", "Number of CPUs") { $0.cpus = $1 },
        .int("-c, --cpu-shares", "CPU shares (relative weight)") { $0.cpuShares = $1 },
        .int("--pids-limit", "Tune container pids limit (set -1 for unlimited)") { $0.pidsLimit = $1 },
        .flag("--read-only", "Mount the container's root filesystem as read only") { $0.readOnly = $1 },
        .list("--tmpfs", "Mount a tmpfs directory") { $0.tmpfs.append($1) },
        .list("--cap-add", "Add Linux capabilities") { $0.capAdd.append($1) },
        .list("--cap-drop", "Drop Linux capabilities") { $0.capDrop.append($1) },
        .flag("--privileged", "Give extended privileges to this container") { $0.privileged = $1 },
        .list("--security-opt", "Security Options") { $0.securityOpt.append($1) },
        .list("--ulimit", "Ulimit options") { $0.ulimit.append($1) },
        .flag("--init", "Run an init inside the container that forwards signals and reaps processes") { $0.`init` = $1 },
        .list("-v, --volume", "Bind mount a volume") { $0.volume.append($1) },
        .list("--mount", "Attach a filesystem mount to the container") { $0.mount.append($1) },
        .string("--network", "Connect a container to a network") { $0.network = $1 },
        .list("--network-alias", "Add network-scoped alias for the container") { $0.networkAlias.append($1) },
        .string("--ip", "IPv4 address (e.g., 172.30.100.104)") { $0.ip = $1 },
        .list("-p, --publish", "Publish a container's port(s) to the host") { $0.publish.append($1) },
        .flag("-P, --publish-all", "Publish all exposed ports to random ports") { $0.publishAll = $1 },
        .list("--expose", "Expose a port or a range of ports") { $0.expose.append($1) },
        .list("--volumes-from", "Mount volumes from the specified container(s)") { $0.volumesFrom.append($1) },
        .list("--dns-search", "Set custom DNS search domains") { $0.dnsSearch.append($1) },
        .list("--dns-option", "Set DNS options") { $0.dnsOption.append($1) },
        .list("--add-host", "Add a custom host-to-IP mapping (host:ip)") { $0.addHost.append($1) },
        .list("--dns", "Set custom DNS servers") { $0.dns.append($1) },
        .list("--log-opt", "Log driver options") { $0.logOpt.append($1) },
        .list("--group-add", "Add additional groups to join") { $0.groupAdd.append($1) },
        .string("--shm-size", "Size of /dev/shm") { $0.shmSize = $1 },
        .string("--health-cmd", "Command to run to check health") { $0.healthCmd = $1 },
        .string("--health-interval", "Time between running the check (ms|s|m|h) (default 0s)") { $0.healthInterval = $1 },
        .string("--health-timeout", "Maximum time to allow one check to run (ms|s|m|h) (default 0s)") { $0.healthTimeout = $1 },
        .int("--health-retries", "Consecutive failures needed to report unhealthy") { $0.healthRetries = $1 },
        .string("--health-start-period", "Start period for the container to initialize before starting health-retries "
                + "countdown (ms|s|m|h) (default 0s)") { $0.healthStartPeriod = $1 },
        .string("--health-start-interval", "Time between running the check during the start period (ms|s|m|h) "
                + "(default 0s)") { $0.healthStartInterval = $1 },
        .flag("--no-healthcheck", "Disable any container-specified HEALTHCHECK") { $0.noHealthcheck = $1 },
    ])

    /// The create request for `image` and its command.
    func request(image: String, command: [String], autoRemove: Bool, attach: Bool) throws -> ContainerCreateRequest {
        var request = ContainerCreateRequest(Image: image)
        if !command.isEmpty { request.Cmd = command }
        if let entrypoint { request.Entrypoint = entrypoint.isEmpty ? [] : [entrypoint] }
        var environment: [String] = []
        for file in envFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CLIError("open \(file): no such file or directory", exitCode: 125)
            }
            for line in text.split(separator: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
                environment.append(ContainerOptions.expandEnv(trimmed))
            }
        }
        environment += env.map(ContainerOptions.expandEnv)
        request.Env = environment.isEmpty ? nil : environment
        request.WorkingDir = workdir
        request.User = user
        request.Hostname = hostname
        request.Tty = tty
        request.OpenStdin = interactive
        request.StdinOnce = interactive && attach
        request.AttachStdin = interactive && attach
        request.AttachStdout = attach
        request.AttachStderr = attach
        request.StopSignal = stopSignal
        request.StopTimeout = stopTimeout
        request.Healthcheck = try healthcheck()
        if !label.isEmpty {
            request.Labels = Dictionary(label.map { item -> (String, String) in
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }, uniquingKeysWith: { $1 })
        }
        var host = HostConfig()
        host.AutoRemove = autoRemove
        host.RestartPolicy = try ContainerOptions.restartPolicy(restart ?? "no")
        if let memory { host.Memory = try ContainerOptions.bytes(memory, flag: "--memory") }
        if let memorySwap {
            host.MemorySwap = memorySwap == "-1" ? -1 : try ContainerOptions.bytes(memorySwap, flag: "--memory-swap")
        }
        if let cpus {
            guard let value = Double(cpus) else {
                throw CLIError("invalid argument \"\(cpus)\" for \"--cpus\" flag: failed to parse \(cpus) as a rational number",
                               exitCode: 125)
            }
            host.NanoCpus = Int64((value * 1e9).rounded())
        }
        host.CpuShares = cpuShares
        host.PidsLimit = pidsLimit
        host.ReadonlyRootfs = readOnly
        if !tmpfs.isEmpty {
            host.Tmpfs = Dictionary(tmpfs.map { item -> (String, String) in
                let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }, uniquingKeysWith: { $1 })
        }
        host.CapAdd = capAdd.isEmpty ? nil : capAdd
        host.CapDrop = capDrop.isEmpty ? nil : capDrop
        host.Privileged = privileged
        host.SecurityOpt = securityOpt.isEmpty ? nil : securityOpt
        host.Ulimits = try ulimit.isEmpty ? nil : ulimit.map(ContainerOptions.ulimit)
        host.Init = `init` ? true : nil
        var anonymous: [String: EmptyObject] = [:]
        var binds: [String] = []
        for item in volume {
            if !item.contains(":") {
                guard item.hasPrefix("/") else {
                    throw CLIError("pier: invalid volume specification: '\(item)': use /container/path, NAME:/container/path or "
                                   + "/host/path:/container/path[:ro]", exitCode: 125)
                }
                anonymous[item] = EmptyObject()
            } else {
                binds.append(try ContainerOptions.bind(item))
            }
        }
        host.Binds = binds.isEmpty ? nil : binds
        if !anonymous.isEmpty { request.Volumes = anonymous }
        host.Mounts = try mount.isEmpty ? nil : mount.map(ContainerOptions.mountSpec)
        host.VolumesFrom = volumesFrom.isEmpty ? nil : volumesFrom
        host.NetworkMode = network ?? "default"
        var exposed: [String: EmptyObject] = [:]
        for item in expose { for key in try PublishSpec.expose(item) { exposed[key] = EmptyObject() } }
        var bindings: [String: [PortBinding]?] = [:]
        for item in publish {
            for binding in try PublishSpec.parse(item) {
                exposed[binding.key] = EmptyObject()
                let existing = (bindings[binding.key] ?? nil) ?? []
                bindings[binding.key] = existing + [PortBinding(HostIp: binding.hostIP, HostPort: binding.hostPort)]
            }
        }
        if !exposed.isEmpty { request.ExposedPorts = exposed }
        host.PortBindings = bindings.isEmpty ? nil : bindings
        host.PublishAllPorts = publishAll ? true : nil
        if !networkAlias.isEmpty || ip != nil {
            let name = network ?? "default"
            guard !["default", "bridge", "host", "none"].contains(name), !name.hasPrefix("container:") else {
                throw CLIError("pier: Error response from daemon: "
                               + (ip != nil ? "user specified IP address is supported on user defined networks only"
                                            : "network-scoped alias is supported only for containers in user defined networks")
                               + " (use --network NAME).\nSee 'pier run --help'.", exitCode: 125)
            }
            let endpoint = EndpointSettings.request(aliases: networkAlias, ipv4Address: ip)
            request.NetworkingConfig = NetworkingConfig(EndpointsConfig: [name: endpoint])
        }
        host.DnsSearch = dnsSearch.isEmpty ? nil : dnsSearch
        host.DnsOptions = dnsOption.isEmpty ? nil : dnsOption
        host.ExtraHosts = addHost.isEmpty ? nil : addHost
        host.Dns = dns.isEmpty ? nil : dns
        host.GroupAdd = groupAdd.isEmpty ? nil : groupAdd
        if let shmSize { host.ShmSize = try ContainerOptions.bytes(shmSize, flag: "--shm-size") }
        if !logOpt.isEmpty {
            host.LogConfig = LogConfig(Type: "json-file", Config: Dictionary(logOpt.map { item -> (String, String) in
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }, uniquingKeysWith: { $1 }))
        }
        if tty, isatty(1) != 0 {
            var size = winsize()
            if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0 {
                host.ConsoleSize = [Int(size.ws_row), Int(size.ws_col)]
            }
        }
        request.HostConfig = host
        return request
    }

    /// `--health-*` and `--no-healthcheck` as docker turns them into `Config.Healthcheck`: only
    /// what was given is set, so the image's HEALTHCHECK supplies the rest.
    func healthcheck() throws -> HealthcheckConfig? {
        let timing = [healthInterval, healthTimeout, healthStartPeriod, healthStartInterval]
        if noHealthcheck {
            guard healthCmd == nil, timing.allSatisfy({ $0 == nil }), healthRetries == nil else {
                throw CLIError("--no-healthcheck conflicts with --health-* options", exitCode: 125)
            }
            return HealthcheckConfig(Test: ["NONE"])
        }
        guard healthCmd != nil || timing.contains(where: { $0 != nil }) || healthRetries != nil else { return nil }
        func duration(_ text: String?, _ flag: String) throws -> Int64? {
            guard let text else { return nil }
            guard let value = Units.parseGoDuration(text) else {
                throw CLIError("invalid argument \"\(text)\" for \"\(flag)\" flag: time: invalid duration \"\(text)\"", exitCode: 125)
            }
            guard value >= 0 else { throw CLIError("\(flag) cannot be negative", exitCode: 125) }
            return value
        }
        var config = HealthcheckConfig(Test: healthCmd.map { ["CMD-SHELL", $0] })
        config.Interval = try duration(healthInterval, "--health-interval")
        config.Timeout = try duration(healthTimeout, "--health-timeout")
        config.StartPeriod = try duration(healthStartPeriod, "--health-start-period")
        config.StartInterval = try duration(healthStartInterval, "--health-start-interval")
        if let healthRetries {
            guard healthRetries >= 0 else { throw CLIError("--health-retries cannot be negative", exitCode: 125) }
            config.Retries = healthRetries
        }
        return config
    }

    /// `-e NAME` takes NAME's value from this environment, as docker does.
    static func expandEnv(_ item: String) -> String {
        guard !item.contains("=") else { return item }
        if let value = ProcessInfo.processInfo.environment[item] { return "\(item)=\(value)" }
        return item
    }

    static func bytes(_ text: String, flag: String) throws -> Int64 {
        do { return try Units.parseBytes(text) } catch {
            throw CLIError("invalid argument \"\(text)\" for \"\(flag)\" flag: \(error)", exitCode: 125)
        }
    }

    static func restartPolicy(_ text: String) throws -> RestartPolicy {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch parts[0] {
        case "no", "always", "unless-stopped":
            return RestartPolicy(Name: parts[0], MaximumRetryCount: 0)
        case "on-failure":
            let count = parts.count > 1 ? Int(parts[1]) : 0
            guard let count else { throw CLIError("invalid restart policy format: maximum retry count must be an integer", exitCode: 125) }
            return RestartPolicy(Name: "on-failure", MaximumRetryCount: count)
        default:
            throw CLIError("invalid restart policy \(text)", exitCode: 125)
        }
    }

    static func ulimit(_ text: String) throws -> UlimitSpec {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw CLIError("invalid ulimit argument: \(text)", exitCode: 125) }
        let limits = parts[1].split(separator: ":").map { Int64($0) }
        guard let soft = limits.first ?? nil, let hard = (limits.count > 1 ? limits[1] : soft) else {
            throw CLIError("invalid ulimit argument: \(text)", exitCode: 125)
        }
        return UlimitSpec(Name: parts[0], Soft: soft, Hard: hard)
    }

    /// `-v /host:/ctr[:ro]`; relative host paths are made absolute as docker does.
    static func bind(_ text: String) throws -> String {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, !parts[1].isEmpty else {
            throw CLIError("invalid volume specification: '\(text)': use /host/path:/container/path[:ro]", exitCode: 125)
        }
        var source = parts[0]
        if source.hasPrefix(".") {
            source = URL(fileURLWithPath: source, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
                .standardizedFileURL.path
        }
        guard source.hasPrefix("/") || !source.contains("/") else {
            throw CLIError("pier: invalid volume specification: '\(text)': a host path must be absolute; a volume name has no '/'",
                           exitCode: 125)
        }
        guard parts[1].hasPrefix("/") else {
            throw CLIError("pier: invalid volume specification: '\(text)': the container path must be absolute", exitCode: 125)
        }
        return ([source] + parts.dropFirst()).joined(separator: ":")
    }

    /// `--mount type=bind,source=/a,target=/b,readonly`
    static func mountSpec(_ text: String) throws -> MountSpec {
        var spec = MountSpec(Target: nil, Source: nil, Type: "volume", ReadOnly: false)
        for field in text.split(separator: ",") {
            let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
            let key = parts[0], value = parts.count > 1 ? parts[1] : nil
            switch key {
            case "type": spec.Type = value
            case "source", "src": spec.Source = value
            case "target", "destination", "dst": spec.Target = value
            case "readonly", "ro": spec.ReadOnly = value.map { $0 == "true" || $0 == "1" } ?? true
            case "volume-nocopy":
                spec.VolumeOptions = MountSpec.VolumeOptions(NoCopy: value.map { $0 == "true" || $0 == "1" } ?? true)
            case "tmpfs-size":
                spec.TmpfsOptions = MountSpec.TmpfsOptions(SizeBytes: try bytes(value ?? "", flag: "--mount"),
                                                          Mode: spec.TmpfsOptions?.Mode)
            default:
                throw CLIError("invalid argument \"\(text)\" for \"--mount\" flag: unexpected key '\(key)' in '\(field)'",
                               exitCode: 125)
            }
        }
        return spec
    }
}
