/// One challenge of a `WWW-Authenticate` header (RFC 7235 §4.1), as registries send them:
/// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"`
/// or `Basic realm="Registry Realm"`.
public struct AuthChallenge: Hashable, Sendable {
    public var scheme: String
    public var parameters: [String: String]

    public init(scheme: String, parameters: [String: String]) {
        self.scheme = scheme
        self.parameters = parameters
    }

    public var isBearer: Bool { scheme.lowercased() == "bearer" }
    public var isBasic: Bool { scheme.lowercased() == "basic" }
    public var realm: String? { parameters["realm"] }
    public var service: String? { parameters["service"] }
    public var scope: String? { parameters["scope"] }
    public var error: String? { parameters["error"] }

    /// Parses every challenge in a header value. Parameters are `name=token` or
    /// `name="quoted \"string\""`; scheme names are case-insensitive.
    public static func parse(_ header: String) -> [AuthChallenge] {
        var challenges: [AuthChallenge] = []
        var scanner = Scanner(Array(header.utf8))
        while true {
            scanner.skip { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\t") }
            guard let scheme = scanner.token(), !scheme.isEmpty else { break }
            var challenge = AuthChallenge(scheme: scheme, parameters: [:])
            // Parameters until the next bare token not followed by '='.
            while true {
                scanner.skip { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
                let mark = scanner.position
                guard let name = scanner.token(), !name.isEmpty else { break }
                scanner.skip { $0 == UInt8(ascii: " ") }
                guard scanner.consume(UInt8(ascii: "=")) else {
                    scanner.position = mark   // the next challenge's scheme
                    break
                }
                scanner.skip { $0 == UInt8(ascii: " ") }
                let value = scanner.quotedString() ?? scanner.token() ?? ""
                challenge.parameters[name.lowercased()] = value
                scanner.skip { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
                if !scanner.consume(UInt8(ascii: ",")) { break }
            }
            challenges.append(challenge)
        }
        return challenges
    }

    /// The header value for this challenge, quoting every parameter.
    public var headerValue: String {
        let order = ["realm", "service", "scope", "error"]
        let keys = parameters.keys.sorted { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }
        let rendered = keys.map { key in
            let value = parameters[key, default: ""].replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"")
            return "\(key)=\"\(value)\""
        }
        return rendered.isEmpty ? scheme : "\(scheme) " + rendered.joined(separator: ",")
    }

    struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func skip(while predicate: (UInt8) -> Bool) {
            while position < bytes.count, predicate(bytes[position]) { position += 1 }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        /// RFC 7230 token characters, plus '/' so base64 token68 values survive.
        mutating func token() -> String? {
            let start = position
            while position < bytes.count {
                let b = bytes[position]
                let isToken = (b >= 0x21 && b <= 0x7E) && !"\"(),:;<=>?@[\\]{}".utf8.contains(b)
                    || b == UInt8(ascii: "/") || b == UInt8(ascii: ":")
                if !isToken { break }
                position += 1
            }
            // A token68 may end in '=' padding (Basic credentials); keep it when nothing follows.
            guard position > start else { return nil }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        mutating func quotedString() -> String? {
            guard consume(UInt8(ascii: "\"")) else { return nil }
            var value: [UInt8] = []
            while position < bytes.count {
                let b = bytes[position]
                position += 1
                if b == UInt8(ascii: "\\"), position < bytes.count {
                    value.append(bytes[position])
                    position += 1
                } else if b == UInt8(ascii: "\"") {
                    break
                } else {
                    value.append(b)
                }
            }
            return String(decoding: value, as: UTF8.self)
        }
    }
}

/// A resource scope of Docker's token protocol (distribution `docs/spec/auth/scope.md`):
/// `repository:team/app:pull,push`, `registry:catalog:*`.
public struct AccessScope: Hashable, Sendable, CustomStringConvertible, Codable {
    public var type: String
    public var name: String
    public var actions: [String]

    public init(type: String = "repository", name: String, actions: [String]) {
        self.type = type
        self.name = name
        self.actions = actions
    }

    public static func repository(_ name: String, _ actions: String...) -> AccessScope {
        AccessScope(type: "repository", name: name, actions: actions)
    }

    /// Parses `type:name:actions`; the name itself may contain ':' (a registry host with a port).
    public init?(parsing text: String) {
        guard let firstColon = text.firstIndex(of: ":"), let lastColon = text.lastIndex(of: ":"),
              firstColon != lastColon else { return nil }
        type = String(text[..<firstColon])
        name = String(text[text.index(after: firstColon)..<lastColon])
        actions = text[text.index(after: lastColon)...].split(separator: ",").map(String.init)
        guard !type.isEmpty, !name.isEmpty else { return nil }
    }

    public var description: String { "\(type):\(name):\(actions.joined(separator: ","))" }
}
