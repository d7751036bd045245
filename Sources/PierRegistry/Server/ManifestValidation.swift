import Foundation
import PierOCI

/// What the registry checks before it accepts a manifest (spec.md "Pushing Manifests"): that
/// it is JSON of a kind it serves, that its media type is consistent, and that every blob or
/// manifest it names is already in the repository.
enum ManifestValidation {
    /// The fields of a manifest or index the registry needs, whichever it is.
    struct Document: Decodable {
        var schemaVersion: Int?
        var mediaType: String?
        var artifactType: String?
        var config: Descriptor?
        var layers: [Descriptor]?
        var manifests: [Descriptor]?
        var subject: Descriptor?
    }

    struct Parsed: Sendable {
        let mediaType: String
        let isIndex: Bool
        let references: [Descriptor]
        let subject: Descriptor?
    }

    static let manifestTypes: Set<String> = [MediaType.ociManifest, MediaType.dockerManifest]
    static let indexTypes: Set<String> = [MediaType.ociIndex, MediaType.dockerManifestList]

    static func parse(_ bytes: [UInt8], contentType: String?) throws(RegistryError) -> Parsed {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(bytes))
        } catch {
            throw RegistryError(.manifestInvalid, "manifest invalid: not a JSON manifest or index: \(error)")
        }
        let declared = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) }
        if let type = document.mediaType, let declared, !declared.isEmpty, declared != type,
           declared != "application/json", declared != "application/octet-stream" {
            throw RegistryError(.manifestInvalid,
                                "manifest invalid: Content-Type \(declared) does not match the manifest's mediaType \(type)")
        }
        var mediaType = document.mediaType
            ?? declared.flatMap { manifestTypes.contains($0) || indexTypes.contains($0) ? $0 : nil }
        if mediaType == nil {
            mediaType = document.manifests != nil ? MediaType.ociIndex : (document.config != nil ? MediaType.ociManifest : nil)
        }
        guard let mediaType else {
            throw RegistryError(.manifestInvalid, "manifest invalid: cannot tell its media type (set mediaType)")
        }
        guard document.schemaVersion == 2 else {
            throw RegistryError(.manifestInvalid,
                                "manifest invalid: schemaVersion \(document.schemaVersion.map(String.init) ?? "missing") "
                                + "is not supported (only schema 2; Docker schema 1 is deprecated)")
        }
        if manifestTypes.contains(mediaType) {
            guard let config = document.config else {
                throw RegistryError(.manifestInvalid, "manifest invalid: an image manifest needs a config")
            }
            return Parsed(mediaType: mediaType, isIndex: false, references: [config] + (document.layers ?? []),
                          subject: document.subject)
        }
        if indexTypes.contains(mediaType) {
            return Parsed(mediaType: mediaType, isIndex: true, references: document.manifests ?? [],
                          subject: document.subject)
        }
        throw RegistryError(.manifestInvalid, "manifest invalid: media type \(mediaType) is not supported")
    }

    /// Every blob of a manifest (or manifest of an index) must already be in the repository.
    /// Non-distributable layers (those with `urls`) live elsewhere and are not checked.
    static func checkReferences(_ parsed: Parsed, in name: RepositoryName, storage: RegistryStorage) throws(RegistryError) {
        for descriptor in parsed.references {
            if let urls = descriptor.urls, !urls.isEmpty { continue }
            if parsed.isIndex {
                guard (try? storage.manifest(name, .digest(descriptor.digest))) != nil else {
                    throw RegistryError(.manifestBlobUnknown,
                                        "manifest blob unknown: the index names manifest \(descriptor.digest), "
                                        + "which is not in \(name); push it first")
                }
            } else {
                guard storage.hasBlob(name, descriptor.digest) else {
                    throw RegistryError(.manifestBlobUnknown,
                                        "manifest blob unknown: blob \(descriptor.digest) is not in \(name); push it first")
                }
                guard storage.blobSize(descriptor.digest) == descriptor.size else {
                    throw RegistryError(.manifestInvalid,
                                        "manifest invalid: blob \(descriptor.digest) is \(storage.blobSize(descriptor.digest) ?? 0) "
                                        + "bytes, the manifest says \(descriptor.size)")
                }
                Files.touch(storage.blobPath(descriptor.digest))
            }
        }
    }
}
