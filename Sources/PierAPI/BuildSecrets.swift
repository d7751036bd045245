import Foundation

/// `pier build --secret`: the secrets a build may mount (`RUN --mount=type=secret`), carried
/// from the CLI to pierd in a request header of Pier's own, never in the URL (which pierd's
/// request log shows) nor in the context tar (which COPY could copy). The header's value is
/// base64 of a JSON object `{"<id>": "<base64 of the value>"}`.
public struct BuildSecrets: Sendable, Equatable {
    public static let headerName = "X-Pier-Build-Secrets"
    /// The longest header value pierd reads: its HTTP decoder takes 80 KiB of headers in all
    /// (SwiftNIO's default), and the values are base64 twice (about 44 KiB of secrets in all).
    public static let maximumHeaderLength = 78 * 1024

    /// Secret id → value.
    public var values: [String: [UInt8]]

    public init(_ values: [String: [UInt8]] = [:]) { self.values = values }

    public var headerValue: String {
        var object: [String: String] = [:]
        for (id, value) in values { object[id] = Data(value).base64EncodedString() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(object)) ?? Data("{}".utf8)
        return json.base64EncodedString()
    }

    /// Reads the header; nil or empty is no secrets.
    public init(headerValue: String?) throws(APIError) {
        guard let text = headerValue?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            self.init()
            return
        }
        guard let json = Data(base64Encoded: text),
              let object = try? JSONDecoder().decode([String: String].self, from: json) else {
            throw APIError.badRequest("invalid \(BuildSecrets.headerName) header: not base64 of a JSON object of strings")
        }
        var values: [String: [UInt8]] = [:]
        for (id, encoded) in object {
            guard let value = Data(base64Encoded: encoded) else {
                throw APIError.badRequest("invalid \(BuildSecrets.headerName) header: the value of secret \(id) is not base64")
            }
            values[id] = [UInt8](value)
        }
        self.init(values)
    }
}
