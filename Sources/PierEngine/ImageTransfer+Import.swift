import Foundation
import PierAPI
import PierArchive
import PierOCI
import PierStore

extension ImageTransfer {
    /// `import`: a root filesystem tarball (plain, gzip or zstd) becomes a one-layer image.
    /// `changes` are Dockerfile instructions applied to the config (`CMD ["sh"]`, `ENV A=b`…).
    public func importRootfs(from source: ArchiveSource, reference: String?, changes: [String],
                             message: String?) throws(EngineError) -> Digest {
        var target: ImageReference?
        if let reference, !reference.isEmpty {
            do { target = try ImageReference(parsing: reference) } catch { throw EngineError.from(error) }
        }
        var containerConfig = ContainerConfig()
        for change in changes where !change.trimmingCharacters(in: .whitespaces).isEmpty {
            try ConfigChange.apply(change, to: &containerConfig)
        }
        let token = UUID()
        defer { store.pins.release(token) }
        var newBlobs: [Digest] = []
        do {
            let writer = try store.content.makeWriter()
            try ImageTransfer.copy(from: source, to: writer)
            let blob = try writer.commit()
            newBlobs.append(blob)
            store.pins.pin([blob], token: token)
            let compression = try Compression.detect(path: store.content.path(for: blob))
            let prepared = try store.snapshots.prepare()
            let digests: LayerDigests
            do {
                digests = try LayerExtractor.extract(from: .path(store.content.path(for: blob)),
                                                     into: prepared.filesystemPath, mode: .overlay)
            } catch {
                store.snapshots.abort(prepared)
                throw error
            }
            let diffID = try Digest.sha256(hex: digests.diffID)
            store.pins.pin([diffID], token: token)
            if store.snapshots.contains(diffID) {
                store.snapshots.abort(prepared)
            } else {
                try store.snapshots.commit(prepared, chainID: diffID, unpackedSize: digests.uncompressedSize)
            }
            let now = Timestamp.now()
            let config = ImageConfig(
                created: now, config: containerConfig, rootfs: RootFS(diffIDs: [diffID]),
                history: [History(created: now, comment: message.flatMap { $0.isEmpty ? nil : $0 } ?? "Imported from -")])
            let configBytes = try ImageTransfer.encode(config)
            let configDigest = try store.content.put(configBytes)
            newBlobs.append(configDigest)
            let manifest = ImageManifest(
                config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configBytes.count)),
                layers: [Descriptor(mediaType: compression.ociLayerMediaType, digest: blob,
                                    size: store.content.size(of: blob) ?? 0)])
            let manifestDigest = try store.content.put(try ImageTransfer.encode(manifest))
            store.pins.pin([configDigest, manifestDigest], token: token)
            let record = ImageRecord(id: configDigest, manifest: manifestDigest, manifestMediaType: MediaType.ociManifest,
                                     created: Timestamp.parse(now) ?? 0, size: digests.uncompressedSize,
                                     labels: containerConfig.Labels)
            try store.index.put(record)
            if let target { try store.index.tag(target, to: configDigest, time: now) }
            logger.info("imported image", metadata: ["id": "\(configDigest)"])
            return configDigest
        } catch {
            throw ImageTransfer.engineError(error, context: "importing root filesystem")
        }
    }

    static func copy(from source: ArchiveSource, to writer: BlobWriter) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        switch source {
        case .path(let path):
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw EngineError(.notFound, "cannot open \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            try copy(from: .fileDescriptor(fd), to: writer)
        case .fileDescriptor(let fd):
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 { if errno == EINTR { continue }; throw EngineError(.internalError, "read failed: \(String(cString: strerror(errno)))") }
                if n == 0 { return }
                buffer.withUnsafeBytes { writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        case .pull(let pull):
            while true {
                let n = try buffer.withUnsafeMutableBytes { try pull($0) }
                if n == 0 { return }
                buffer.withUnsafeBytes { writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        }
    }
}

/// The Dockerfile instructions `import --change` and `commit --change` accept, applied to a config.
enum ConfigChange {
    static func apply(_ line: String, to config: inout ContainerConfig) throws(EngineError) {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        let keyword = String(trimmed.prefix { !$0.isWhitespace }).uppercased()
        let rest = trimmed.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces)
        switch keyword {
        case "CMD": config.Cmd = command(rest)
        case "ENTRYPOINT": config.Entrypoint = command(rest)
        case "USER": config.User = rest
        case "WORKDIR": config.WorkingDir = rest
        case "STOPSIGNAL": config.StopSignal = rest
        case "ENV":
            for (key, value) in try pairs(rest, keyword: keyword) {
                config.Env = (config.Env ?? []).filter { !$0.hasPrefix(key + "=") } + ["\(key)=\(value)"]
            }
        case "LABEL":
            for (key, value) in try pairs(rest, keyword: keyword) { config.Labels = (config.Labels ?? [:]).merging([key: value]) { $1 } }
        case "EXPOSE":
            for port in rest.split(separator: " ") {
                let spec = port.contains("/") ? String(port) : "\(port)/tcp"
                config.ExposedPorts = (config.ExposedPorts ?? [:]).merging([spec: EmptyObject()]) { $1 }
            }
        case "VOLUME":
            for path in json(rest) ?? rest.split(separator: " ").map(String.init) {
                config.Volumes = (config.Volumes ?? [:]).merging([path: EmptyObject()]) { $1 }
            }
        case "ONBUILD": config.OnBuild = (config.OnBuild ?? []) + [rest]
        default:
            throw EngineError(.invalidArgument,
                              "invalid change \"\(line)\": \(keyword) is not one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, "
                              + "ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR")
        }
    }

    static func json(_ text: String) -> [String]? {
        guard text.hasPrefix("[") else { return nil }
        return try? JSONDecoder().decode([String].self, from: Data(text.utf8))
    }

    /// JSON (exec) form as is; shell form wrapped in `/bin/sh -c`.
    static func command(_ text: String) -> [String] {
        json(text) ?? ["/bin/sh", "-c", text]
    }

    /// `k=v k2="v 2"` or the old `k v` form.
    static func pairs(_ text: String, keyword: String) throws(EngineError) -> [(String, String)] {
        guard text.contains("=") else {
            let key = String(text.prefix { !$0.isWhitespace })
            guard !key.isEmpty else { throw EngineError(.invalidArgument, "\(keyword) needs a name") }
            return [(key, text.dropFirst(key.count).trimmingCharacters(in: .whitespaces))]
        }
        var result: [(String, String)] = []
        var current = ""
        var quote: Character?
        var words: [String] = []
        for character in text {
            if let q = quote {
                if character == q { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == " " {
                if !current.isEmpty { words.append(current); current = "" }
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(current) }
        for word in words {
            guard let eq = word.firstIndex(of: "="), eq != word.startIndex else {
                throw EngineError(.invalidArgument, "\(keyword): \"\(word)\" is not NAME=VALUE")
            }
            result.append((String(word[..<eq]), String(word[word.index(after: eq)...])))
        }
        return result
    }
}
