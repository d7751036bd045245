import Foundation

/// The flags of `pier registry serve`, turned into a configuration (kept here, not in the
/// executable, so tests can check every combination).
public struct ServeOptions: Sendable {
    public var address = ":5000"
    public var storage = "/var/lib/pier-registry"
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var htpasswd: String?
    public var tokenIssuer: String?
    public var tokenService = "pier-registry"
    public var tokenKey: String?
    public var tokenRealm: String?
    public var accessPolicy: String?
    public var anonymousRead = false
    public var collectionInterval: String?
    public var collectionGrace = "1h"

    public init() {}

    public func configuration() throws(RegistryError) -> RegistryServerConfiguration {
        let (host, port) = try ServeOptions.parseAddress(address)
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw RegistryError(.invalidConfiguration, "--tls-cert and --tls-key go together")
        }
        var policy = AccessPolicy(anonymousRead: anonymousRead)
        if let accessPolicy { policy = try AccessPolicy(file: accessPolicy, anonymousRead: anonymousRead) }
        let passwords = try htpasswd.map { path throws(RegistryError) in try HTPasswd(path: path) }
        let mode: AuthenticationMode
        if let tokenIssuer {
            let authority: TokenAuthority
            if let tokenKey {
                authority = try TokenAuthority.load(issuer: tokenIssuer, service: tokenService, keyFile: tokenKey)
            } else {
                guard passwords != nil else {
                    throw RegistryError(.invalidConfiguration,
                                        "--token-issuer needs --htpasswd (to be its own token service) or --token-key "
                                        + "with the issuer's public key and --token-realm")
                }
                authority = TokenAuthority(issuer: tokenIssuer, service: tokenService)
            }
            if tokenRealm == nil, !(authority.canIssue && passwords != nil) {
                throw RegistryError(.invalidConfiguration,
                                    "tokens from another issuer need --token-realm (where clients get them)")
            }
            mode = .token(authority, htpasswd: passwords, realm: tokenRealm)
        } else if let passwords {
            mode = .basic(passwords)
        } else {
            if tokenRealm != nil || tokenKey != nil {
                throw RegistryError(.invalidConfiguration, "--token-realm and --token-key need --token-issuer")
            }
            mode = .open
        }
        let interval = try collectionInterval.flatMap { text throws(RegistryError) -> Duration? in
            let value = try ServeOptions.parseDuration(text)
            return value == .zero ? nil : value
        }
        return RegistryServerConfiguration(
            host: host, port: port, storage: storage, tlsCertificate: tlsCertificate, tlsKey: tlsKey,
            access: AccessControl(mode: mode, policy: policy), collectionInterval: interval,
            collectionGrace: try ServeOptions.parseDuration(collectionGrace))
    }

    /// `HOST:PORT`, `:PORT` (every interface) or `[IPv6]:PORT`.
    public static func parseAddress(_ text: String) throws(RegistryError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else {
            throw RegistryError(.invalidConfiguration, "invalid --addr \"\(text)\": expected HOST:PORT, e.g. 127.0.0.1:5000")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// Go-style durations: `90s`, `30m`, `1h30m`, `0`.
    public static func parseDuration(_ text: String) throws(RegistryError) -> Duration {
        if text == "0" { return .zero }
        var total: Int64 = 0
        var number = ""
        for character in text {
            if character.isNumber { number.append(character); continue }
            guard let value = Int64(number) else {
                throw RegistryError(.invalidConfiguration, "invalid duration \"\(text)\": expected e.g. 30m or 1h30m")
            }
            switch character {
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            case "d": total += value * 86400
            default: throw RegistryError(.invalidConfiguration, "invalid duration \"\(text)\": units are s, m, h, d")
            }
            number = ""
        }
        guard number.isEmpty, !text.isEmpty else {
            throw RegistryError(.invalidConfiguration, "invalid duration \"\(text)\": give a unit (s, m, h, d)")
        }
        return .seconds(total)
    }
}
