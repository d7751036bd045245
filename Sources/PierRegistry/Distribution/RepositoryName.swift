import PierOCI

/// A repository name as the distribution spec defines it (spec.md "Pulling manifests"):
///
///     [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
///
/// Because every component starts and ends with a letter or digit, a valid name can never
/// be `..`, start with `/`, or collide with the storage's own `_layers`/`_manifests`
/// directories, so it is safe to use as a relative path once validated.
public struct RepositoryName: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let value: String

    public init(_ text: String) throws(RegistryError) {
        guard !text.isEmpty else { throw RegistryError(.nameInvalid, "invalid repository name: empty") }
        guard text.utf8.count <= 255 else {
            throw RegistryError(.nameInvalid, "invalid repository name: longer than 255 characters")
        }
        if text.lowercased() != text {
            throw RegistryError(.nameInvalid, "invalid repository name \"\(text)\": must be lower case")
        }
        let components = text.split(separator: "/", omittingEmptySubsequences: false)
        for component in components where !RepositoryName.isValidComponent(component) {
            throw RegistryError(.nameInvalid,
                                "invalid repository name \"\(text)\": component \"\(component)\" must be lower-case "
                                + "letters and digits separated by '.', '_', '__' or '-'")
        }
        value = text
    }

    public var description: String { value }

    public static func < (lhs: RepositoryName, rhs: RepositoryName) -> Bool { lhs.value < rhs.value }

    static func isValidComponent(_ component: Substring) -> Bool {
        let bytes = Array(component.utf8)
        guard let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else { return false }
        var index = 0
        while index < bytes.count {
            if isAlnum(bytes[index]) { index += 1; continue }
            var end = index
            while end < bytes.count, !isAlnum(bytes[end]) { end += 1 }
            let run = bytes[index..<end]
            let valid = run.elementsEqual([UInt8(ascii: ".")]) || run.elementsEqual([UInt8(ascii: "_")])
                || run.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")])
                || run.allSatisfy { $0 == UInt8(ascii: "-") }
            guard valid else { return false }
            index = end
        }
        return true
    }

    static func isAlnum(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}

/// Tags: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}` (spec.md "Pulling manifests").
public enum TagName {
    public static func isValid(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard let first = bytes.first, bytes.count <= 128 else { return false }
        func word(_ b: UInt8) -> Bool {
            RepositoryName.isAlnum(b) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || b == UInt8(ascii: "_")
        }
        return word(first) && bytes.allSatisfy { word($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }
}

/// A manifest reference in a URL: a tag or a digest.
public enum ManifestReference: Hashable, Sendable, CustomStringConvertible {
    case tag(String)
    case digest(Digest)

    public init(_ text: String) throws(RegistryError) {
        if text.contains(":") {
            do {
                self = .digest(try Digest(parsing: text))
            } catch {
                throw RegistryError(.digestInvalid, "invalid digest \"\(text)\": \(error.message)")
            }
        } else if TagName.isValid(text) {
            self = .tag(text)
        } else {
            throw RegistryError(.manifestInvalid, "invalid tag \"\(text)\"", status: 400)
        }
    }

    public var description: String {
        switch self {
        case .tag(let tag): tag
        case .digest(let digest): digest.description
        }
    }
}
