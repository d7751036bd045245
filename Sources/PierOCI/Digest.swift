// Mirrors the OCI image-spec "descriptor.md#digests" grammar:
//   digest    ::= algorithm ":" encoded
//   algorithm ::= [a-z0-9]+ ([+._-] [a-z0-9]+)*
// Pier computes and verifies sha256 only; other registered algorithms are parsed and
// carried but refused where content must be verified.

/// A content digest such as `sha256:6d3b…`.
public struct Digest: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let algorithm: String
    public let encoded: String

    public init(algorithm: String, encoded: String) throws(OCIError) {
        guard Digest.isValidAlgorithm(algorithm) else {
            throw OCIError(.invalidDigest, "invalid digest algorithm \"\(algorithm)\"")
        }
        guard !encoded.isEmpty, encoded.utf8.allSatisfy({ Digest.isEncodedChar($0) }) else {
            throw OCIError(.invalidDigest, "invalid digest \"\(algorithm):\(encoded)\": bad encoded part")
        }
        if algorithm == "sha256" {
            guard encoded.utf8.count == 64, encoded.utf8.allSatisfy({ Digest.isLowerHex($0) }) else {
                throw OCIError(.invalidDigest,
                               "invalid digest \"\(algorithm):\(encoded)\": sha256 needs 64 lower-case hex digits")
            }
        }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// Parses `algorithm:encoded`.
    public init(parsing text: String) throws(OCIError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw OCIError(.invalidDigest, "invalid digest \"\(text)\": expected ALGORITHM:HEX, e.g. sha256:…")
        }
        try self.init(algorithm: String(text[..<colon]), encoded: String(text[text.index(after: colon)...]))
    }

    /// A sha256 digest from 64 hex digits (already known to be valid when it comes from a hash).
    public static func sha256(hex: String) throws(OCIError) -> Digest {
        try Digest(algorithm: "sha256", encoded: hex)
    }

    public var description: String { "\(algorithm):\(encoded)" }

    /// The 12-character short form Docker prints in the IMAGE ID column.
    public var shortID: String { String(encoded.prefix(12)) }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }

    static func isValidAlgorithm(_ text: String) -> Bool {
        guard let first = text.utf8.first, let last = text.utf8.last,
              isAlnumLower(first), isAlnumLower(last) else { return false }
        var previousWasSeparator = false
        for byte in text.utf8 {
            if isAlnumLower(byte) {
                previousWasSeparator = false
            } else if byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
                        || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") {
                if previousWasSeparator { return false }
                previousWasSeparator = true
            } else {
                return false
            }
        }
        return true
    }

    static func isAlnumLower(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }
    static func isLowerHex(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }
    static func isEncodedChar(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
            || b == UInt8(ascii: "=") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }
}

extension Digest: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Digest {
    /// A sha256 digest from the 32 bytes a hash function produced.
    public init(sha256Bytes bytes: some Collection<UInt8>) {
        precondition(bytes.count == 32, "a sha256 hash is 32 bytes")
        let digits = Array("0123456789abcdef".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for byte in bytes {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        self.algorithm = "sha256"
        self.encoded = String(decoding: hex, as: UTF8.self)
    }
}
