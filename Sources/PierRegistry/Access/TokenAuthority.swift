@preconcurrency import Crypto
import Foundation

/// The claims of a registry bearer token (distribution `docs/spec/auth/jwt.md`).
public struct TokenClaims: Codable, Sendable {
    public var iss: String
    public var sub: String
    public var aud: String
    public var exp: Int64
    public var nbf: Int64
    public var iat: Int64
    public var jti: String
    public var access: [AccessScope]
}

/// Issues and checks the JSON Web Tokens of Docker's token protocol, signed ES256 (P-256).
///
/// Pier's registry can be its own token service (it signs with a key it was given, or one
/// it made at start) or trust tokens from another issuer whose public key it was given.
public final class TokenAuthority: Sendable {
    public let issuer: String
    public let service: String
    let signingKey: P256.Signing.PrivateKey?
    let verifyingKey: P256.Signing.PublicKey
    public let lifetime: Int64

    /// An authority that signs (and verifies) with `signingKey`, or a fresh key.
    public init(issuer: String, service: String, signingKey: P256.Signing.PrivateKey = .init(), lifetime: Int64 = 300) {
        self.issuer = issuer
        self.service = service
        self.signingKey = signingKey
        self.verifyingKey = signingKey.publicKey
        self.lifetime = lifetime
    }

    /// An authority that only verifies tokens another issuer signed.
    public init(issuer: String, service: String, verifyingKey: P256.Signing.PublicKey) {
        self.issuer = issuer
        self.service = service
        self.signingKey = nil
        self.verifyingKey = verifyingKey
        self.lifetime = 0
    }

    /// Loads a PEM key file: a private key signs and verifies; a public key only verifies.
    public static func load(issuer: String, service: String, keyFile: String) throws(RegistryError) -> TokenAuthority {
        guard let data = FileManager.default.contents(atPath: keyFile) else {
            throw RegistryError(.invalidConfiguration, "cannot read token key \(keyFile)")
        }
        let pem = String(decoding: data, as: UTF8.self)
        if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) {
            return TokenAuthority(issuer: issuer, service: service, signingKey: key)
        }
        if let key = try? P256.Signing.PublicKey(pemRepresentation: pem) {
            return TokenAuthority(issuer: issuer, service: service, verifyingKey: key)
        }
        throw RegistryError(.invalidConfiguration,
                            "token key \(keyFile) is not a P-256 (ES256) private or public key in PEM form "
                            + "(make one with `openssl ecparam -name prime256v1 -genkey -noout`)")
    }

    public var canIssue: Bool { signingKey != nil }

    /// The key ID in libtrust's form (what distribution puts in `kid`).
    var keyID: String {
        let digest = SHA256.hash(data: verifyingKey.derRepresentation)
        let base32 = Base32.encode(Array(digest.prefix(30)))
        return stride(from: 0, to: 48, by: 4).map { index in
            let start = base32.index(base32.startIndex, offsetBy: index)
            return String(base32[start..<base32.index(start, offsetBy: 4)])
        }.joined(separator: ":")
    }

    public struct Issued: Sendable {
        public let token: String
        public let expiresIn: Int64
        public let issuedAt: Date
    }

    public func issue(subject: String, access: [AccessScope], now: Date = Date()) throws(RegistryError) -> Issued {
        guard let signingKey else {
            throw RegistryError(.unsupported, "this registry verifies tokens but has no key to issue them")
        }
        let seconds = Int64(now.timeIntervalSince1970)
        let claims = TokenClaims(iss: issuer, sub: subject, aud: service, exp: seconds + lifetime, nbf: seconds - 10,
                                 iat: seconds, jti: UUID().uuidString, access: access)
        let header = ["alg": "ES256", "typ": "JWT", "kid": keyID]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let headerJSON = try? encoder.encode(header), let claimsJSON = try? encoder.encode(claims) else {
            throw RegistryError(.internalError, "cannot encode a token")
        }
        let signingInput = Base64URL.encode([UInt8](headerJSON)) + "." + Base64URL.encode([UInt8](claimsJSON))
        guard let signature = try? signingKey.signature(for: Array(signingInput.utf8)) else {
            throw RegistryError(.internalError, "cannot sign a token")
        }
        return Issued(token: signingInput + "." + Base64URL.encode([UInt8](signature.rawRepresentation)),
                      expiresIn: lifetime, issuedAt: now)
    }

    /// Checks signature, issuer, audience and validity period; returns the claims.
    public func verify(_ token: String, now: Date = Date()) throws(RegistryError) -> TokenClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(String(parts[0])),
              let claimBytes = Base64URL.decode(String(parts[1])),
              let signatureBytes = Base64URL.decode(String(parts[2])) else {
            throw RegistryError(.unauthorized, "malformed bearer token")
        }
        guard let header = try? JSONDecoder().decode([String: String].self, from: Data(headerBytes)),
              header["alg"] == "ES256" else {
            throw RegistryError(.unauthorized, "unsupported bearer token: only ES256 tokens are accepted")
        }
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureBytes),
              verifyingKey.isValidSignature(signature, for: Array("\(parts[0]).\(parts[1])".utf8)) else {
            throw RegistryError(.unauthorized, "invalid bearer token signature")
        }
        guard let claims = try? JSONDecoder().decode(TokenClaims.self, from: Data(claimBytes)) else {
            throw RegistryError(.unauthorized, "malformed bearer token claims")
        }
        let seconds = Int64(now.timeIntervalSince1970)
        guard claims.iss == issuer else { throw RegistryError(.unauthorized, "bearer token from an untrusted issuer") }
        guard claims.aud == service else { throw RegistryError(.unauthorized, "bearer token is for another service") }
        guard claims.exp > seconds, claims.nbf <= seconds + 30 else {
            throw RegistryError(.unauthorized, "bearer token has expired")
        }
        return claims
    }
}

/// base64url without padding (RFC 7515 §2), and a tolerant decoder for either alphabet.
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var standard = text.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        standard = standard.replacingOccurrences(of: "=", with: "")
        while standard.utf8.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map { [UInt8]($0) }
    }
}

enum Base32 {
    static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var output = ""
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return output
    }
}
