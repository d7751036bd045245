import Foundation
import NIOHTTP1
import NIOPosix

/// The registry's own token service at `/token` (Docker's token protocol,
/// distribution `docs/spec/auth/token.md` and `oauth.md`): `GET` with Basic credentials and
/// `scope=` parameters, or `POST` with a `grant_type=password` form. Grants are what the
/// access policy allows of what was asked; anonymous requests get what anonymous may do.
struct TokenService: Sendable {
    let access: AccessControl

    struct TokenResponse: Codable {
        var token: String
        var access_token: String
        var expires_in: Int64
        var issued_at: String
    }

    func handle(_ request: RegistryRequest, body: RegistryRequestBody, writer: RegistryResponseWriter) async throws {
        guard case .token(let authority, let htpasswd, _) = access.mode, let htpasswd, authority.canIssue else {
            throw RegistryError(.unsupported, "this registry does not issue tokens", status: 404)
        }
        var user: String?
        var password: String?
        var service = request.query("service")
        var scopeTexts = request.queryAll("scope")
        if request.method == .POST {
            let form = String(decoding: try await body.collect(limit: 64 << 10), as: UTF8.self)
            let fields = form.split(separator: "&").map { item -> (String, String) in
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (RegistryRequest.decode(parts[0]), parts.count > 1 ? RegistryRequest.decode(parts[1]) : "")
            }
            func field(_ name: String) -> String? { fields.first { $0.0 == name }?.1 }
            switch field("grant_type") {
            case "password":
                user = field("username")
                password = field("password")
            default:
                throw RegistryError(.unsupported, "unsupported grant_type \(field("grant_type") ?? "(none)"): use password",
                                    status: 400)
            }
            service = field("service") ?? service
            scopeTexts += fields.filter { $0.0 == "scope" }.map(\.1)
        } else if let header = request.header("Authorization") {
            guard let (name, secret) = AccessControl.basicCredentials(header) else {
                throw RegistryError(.unauthorized, "the token service takes Basic credentials")
            }
            user = name
            password = secret
        }
        if let service, service != authority.service {
            throw RegistryError(.unsupported, "unknown service \"\(service)\" (this is \"\(authority.service)\")", status: 400)
        }
        if let user {
            let password = password ?? ""
            let valid = try await NIOThreadPool.singleton.runIfActive { htpasswd.verify(user: user, password: password) }
            guard valid else {
                throw RegistryError(.unauthorized, "authentication required: incorrect username or password")
            }
        }
        let requested = scopeTexts.flatMap { $0.split(separator: " ") }.compactMap { AccessScope(parsing: String($0)) }
        let granted = access.policy.grant(user: user, requested: requested)
        let issued = try authority.issue(subject: user ?? "", access: granted)
        let formatter = ISO8601DateFormatter()
        try await writer.json(TokenResponse(token: issued.token, access_token: issued.token, expires_in: issued.expiresIn,
                                            issued_at: formatter.string(from: issued.issuedAt)))
    }
}
