// Image references with Docker's normalisation, following the grammar of
// distribution/reference (reference.go, normalize.go):
//   reference := name [ ":" tag ] [ "@" digest ]
//   name      := [domain "/"] path-component ("/" path-component)*
// `busybox` → `docker.io/library/busybox:latest`.

/// A normalised image reference: registry domain, repository path, and a tag and/or digest.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    public static let defaultDomain = "docker.io"
    public static let defaultTag = "latest"

    public let domain: String
    public let path: String
    public let tag: String?
    public let digest: Digest?

    public init(domain: String, path: String, tag: String?, digest: Digest?) {
        self.domain = domain
        self.path = path
        self.tag = tag
        self.digest = digest
    }

    /// Parses and normalises; a reference with neither tag nor digest gets `latest`.
    public init(parsing text: String) throws(OCIError) {
        let parsed = try ImageReference(parsingWithoutDefaultTag: text)
        self.init(domain: parsed.domain, path: parsed.path,
                  tag: parsed.tag ?? (parsed.digest == nil ? ImageReference.defaultTag : nil),
                  digest: parsed.digest)
    }

    /// Parses and normalises the name, keeping a missing tag missing (for `pull -a`, filters).
    public init(parsingWithoutDefaultTag text: String) throws(OCIError) {
        guard !text.isEmpty else { throw OCIError(.invalidReference, "invalid reference format: empty name") }
        guard text.utf8.count <= 512 else {
            throw OCIError(.invalidReference, "invalid reference format: longer than 512 characters")
        }
        var remainder = Substring(text)
        var digest: Digest?
        if let at = remainder.firstIndex(of: "@") {
            digest = try Digest(parsing: String(remainder[remainder.index(after: at)...]))
            remainder = remainder[..<at]
        }
        var tag: String?
        // A tag follows the last ':' that comes after the last '/' (a ':' before it is a port).
        if let colon = remainder.lastIndex(of: ":"), !remainder[colon...].contains("/") {
            let candidate = String(remainder[remainder.index(after: colon)...])
            guard ImageReference.isValidTag(candidate) else {
                throw OCIError(.invalidReference, "invalid reference format: invalid tag \"\(candidate)\" in \"\(text)\"")
            }
            tag = candidate
            remainder = remainder[..<colon]
        }
        let name = String(remainder)
        let (domain, path) = ImageReference.splitDomain(name)
        if path.lowercased() != path {
            throw OCIError(.invalidReference,
                           "invalid reference format: repository name (\(path)) must be lowercase")
        }
        guard ImageReference.isValidDomain(domain) else {
            throw OCIError(.invalidReference, "invalid reference format: invalid registry \"\(domain)\" in \"\(text)\"")
        }
        guard !path.isEmpty, path.split(separator: "/", omittingEmptySubsequences: false)
                .allSatisfy({ ImageReference.isValidPathComponent($0) }) else {
            throw OCIError(.invalidReference,
                           "invalid reference format: \"\(text)\" is not a valid image name "
                           + "(use lower-case letters, digits and separators . _ - /)")
        }
        if domain == ImageReference.defaultDomain, tag == nil, digest == nil,
           path.hasPrefix("library/"), path.utf8.count == 64 + 8,
           path.dropFirst(8).utf8.allSatisfy({ Digest.isLowerHex($0) }) {
            throw OCIError(.invalidReference,
                           "invalid repository name (\(name)), cannot specify 64-byte hexadecimal strings")
        }
        guard (domain + "/" + path).utf8.count <= 255 else {
            throw OCIError(.invalidReference, "invalid reference format: repository name must not be more than 255 characters")
        }
        self.init(domain: domain, path: path, tag: tag, digest: digest)
    }

    /// `docker.io/library/busybox`
    public var repository: String { "\(domain)/\(path)" }

    /// The name as Docker shows it: `busybox`, `me/app`, `localhost:5000/app`.
    public var familiarRepository: String {
        guard domain == ImageReference.defaultDomain else { return repository }
        if path.hasPrefix("library/"), !path.dropFirst(8).contains("/") { return String(path.dropFirst(8)) }
        return path
    }

    /// The full normalised form: `docker.io/library/busybox:latest`.
    public var description: String {
        var text = repository
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    /// The familiar form: `busybox:latest`.
    public var familiarDescription: String {
        var text = familiarRepository
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    /// The same repository with another tag and no digest.
    public func withTag(_ newTag: String) -> ImageReference {
        ImageReference(domain: domain, path: path, tag: newTag, digest: nil)
    }

    // MARK: grammar

    static func splitDomain(_ name: String) -> (String, String) {
        guard let slash = name.firstIndex(of: "/") else {
            return (defaultDomain, "library/" + name)
        }
        let first = name[..<slash]
        let rest = String(name[name.index(after: slash)...])
        let looksLikeDomain = first.contains(".") || first.contains(":") || first == "localhost"
            || first.lowercased() != first
        guard looksLikeDomain else { return (defaultDomain, name) }
        var domain = String(first)
        if domain == "index.docker.io" { domain = defaultDomain }
        if domain == defaultDomain, !rest.contains("/") { return (domain, "library/" + rest) }
        return (domain, rest)
    }

    static func isValidTag(_ tag: String) -> Bool {
        guard let first = tag.utf8.first, tag.utf8.count <= 128 else { return false }
        func word(_ b: UInt8) -> Bool {
            Digest.isAlnumLower(b) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || b == UInt8(ascii: "_")
        }
        guard word(first) else { return false }
        return tag.utf8.allSatisfy { word($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func isValidPathComponent(_ component: Substring) -> Bool {
        let bytes = Array(component.utf8)
        guard let first = bytes.first, let last = bytes.last,
              Digest.isAlnumLower(first), Digest.isAlnumLower(last) else { return false }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if Digest.isAlnumLower(byte) { index += 1; continue }
            // A separator run: '.', '_', '__', or one or more '-'.
            var end = index
            while end < bytes.count, !Digest.isAlnumLower(bytes[end]) { end += 1 }
            let run = bytes[index..<end]
            let valid = run.elementsEqual([UInt8(ascii: ".")]) || run.elementsEqual([UInt8(ascii: "_")])
                || run.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")])
                || run.allSatisfy { $0 == UInt8(ascii: "-") }
            guard valid else { return false }
            index = end
        }
        return true
    }

    /// A host name (labels of letters, digits and '-', dot separated) or `[ipv6]`, with an optional port.
    static func isValidDomain(_ domain: String) -> Bool {
        var host = Substring(domain)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let after = host[host.index(after: close)...]
            if after.isEmpty { return true }
            guard after.hasPrefix(":") else { return false }
            return isValidPort(after.dropFirst())
        }
        if let colon = host.firstIndex(of: ":") {
            guard isValidPort(host[host.index(after: colon)...]) else { return false }
            host = host[..<colon]
        }
        guard !host.isEmpty else { return false }
        return host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            guard let first = label.first, let last = label.last,
                  first.isLetter || first.isNumber, last.isLetter || last.isNumber else { return false }
            return label.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" }
        }
    }

    static func isValidPort(_ port: Substring) -> Bool {
        !port.isEmpty && port.count <= 5 && port.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
