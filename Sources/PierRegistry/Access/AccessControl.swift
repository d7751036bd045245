import Foundation

/// Who may do what to which repository.
///
/// Without a policy file every authenticated user may pull, push and delete everywhere.
/// A policy file has one rule a line, `WHO REPOSITORIES ACTIONS`:
///
///     # WHO      REPOSITORIES   ACTIONS
///     alice      *              pull,push,delete
///     bob        team/*         pull,push
///     *          public/*       pull          (* = any authenticated user)
///     anonymous  public/*       pull
///
/// `REPOSITORIES` is a glob where `*` matches any characters, `/` included. A user gets the
/// union of the rules that name them (or `*`). `--anonymous-read` adds pull on everything
/// for anonymous clients.
public struct AccessPolicy: Sendable {
    struct Rule: Sendable {
        var subject: String
        var pattern: String
        var actions: Set<String>
    }

    var rules: [Rule]
    public var anonymousRead: Bool

    /// Every authenticated user may do everything.
    public init(anonymousRead: Bool = false) {
        rules = [Rule(subject: "*", pattern: "*", actions: ["pull", "push", "delete"])]
        self.anonymousRead = anonymousRead
    }

    public init(contents: String, source: String = "policy", anonymousRead: Bool = false) throws(RegistryError) {
        var rules: [Rule] = []
        for (number, raw) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if fields.isEmpty { continue }
            guard fields.count == 3 else {
                throw RegistryError(.invalidConfiguration, "\(source):\(number + 1): expected WHO REPOSITORIES ACTIONS")
            }
            var actions = Set(fields[2].split(separator: ",").map(String.init))
            if actions.contains("*") { actions = ["pull", "push", "delete"] }
            guard actions.isSubset(of: ["pull", "push", "delete"]) else {
                throw RegistryError(.invalidConfiguration,
                                    "\(source):\(number + 1): actions are pull, push and delete (comma separated) or *")
            }
            rules.append(Rule(subject: fields[0], pattern: fields[1], actions: actions))
        }
        self.rules = rules
        self.anonymousRead = anonymousRead
    }

    public init(file: String, anonymousRead: Bool = false) throws(RegistryError) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw RegistryError(.invalidConfiguration, "cannot read access policy \(file)")
        }
        try self.init(contents: String(decoding: data, as: UTF8.self), source: file, anonymousRead: anonymousRead)
    }

    /// The actions `user` (nil: anonymous) may take on `repository`.
    public func actions(user: String?, repository: String) -> Set<String> {
        var result: Set<String> = []
        if user == nil, anonymousRead { result.insert("pull") }
        for rule in rules {
            let applies = user == nil ? rule.subject == "anonymous" : (rule.subject == "*" || rule.subject == user)
            if applies, AccessPolicy.glob(rule.pattern, matches: repository) { result.formUnion(rule.actions) }
        }
        return result
    }

    /// What of `requested` to grant: each scope cut down to the allowed actions, empty ones dropped.
    public func grant(user: String?, requested: [AccessScope]) -> [AccessScope] {
        requested.compactMap { scope in
            switch scope.type {
            case "repository":
                let allowed = actions(user: user, repository: scope.name)
                let granted = scope.actions.filter { allowed.contains($0) || ($0 == "*" && allowed.count == 3) }
                return granted.isEmpty ? nil : AccessScope(type: scope.type, name: scope.name, actions: granted)
            case "registry" where scope.name == "catalog":
                return user != nil || anonymousRead ? AccessScope(type: "registry", name: "catalog", actions: ["*"]) : nil
            default:
                return nil
            }
        }
    }

    static func glob(_ pattern: String, matches text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}

/// How the registry authenticates clients.
public enum AuthenticationMode: Sendable {
    /// No authentication: everyone may do everything.
    case open
    /// HTTP Basic against an htpasswd file.
    case basic(HTPasswd)
    /// Bearer tokens (Docker's token protocol). With an htpasswd file the registry runs its own
    /// token service at `/token`; `realm` points clients at another one.
    case token(TokenAuthority, htpasswd: HTPasswd?, realm: String?)
}

/// Decides each request: who is asking (from `Authorization`) and whether the policy lets them.
public struct AccessControl: Sendable {
    public let mode: AuthenticationMode
    public let policy: AccessPolicy

    public init(mode: AuthenticationMode, policy: AccessPolicy) {
        self.mode = mode
        self.policy = policy
    }

    public enum Decision: Sendable {
        case allow(user: String?)
        /// 401 with this `WWW-Authenticate` value.
        case challenge(RegistryError, header: String)
        /// 403: authenticated but not allowed.
        case deny(RegistryError)
    }

    /// `realmBase` is `scheme://host` as the client reached us, for the token realm.
    public func authorize(authorization: String?, scopes: [AccessScope], realmBase: String) -> Decision {
        switch mode {
        case .open:
            return .allow(user: nil)
        case .basic(let htpasswd):
            let challenge = AuthChallenge(scheme: "Basic", parameters: ["realm": "Pier Registry"]).headerValue
            var user: String?
            if let authorization {
                guard let (name, password) = AccessControl.basicCredentials(authorization),
                      htpasswd.verify(user: name, password: password) else {
                    return .challenge(RegistryError(.unauthorized, "authentication required: incorrect username or password"),
                                      header: challenge)
                }
                user = name
            }
            return decide(user: user, scopes: scopes, challenge: challenge)
        case .token(let authority, _, let realm):
            var parameters = ["realm": realm ?? realmBase + "/token", "service": authority.service]
            if !scopes.isEmpty { parameters["scope"] = scopes.map(\.description).joined(separator: " ") }
            var challenge = AuthChallenge(scheme: "Bearer", parameters: parameters)
            guard let authorization, authorization.lowercased().hasPrefix("bearer ") else {
                // Anonymous: allowed only for what anonymous may do (then no token is needed).
                if case .allow = decide(user: nil, scopes: scopes, challenge: "") , policy.anonymousRead {
                    return .allow(user: nil)
                }
                return .challenge(RegistryError(.unauthorized, "authentication required"), header: challenge.headerValue)
            }
            let token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            let claims: TokenClaims
            do {
                claims = try authority.verify(token)
            } catch {
                challenge.parameters["error"] = "invalid_token"
                return .challenge(error, header: challenge.headerValue)
            }
            for scope in scopes {
                let granted = claims.access.first { $0.type == scope.type && $0.name == scope.name }?.actions ?? []
                for action in scope.actions where !granted.contains(action) && !granted.contains("*") {
                    challenge.parameters["error"] = "insufficient_scope"
                    return .challenge(RegistryError(.unauthorized, "authentication required: the token does not grant "
                                                    + "\(action) on \(scope.name)"), header: challenge.headerValue)
                }
            }
            return .allow(user: claims.sub.isEmpty ? nil : claims.sub)
        }
    }

    /// The policy's answer; with no scopes (the `/v2/` check) only whether anonymous access is on.
    func decide(user: String?, scopes: [AccessScope], challenge: String) -> Decision {
        if user == nil, scopes.isEmpty, !policy.anonymousRead {
            return .challenge(RegistryError(.unauthorized, "authentication required"), header: challenge)
        }
        for scope in scopes {
            let granted = policy.grant(user: user, requested: [scope]).first?.actions ?? []
            for action in scope.actions where !granted.contains(action) {
                guard let user else {
                    return .challenge(RegistryError(.unauthorized, "authentication required"), header: challenge)
                }
                return .deny(RegistryError(.denied, "requested access to the resource is denied: \(user) may not "
                                           + "\(action) \(scope.name)"))
            }
        }
        return .allow(user: user)
    }

    /// `Basic base64(user:password)`.
    public static func basicCredentials(_ header: String) -> (String, String)? {
        guard header.lowercased().hasPrefix("basic ") else { return nil }
        let encoded = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }
}
