import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Answers a registry's challenges for one set of credentials: nothing, Basic, or Docker's
/// bearer-token flow (`WWW-Authenticate: Bearer realm=…,service=…,scope=…`; distribution
/// `docs/spec/auth/token.md`). Tokens are cached per scope set until shortly before they
/// expire, then fetched again.
actor Authenticator {
    let credentials: RegistryCredentials?
    private(set) var challenge: AuthChallenge?
    private var tokens: [String: (token: String, expires: ContinuousClock.Instant)] = [:]
    /// A refresh token the token service handed out (`offline_token=true`), for `login`.
    private(set) var refreshToken: String?

    init(credentials: RegistryCredentials?) {
        self.credentials = credentials
    }

    /// Remembers what the registry asked for.
    func learn(_ challenges: [AuthChallenge]) {
        if let bearer = challenges.first(where: \.isBearer) {
            challenge = bearer
        } else if let basic = challenges.first(where: \.isBasic) {
            challenge = basic
        }
    }

    var needsAuthentication: Bool { challenge != nil }

    /// The `Authorization` value for a request needing `scopes`, fetching a token if needed.
    func authorization(for scopes: [AccessScope], using http: HTTPClient, forceRefresh: Bool = false) async throws -> String? {
        if let token = credentials?.registryToken, !token.isEmpty { return "Bearer \(token)" }
        guard let challenge else { return nil }
        if challenge.isBasic {
            guard let basic = credentials?.basicAuthorization else {
                throw RegistryError(.unauthorized, "unauthorized: authentication required (log in with `pier login`)")
            }
            return basic
        }
        let key = scopes.map(\.description).sorted().joined(separator: " ")
        if !forceRefresh, let cached = tokens[key], cached.expires > .now {
            return "Bearer \(cached.token)"
        }
        let (token, lifetime) = try await fetchToken(challenge, scopes: scopes, offline: false, http: http)
        tokens[key] = (token, .now + .seconds(max(lifetime - 10, 5)))
        return "Bearer \(token)"
    }

    /// Checks the credentials against the token service (for `login`); returns a refresh token if one was issued.
    func verifyWithTokenService(using http: HTTPClient) async throws -> String? {
        guard let challenge, challenge.isBearer else { return nil }
        _ = try await fetchToken(challenge, scopes: [], offline: true, http: http)
        return refreshToken
    }

    struct TokenAnswer: Decodable {
        var token: String?
        var access_token: String?
        var expires_in: Int?
        var refresh_token: String?
    }

    func fetchToken(_ challenge: AuthChallenge, scopes: [AccessScope], offline: Bool,
                    http: HTTPClient) async throws -> (String, Int) {
        guard let realm = challenge.realm, let realmURL = URL(string: realm), realmURL.scheme != nil else {
            throw RegistryError(.protocolError, "the registry asked for a bearer token without a valid realm")
        }
        var scopeTexts = scopes.map(\.description)
        if scopeTexts.isEmpty, let scope = challenge.scope, !offline { scopeTexts = scope.split(separator: " ").map(String.init) }
        var request: HTTPClientRequest
        if let refresh = credentials?.identityToken, !refresh.isEmpty {
            // OAuth2 refresh grant (distribution `docs/spec/auth/oauth.md`).
            var form = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", "pier")]
            if let service = challenge.service { form.append(("service", service)) }
            for scope in scopeTexts { form.append(("scope", scope)) }
            request = HTTPClientRequest(url: realm)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: Authenticator.formEncode(form)))
        } else {
            var query: [(String, String)] = []
            if let service = challenge.service { query.append(("service", service)) }
            for scope in scopeTexts { query.append(("scope", scope)) }
            if let user = credentials?.username, !user.isEmpty {
                query.append(("account", user))
                if offline { query += [("offline_token", "true"), ("client_id", "pier")] }
            }
            let separator = realm.contains("?") ? "&" : "?"
            request = HTTPClientRequest(url: query.isEmpty ? realm : realm + separator + Authenticator.formEncode(query))
            if let basic = credentials?.basicAuthorization { request.headers.add(name: "Authorization", value: basic) }
        }
        request.headers.add(name: "User-Agent", value: RegistryClient.userAgent)
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(60))
        } catch {
            throw RegistryError(.unreachable, "cannot reach the token service \(realm): \(error)",
                                cause: error)
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            if response.status == .unauthorized || response.status == .forbidden {
                throw RegistryError(.unauthorized, "unauthorized: incorrect username or password", status: 401)
            }
            throw RegistryError(.protocolError, "token service \(realm) answered \(response.status.code)", status: 502)
        }
        guard let answer = try? JSONDecoder().decode(TokenAnswer.self, from: Data(body.readableBytesView)),
              let token = answer.token ?? answer.access_token, !token.isEmpty else {
            throw RegistryError(.protocolError, "token service \(realm) sent no token")
        }
        if let refresh = answer.refresh_token { refreshToken = refresh }
        return (token, answer.expires_in ?? 60)
    }

    static func formEncode(_ pairs: [(String, String)]) -> String {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        func escape(_ text: String) -> String {
            var result = ""
            for byte in text.utf8 {
                if allowed.contains(byte) { result.unicodeScalars.append(Unicode.Scalar(byte)) }
                else { result += String(format: "%%%02X", byte) }
            }
            return result
        }
        return pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }
}
