import Foundation

/// What a client proves itself with: a user and password, an identity (refresh) token from
/// an earlier login, or a registry token to use as it is.
public struct RegistryCredentials: Sendable, Hashable {
    public var username: String?
    public var password: String?
    public var identityToken: String?
    public var registryToken: String?

    public init(username: String? = nil, password: String? = nil, identityToken: String? = nil, registryToken: String? = nil) {
        self.username = username
        self.password = password
        self.identityToken = identityToken
        self.registryToken = registryToken
    }

    public var isEmpty: Bool {
        (username ?? "").isEmpty && (password ?? "").isEmpty && (identityToken ?? "").isEmpty && (registryToken ?? "").isEmpty
    }

    /// `Basic base64(user:password)`, when there is a user.
    var basicAuthorization: String? {
        guard let username, !username.isEmpty else { return nil }
        return "Basic " + Data("\(username):\(password ?? "")".utf8).base64EncodedString()
    }
}

/// The Engine API's `AuthConfig` (swagger definition AuthConfig), as `POST /auth` takes it in
/// its body and `X-Registry-Auth` carries it base64url-encoded.
public struct RegistryAuthConfig: Codable, Sendable {
    public var username: String?
    public var password: String?
    public var auth: String?
    public var email: String?
    public var serveraddress: String?
    public var identitytoken: String?
    public var registrytoken: String?

    public init(username: String? = nil, password: String? = nil, serveraddress: String? = nil) {
        self.username = username
        self.password = password
        self.serveraddress = serveraddress
    }

    /// Decodes an `X-Registry-Auth` value: base64url (Docker's CLI) or standard base64, padded
    /// or not. An empty or `{}` header means anonymous.
    public static func decodeHeader(_ value: String?) throws(RegistryError) -> RegistryAuthConfig? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        guard let bytes = Base64URL.decode(value) else {
            throw RegistryError(.invalidConfiguration, "invalid X-Registry-Auth header: not base64")
        }
        do {
            return try JSONDecoder().decode(RegistryAuthConfig.self, from: Data(bytes))
        } catch {
            throw RegistryError(.invalidConfiguration, "invalid X-Registry-Auth header: \(error)")
        }
    }

    /// `X-Registry-Config` (sent with `POST /build`): base64url JSON of every login the client
    /// has, by registry (`docker.io` logins under `https://index.docker.io/v1/`, as in config.json).
    public static func decodeConfigHeader(_ value: String?) throws(RegistryError) -> [String: RegistryAuthConfig] {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return [:] }
        guard let bytes = Base64URL.decode(value) else {
            throw RegistryError(.invalidConfiguration, "invalid X-Registry-Config header: not base64")
        }
        do {
            return try JSONDecoder().decode([String: RegistryAuthConfig].self, from: Data(bytes))
        } catch {
            throw RegistryError(.invalidConfiguration, "invalid X-Registry-Config header: \(error)")
        }
    }

    /// The login for `domain` in an `X-Registry-Config` map.
    public static func login(for domain: String, in logins: [String: RegistryAuthConfig]) -> RegistryAuthConfig? {
        if let exact = logins[domain] { return exact }
        if domain == "docker.io" { return logins["https://index.docker.io/v1/"] ?? logins["index.docker.io"] }
        return logins["https://\(domain)"] ?? logins["http://\(domain)"]
    }

    /// The credentials it carries (`auth` is `base64(user:password)`, as in config.json).
    public var credentials: RegistryCredentials? {
        var user = username
        var secret = password
        if (user ?? "").isEmpty, let auth, let data = Data(base64Encoded: auth),
           let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":") {
            user = String(text[..<colon])
            secret = String(text[text.index(after: colon)...])
        }
        let credentials = RegistryCredentials(username: user, password: secret, identityToken: identitytoken,
                                              registryToken: registrytoken)
        return credentials.isEmpty ? nil : credentials
    }
}
