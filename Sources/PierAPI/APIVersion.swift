/// The Engine API version Pier implements (the contract in
/// shared/conformance/engine-api/swagger-v1.41.yaml) and the range of path prefixes it accepts.
public enum APIVersion {
    public static let current = "1.41"
    public static let minimum = "1.24"
    public static let maximumAccepted = "1.50"

    /// Splits `/v1.41/images/json` into (`1.41`, `/images/json`). Unprefixed paths give `nil`.
    /// Returns `nil` for the path when the prefix names a version outside the accepted range.
    public static func strip(_ path: String) -> (version: String?, path: String)? {
        guard path.hasPrefix("/v"), let slash = path.dropFirst(2).firstIndex(of: "/") else {
            return (nil, path)
        }
        let version = String(path[path.index(path.startIndex, offsetBy: 2)..<slash])
        let parts = version.split(separator: ".")
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]) else {
            return (nil, path)
        }
        guard major == 1, minor >= 24, minor <= 50 else { return nil }
        return (version, String(path[slash...]))
    }
}

/// Pier's own release version, reported by `pier version` and `GET /version`.
public enum PierVersion {
    public static let current = "0.1.0"
}
