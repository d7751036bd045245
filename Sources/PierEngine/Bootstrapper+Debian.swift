import Foundation
import PierAPI
import PierOCI
import PierStore

extension Bootstrapper {
    static let debianPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    // MARK: debian:bookworm-slim

    func makeDebian(work: String, token: UUID, progress: @escaping @Sendable (String) -> Void) throws -> ImageRecord {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/debootstrap") else {
            throw EngineError(.notFound, "debootstrap is not installed: run `apt-get install debootstrap`")
        }
        let mirror = Bootstrapper.hostDebianMirror()
        let root = work + "/rootfs"
        progress("Running debootstrap --variant=minbase bookworm from \(mirror) (this takes a few minutes)")
        defer { Bootstrapper.unmountAll(under: root) }
        try Bootstrapper.stream("/usr/sbin/debootstrap", ["--variant=minbase", "bookworm", root, mirror], progress: progress)
        Bootstrapper.unmountAll(under: root)
        progress("Slimming the root filesystem")
        let files = FileManager.default
        for path in ["var/cache/apt/archives", "var/lib/apt/lists", "dev", "run", "tmp"] {
            let full = "\(root)/\(path)"
            for name in (try? files.contentsOfDirectory(atPath: full)) ?? [] where name != "partial" && name != "lock" {
                try? files.removeItem(atPath: "\(full)/\(name)")
            }
        }
        try? files.removeItem(atPath: root + "/etc/resolv.conf")
        try? files.removeItem(atPath: root + "/etc/hostname")
        try? files.removeItem(atPath: root + "/var/log/bootstrap.log")
        for path in ["usr/share/doc", "usr/share/man", "usr/share/info"] {
            try? files.removeItem(atPath: "\(root)/\(path)")
            try? files.createDirectory(atPath: "\(root)/\(path)", withIntermediateDirectories: true)
        }
        try """
        # Keep images slim, as the official debian:*-slim images do.
        path-exclude /usr/share/doc/*
        path-include /usr/share/doc/*/copyright
        path-exclude /usr/share/man/*
        path-exclude /usr/share/info/*
        path-exclude /usr/share/locale/*
        path-include /usr/share/locale/locale.alias

        """.write(toFile: root + "/etc/dpkg/dpkg.cfg.d/docker", atomically: false, encoding: .utf8)
        try """
        Types: deb
        URIs: \(mirror)
        Suites: bookworm bookworm-updates
        Components: main
        Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

        """.write(toFile: root + "/etc/apt/sources.list.d/debian.sources", atomically: false, encoding: .utf8)
        try? files.removeItem(atPath: root + "/etc/apt/sources.list")
        progress("Writing the layer")
        let layer = try transfer.commitLayer(directory: root, parentChainID: nil, overlayUpper: false, token: token)
        var config = ContainerConfig()
        config.Env = [Bootstrapper.debianPath]
        config.Cmd = ["bash"]
        config.Labels = labels(source: "debootstrap --variant=minbase bookworm \(mirror)")
        let now = Timestamp.now()
        let image = ImageConfig(created: now, config: config, rootfs: RootFS(diffIDs: [layer.diffID]), history: [
            History(created: now, createdBy: "pier bootstrap debian: debootstrap --variant=minbase bookworm \(mirror)"),
            History(created: now, createdBy: "CMD [\"bash\"]", emptyLayer: true),
        ])
        return try transfer.commitImage(config: image, layers: [layer],
                                        names: [try ImageReference(parsing: "debian:bookworm-slim")], token: token)
    }

    // MARK: python:3.11-slim

    func makePython(work: String, token: UUID, progress: @escaping @Sendable (String) -> Void) throws -> ImageRecord {
        var base = transfer.store.index.resolve("debian:bookworm-slim")
        if base == nil {
            progress("python:3.11-slim builds on debian:bookworm-slim; making that first")
            let debianWork = work + "/debian"
            try FileManager.default.createDirectory(atPath: debianWork, withIntermediateDirectories: true)
            base = try makeDebian(work: debianWork, token: token, progress: progress)
        }
        guard let base else { throw EngineError(.internalError, "debian:bookworm-slim vanished while bootstrapping") }
        let baseConfig = try transfer.store.config(of: base)
        let baseManifest = try transfer.store.manifest(of: base)
        let lower = try transfer.store.lowerDirectories(of: base)
        let chain = chainIDs(of: baseConfig.rootfs.diff_ids)
        transfer.store.pins.pin(chain, token: token)
        let upper = work + "/upper", scratchDir = work + "/work", merged = work + "/merged"
        for dir in [upper, scratchDir, merged] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        progress("Installing python3, pip and venv with apt-get (this takes a few minutes)")
        do {
            defer { Bootstrapper.unmountAll(under: merged, including: true) }
            try Bootstrapper.output("/bin/mount", ["-t", "overlay", "overlay", "-o",
                                                   "lowerdir=\(lower.joined(separator: ":")),upperdir=\(upper),workdir=\(scratchDir)",
                                                   merged])
            try Bootstrapper.output("/bin/mount", ["-t", "proc", "proc", merged + "/proc"])
            try Bootstrapper.output("/bin/mount", ["--rbind", "/dev", merged + "/dev"])
            try FileManager.default.copyItem(atPath: "/etc/resolv.conf", toPath: merged + "/etc/resolv.conf")
            let script = """
            set -e
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq --no-install-recommends python3 python3-pip python3-venv ca-certificates
            ln -sf /usr/bin/python3 /usr/local/bin/python
            ln -sf /usr/bin/pip3 /usr/local/bin/pip
            rm -f /usr/lib/python3*/EXTERNALLY-MANAGED
            apt-get clean
            rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log
            """
            try Bootstrapper.stream("/usr/sbin/chroot", [merged, "/bin/sh", "-c", script], progress: progress)
            // Trust what the host trusts (the machine's TLS bundle, e.g. a company CA).
            if FileManager.default.fileExists(atPath: "/etc/ssl/certs/ca-certificates.crt") {
                _ = try? FileManager.default.removeItem(atPath: merged + "/etc/ssl/certs/ca-certificates.crt")
                try FileManager.default.copyItem(atPath: "/etc/ssl/certs/ca-certificates.crt",
                                                 toPath: merged + "/etc/ssl/certs/ca-certificates.crt")
            }
            try "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n"
                .write(toFile: merged + "/etc/pip.conf", atomically: false, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: merged + "/etc/resolv.conf")
        }
        progress("Writing the layer")
        let layer = try transfer.commitLayer(directory: upper, parentChainID: chain.last, overlayUpper: true, token: token)
        var config = baseConfig.config ?? ContainerConfig()
        config.Env = [Bootstrapper.debianPath, "LANG=C.UTF-8", "PYTHONUNBUFFERED=1"]
        config.Cmd = ["python3"]
        config.Labels = labels(source: "debian:bookworm-slim + apt-get install python3 python3-pip python3-venv "
                               + "(Debian's Python 3.11)")
        let now = Timestamp.now()
        var history = baseConfig.history ?? []
        history.removeAll { $0.empty_layer == true }
        history.append(History(created: now, createdBy: "pier bootstrap python: apt-get install python3 python3-pip python3-venv"))
        history.append(History(created: now, createdBy: "CMD [\"python3\"]", emptyLayer: true))
        let image = ImageConfig(created: now, config: config,
                                rootfs: RootFS(diffIDs: baseConfig.rootfs.diff_ids + [layer.diffID]), history: history)
        let baseLayers = zip(baseManifest.layers, zip(baseConfig.rootfs.diff_ids, chain)).map { descriptor, ids in
            ImageTransfer.CommittedLayer(descriptor: descriptor, diffID: ids.0, chainID: ids.1,
                                         unpackedSize: transfer.store.snapshots.unpackedSize(ids.1))
        }
        return try transfer.commitImage(config: image, layers: baseLayers + [layer],
                                        names: [try ImageReference(parsing: "python:3.11-slim")], token: token)
    }

    // MARK: host plumbing

    /// The host's Debian mirror (deb822 `URIs:` or a `deb URL bookworm` line), else deb.debian.org.
    static func hostDebianMirror() -> String {
        var texts: [String] = []
        for path in ["/etc/apt/sources.list"] + ((try? FileManager.default.contentsOfDirectory(atPath: "/etc/apt/sources.list.d"))?
            .filter { $0.hasSuffix(".sources") || $0.hasSuffix(".list") }.map { "/etc/apt/sources.list.d/" + $0 } ?? []) {
            if let text = try? String(contentsOfFile: path, encoding: .utf8) { texts.append(text) }
        }
        for text in texts {
            for line in text.split(separator: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("URIs:") {
                    let uri = trimmed.dropFirst(5).trimmingCharacters(in: .whitespaces)
                    if uri.hasSuffix("/debian") || uri.hasSuffix("/debian/") { return uri }
                } else if trimmed.hasPrefix("deb "), trimmed.contains(" bookworm ") {
                    let parts = trimmed.split(separator: " ").filter { !$0.hasPrefix("[") }
                    if parts.count > 1, parts[1].hasSuffix("/debian") { return String(parts[1]) }
                }
            }
        }
        return "http://deb.debian.org/debian"
    }

    /// Unmounts everything mounted at or below `root`, deepest first.
    static func unmountAll(under root: String, including: Bool = false) {
        guard let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return }
        let targets = mounts.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { return nil }
            let target = String(fields[1]).replacingOccurrences(of: "\\040", with: " ")
            return target.hasPrefix(root + "/") || (including && target == root) ? target : nil
        }
        for target in targets.sorted(by: { $0.count > $1.count }) {
            umount2(target, Int32(MNT_DETACH))
        }
    }

    /// Runs a host program, passing each line of its output to `progress`; on failure the error
    /// carries the last lines.
    static func stream(_ program: String, _ arguments: [String], progress: @escaping @Sendable (String) -> Void) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["DEBIAN_FRONTEND"] = "noninteractive"
        environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var tail: [String] = []
        var pending = Data()
        let handle = pipe.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...newline)
                tail.append(line)
                if tail.count > 15 { tail.removeFirst() }
                progress(line)
            }
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw EngineError(.internalError, "\((program as NSString).lastPathComponent) failed (exit "
                              + "\(process.terminationStatus)); its last lines:\n" + tail.joined(separator: "\n"))
        }
    }
}
