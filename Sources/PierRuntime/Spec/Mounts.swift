import Foundation
import PierOCI

/// A user mount resolved to what `config.json` needs, before ordering.
struct UserMount: Hashable {
    var mount: RuntimeSpec.Mount
    /// The bind's propagation (`rshared` ...), for `linux.rootfsPropagation`.
    var propagation: String?
    /// `-v` sources that do not exist are created, as Docker does for legacy binds.
    var createSource: Bool
}

/// Docker's `-v`, `--mount` and `--tmpfs` rules (moby `daemon/volume/mounts/linux_parser.go`,
/// `daemon/oci_linux.go` `withMounts`, moby/sys/mount `MergeTmpfsOptions`).
enum MountRules {
    static let propagationModes: Set<String> = ["private", "rprivate", "slave", "rslave", "shared", "rshared"]
    static let defaultPropagation = "rprivate"

    /// Whether a `-v` mode string (`ro,rshared,z` ...) is valid: at most one of each kind.
    static func validMode(_ mode: String) -> Bool {
        if mode.isEmpty { return true }
        var rw = 0, label = 0, propagation = 0, copy = 0, consistency = 0
        for option in mode.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            switch option {
            case "rw", "ro": rw += 1
            case "z", "Z": label += 1
            case _ where propagationModes.contains(option): propagation += 1
            case "nocopy": copy += 1
            case "consistent", "cached", "delegated": consistency += 1
            default: return false
            }
        }
        return rw <= 1 && label <= 1 && propagation <= 1 && copy <= 1 && consistency <= 1
    }

    static func mountConfigError(_ type: String, _ text: String) -> RuntimeError {
        RuntimeError(.invalidArgument, "invalid mount config for type \"\(type)\": \(text)")
    }

    static func validateTarget(_ target: String, type: String) throws(RuntimeError) {
        if target.isEmpty { throw mountConfigError(type, "field Target must not be empty") }
        if cleanPath(target) == "/" {
            throw mountConfigError(type, "invalid specification: destination can't be '/'")
        }
        if !target.hasPrefix("/") {
            throw mountConfigError(type, "invalid mount path: '\(target)' mount path must be absolute")
        }
    }

    /// One `-v` string.
    static func bind(_ raw: String, volumePaths: [String: String]) throws(RuntimeError) -> UserMount {
        let invalid = RuntimeError(.invalidArgument, "invalid volume specification: '\(raw)'")
        let parts = raw.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, !first.isEmpty else { throw invalid }
        var source = "", target = "", mode = ""
        switch parts.count {
        case 1: target = parts[0]
        case 2:
            if validMode(parts[1]) { throw invalid }
            source = parts[0]; target = parts[1]
        case 3:
            source = parts[0]; target = parts[1]; mode = parts[2]
        default: throw invalid
        }
        guard validMode(mode) else { throw RuntimeError(.invalidArgument, "invalid mode: \(mode)") }
        let options = mode.split(separator: ",").map(String.init)
        let readOnly = options.contains("ro")
        let propagation = options.first(where: { propagationModes.contains($0) })
        let isBind = source.hasPrefix("/")
        do {
            try validateTarget(target, type: isBind ? "bind" : "volume")
        } catch {
            throw RuntimeError(.invalidArgument, "invalid volume specification: '\(raw)': \(error.message)")
        }
        let destination = cleanPath(target)
        if isBind {
            return UserMount(mount: bindMount(destination: destination, source: cleanPath(source), readOnly: readOnly,
                                              recursive: true, propagation: propagation ?? defaultPropagation),
                             propagation: propagation, createSource: true)
        }
        let hostPath = try volumePath(name: source, destination: destination, volumePaths: volumePaths)
        return UserMount(mount: bindMount(destination: destination, source: hostPath, readOnly: readOnly,
                                          recursive: true, propagation: propagation),
                         propagation: propagation, createSource: false)
    }

    /// One `--mount` value (bind, volume or tmpfs).
    static func request(_ request: MountRequest, volumePaths: [String: String]) throws(RuntimeError) -> UserMount {
        let type = request.type.rawValue
        if request.type != .bind && (request.propagation != nil || request.nonRecursive || request.createMountpoint) {
            throw mountConfigError(type, "field BindOptions must not be specified")
        }
        if request.type != .tmpfs && (request.tmpfsSize != 0 || request.tmpfsMode != 0 || !request.tmpfsOptions.isEmpty) {
            throw mountConfigError(type, "field TmpfsOptions must not be specified")
        }
        try validateTarget(request.target, type: type)
        let destination = cleanPath(request.target)
        switch request.type {
        case .bind:
            guard !request.source.isEmpty else { throw mountConfigError(type, "field Source must not be empty") }
            if let propagation = request.propagation, !propagationModes.contains(propagation) {
                throw mountConfigError(type, "invalid propagation mode: \(propagation)")
            }
            guard request.source.hasPrefix("/") else {
                throw mountConfigError(type, "invalid mount path: '\(request.source)' mount path must be absolute")
            }
            if !PosixFile.exists(request.source) && !request.createMountpoint {
                throw mountConfigError(type, "bind source path does not exist: \(request.source)")
            }
            return UserMount(mount: bindMount(destination: destination, source: cleanPath(request.source),
                                              readOnly: request.readOnly, recursive: !request.nonRecursive,
                                              propagation: request.propagation ?? defaultPropagation),
                             propagation: request.propagation, createSource: request.createMountpoint)
        case .volume:
            let hostPath = try volumePath(name: request.source, destination: destination, volumePaths: volumePaths)
            return UserMount(mount: bindMount(destination: destination, source: hostPath, readOnly: request.readOnly,
                                              recursive: true, propagation: nil),
                             propagation: nil, createSource: false)
        case .tmpfs:
            guard request.source.isEmpty else { throw mountConfigError(type, "field Source must not be specified") }
            var data = [String]()
            if request.readOnly { data.append("ro") }
            if request.tmpfsMode != 0 { data.append("mode=" + String(request.tmpfsMode, radix: 8)) }
            if request.tmpfsSize != 0 { data.append("size=" + sizeWithSuffix(request.tmpfsSize)) }
            for option in request.tmpfsOptions {
                guard (1...2).contains(option.count) else { throw mountConfigError(type, "invalid option array length") }
                guard option[0] == "exec" || option[0] == "noexec" else {
                    throw mountConfigError(type, "invalid option: \(option[0])")
                }
                data.append(option.joined(separator: "="))
            }
            return try tmpfs(destination: destination, data: data.joined(separator: ","))
        }
    }

    /// One `--tmpfs dest:options` (HostConfig.Tmpfs entry).
    static func tmpfs(destination: String, data: String) throws(RuntimeError) -> UserMount {
        if cleanPath(destination) == "/" {
            throw RuntimeError(.invalidArgument, "invalid specification: destination can't be '/'")
        }
        guard destination.hasPrefix("/") else {
            throw RuntimeError(.invalidArgument, "invalid mount path: '\(destination)' mount path must be absolute")
        }
        var options = ["noexec", "nosuid", "nodev", defaultPropagation]
        if !data.isEmpty { options += data.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let merged = try mergeTmpfsOptions(options)
        return UserMount(mount: RuntimeSpec.Mount(destination: cleanPath(destination), type: "tmpfs", source: "tmpfs",
                                                  options: merged),
                         propagation: nil, createSource: false)
    }

    static func bindMount(destination: String, source: String, readOnly: Bool, recursive: Bool,
                          propagation: String?) -> RuntimeSpec.Mount {
        var options = [recursive ? "rbind" : "bind"]
        if readOnly { options.append("ro") }
        if let propagation { options.append(propagation) }
        return RuntimeSpec.Mount(destination: destination, type: "bind", source: source, options: options)
    }

    static func volumePath(name: String, destination: String, volumePaths: [String: String]) throws(RuntimeError) -> String {
        let key = name.isEmpty ? destination : name
        guard let path = volumePaths[key] else {
            let what = name.isEmpty ? "the anonymous volume at \(destination)" : "volume \"\(name)\""
            throw RuntimeError(.notFound, "\(what) has no host directory: the engine must create it and pass it in volumePaths")
        }
        return path
    }

    /// Docker's tmpfs size string: the largest of g/m/k that divides the size.
    static func sizeWithSuffix(_ size: Int64) -> String {
        for (suffix, divisor) in [("g", Int64(1) << 30), ("m", Int64(1) << 20), ("k", Int64(1) << 10)] where size % divisor == 0 {
            return "\(size / divisor)\(suffix)"
        }
        return "\(size)"
    }

    /// Mount flags by the bit they set or clear; propagation modes share one key.
    static let flagKeys: [String: String] = [
        "ro": "rdonly", "rw": "rdonly", "suid": "nosuid", "nosuid": "nosuid", "dev": "nodev", "nodev": "nodev",
        "exec": "noexec", "noexec": "noexec", "sync": "sync", "async": "sync", "dirsync": "dirsync",
        "remount": "remount", "mand": "mand", "nomand": "mand", "atime": "noatime", "noatime": "noatime",
        "diratime": "nodiratime", "nodiratime": "nodiratime", "bind": "propagation", "rbind": "propagation",
        "unbindable": "propagation", "runbindable": "propagation", "private": "propagation",
        "rprivate": "propagation", "shared": "propagation", "rshared": "propagation", "slave": "propagation",
        "rslave": "propagation", "relatime": "relatime", "norelatime": "relatime", "strictatime": "strictatime",
        "nostrictatime": "strictatime",
    ]
    static let tmpfsDataKeys: Set<String> = ["", "size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"]

    /// moby/sys/mount `MergeTmpfsOptions`: the last of each flag or data key wins.
    static func mergeTmpfsOptions(_ options: [String]) throws(RuntimeError) -> [String] {
        var seenFlags = Set<String>()
        var seenData = Set<String>()
        var result = [String]()
        for option in options.reversed() {
            if option == "defaults" { continue }
            if let key = flagKeys[option] {
                if seenFlags.insert(key).inserted { result.insert(option, at: 0) }
                continue
            }
            let key = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard option.contains("="), tmpfsDataKeys.contains(key) else {
                throw RuntimeError(.invalidArgument, "invalid tmpfs option \"\(key)\"")
            }
            if seenData.insert(key).inserted { result.insert(option, at: 0) }
        }
        return result
    }
}
