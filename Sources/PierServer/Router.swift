import NIOHTTP1
import PierAPI

/// A route handler: reads the request (and its body, if it wants it) and writes one response.
public typealias RouteHandler = @Sendable (APIRequest, RequestBody, ResponseWriter) async throws -> Void

/// Maps `(method, path)` to handlers. Patterns are `/`-separated segments; `{name}` captures one
/// segment and `{name*}` captures one or more (image names contain slashes:
/// `/images/{name*}/json` matches `/images/localhost:5000/team/app:1/json`).
public struct Router: Sendable {
    struct Route: Sendable {
        let method: HTTPMethod
        let segments: [Substring]
        let handler: RouteHandler
    }

    var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping RouteHandler) {
        routes.append(Route(method: method, segments: pattern.split(separator: "/"), handler: handler))
    }

    enum Match {
        case found(RouteHandler, [String: String])
        case methodNotAllowed
        case notFound
    }

    func match(method: HTTPMethod, path: String) -> Match {
        let segments = path.split(separator: "/")
        var pathMatched = false
        for route in routes {
            guard let parameters = Router.match(route.segments, segments) else { continue }
            pathMatched = true
            if route.method == method || (method == .HEAD && route.method == .GET) {
                return .found(route.handler, parameters)
            }
        }
        return pathMatched ? .methodNotAllowed : .notFound
    }

    static func match(_ pattern: [Substring], _ path: [Substring]) -> [String: String]? {
        var parameters: [String: String] = [:]
        guard let greedy = pattern.firstIndex(where: { $0.hasPrefix("{") && $0.hasSuffix("*}") }) else {
            guard pattern.count == path.count else { return nil }
            for (p, s) in zip(pattern, path) {
                if p.hasPrefix("{") { parameters[String(p.dropFirst().dropLast())] = Query.decode(s) }
                else if p != s { return nil }
            }
            return parameters
        }
        let before = pattern[..<greedy]
        let after = pattern[(greedy + 1)...]
        guard path.count >= before.count + after.count + 1 else { return nil }
        for (p, s) in zip(before, path.prefix(before.count)) {
            if p.hasPrefix("{") { parameters[String(p.dropFirst().dropLast())] = Query.decode(s) }
            else if p != s { return nil }
        }
        for (p, s) in zip(after, path.suffix(after.count)) {
            if p.hasPrefix("{") { parameters[String(p.dropFirst().dropLast())] = Query.decode(s) }
            else if p != s { return nil }
        }
        let captured = path[before.count..<(path.count - after.count)]
        let name = String(pattern[greedy].dropFirst().dropLast(2))
        parameters[name] = Query.decode(Substring(captured.joined(separator: "/")))
        return parameters
    }
}
