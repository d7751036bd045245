import Foundation
import PierOCI

/// How to reach registries, as Docker's daemon decides it (`daemon.json` keys
/// `insecure-registries` and `registry-mirrors`, and `certs.d` directories):
/// - HTTPS with the system trust store by default, plus per-registry CA certificates and
///   client certificates from `/etc/pier/certs.d/HOST/` and `/etc/docker/certs.d/HOST/`
///   (`*.crt` are CAs; `NAME.cert` with `NAME.key` is a client certificate);
/// - an insecure registry is tried over HTTPS without verification first, then plain HTTP;
///   `localhost`, `127.0.0.0/8` and `::1` are insecure without being listed, as in Docker;
/// - `docker.io` is `registry-1.docker.io`, tried after any mirrors.
public struct RegistryHosts: Sendable {
    public var insecureRegistries: [String]
    public var mirrors: [String]
    public var certificateDirectories: [String]

    public init(insecureRegistries: [String] = [], mirrors: [String] = [],
                certificateDirectories: [String] = ["/etc/pier/certs.d", "/etc/docker/certs.d"]) {
        self.insecureRegistries = insecureRegistries
        self.mirrors = mirrors
        self.certificateDirectories = certificateDirectories
    }

    /// Reads Docker's `daemon.json` keys from `path`; a missing file means defaults.
    public static func load(daemonConfig path: String) throws(RegistryError) -> RegistryHosts {
        guard let data = FileManager.default.contents(atPath: path) else { return RegistryHosts() }
        struct DaemonConfig: Decodable {
            var insecureRegistries: [String]?
            var registryMirrors: [String]?
            var certsDirs: [String]?
            enum CodingKeys: String, CodingKey {
                case insecureRegistries = "insecure-registries"
                case registryMirrors = "registry-mirrors"
                case certsDirs = "certs-dirs"
            }
        }
        do {
            let config = try JSONDecoder().decode(DaemonConfig.self, from: data)
            var hosts = RegistryHosts(insecureRegistries: config.insecureRegistries ?? [],
                                      mirrors: config.registryMirrors ?? [])
            if let dirs = config.certsDirs { hosts.certificateDirectories = dirs }
            return hosts
        } catch {
            throw RegistryError(.invalidConfiguration, "\(path) is not valid: \(error)")
        }
    }

    /// Docker Hub's names for itself, all meaning `docker.io`.
    public static func canonicalHost(_ host: String) -> String {
        switch host {
        case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com", "docker.io": "docker.io"
        default: host
        }
    }

    /// A server address as `docker login` takes it (`https://index.docker.io/v1/`, `localhost:5000`,
    /// `http://host:port/path`) reduced to the registry host.
    public static func host(fromServerAddress address: String) -> String {
        var text = Substring(address.trimmingCharacters(in: .whitespaces))
        if let scheme = text.range(of: "://") { text = text[scheme.upperBound...] }
        if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        return canonicalHost(text.isEmpty ? "docker.io" : String(text))
    }

    /// Whether plain HTTP (or unverified TLS) is allowed for `host` (`host[:port]`).
    public func isInsecure(_ host: String) -> Bool {
        let bare = RegistryHosts.stripPort(host)
        if bare == "localhost" || bare == "::1" || bare == "[::1]" || bare.hasPrefix("127.") { return true }
        for entry in insecureRegistries {
            let entryHost = entry.replacingOccurrences(of: "http://", with: "").replacingOccurrences(of: "https://", with: "")
            if entryHost == host || entryHost == bare { return true }
            if entryHost.contains("/"), RegistryHosts.cidr(entryHost, contains: bare) { return true }
        }
        return false
    }

    /// The base URLs to try for `host`, in order.
    public func endpoints(for host: String) -> [Endpoint] {
        let canonical = RegistryHosts.canonicalHost(host)
        if canonical == "docker.io" {
            let mirrorEndpoints = mirrors.map { mirror -> Endpoint in
                let url = mirror.hasSuffix("/") ? String(mirror.dropLast()) : mirror
                let mirrorHost = RegistryHosts.host(fromServerAddress: url)
                return Endpoint(host: mirrorHost, baseURLs: [url], isMirror: true, insecure: isInsecure(mirrorHost))
            }
            return mirrorEndpoints + [Endpoint(host: "docker.io", baseURLs: ["https://registry-1.docker.io"],
                                               isMirror: false, insecure: false)]
        }
        if isInsecure(host) {
            return [Endpoint(host: host, baseURLs: ["https://\(host)", "http://\(host)"], isMirror: false, insecure: true)]
        }
        return [Endpoint(host: host, baseURLs: ["https://\(host)"], isMirror: false, insecure: false)]
    }

    /// Where a registry is reached.
    public struct Endpoint: Sendable, Hashable {
        /// `host[:port]` (certs.d is looked up by it).
        public var host: String
        /// Candidate base URLs, in order; the first that answers is used.
        public var baseURLs: [String]
        public var isMirror: Bool
        public var insecure: Bool
    }

    /// CA files, and client certificate/key pairs, for `host`.
    public func certificates(for host: String) -> (cas: [String], clientPairs: [(String, String)]) {
        var cas: [String] = []
        var pairs: [(String, String)] = []
        for base in certificateDirectories {
            let directory = "\(base)/\(host)"
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
            for name in names {
                if name.hasSuffix(".crt") { cas.append("\(directory)/\(name)") }
                if name.hasSuffix(".cert") {
                    let key = "\(directory)/\(name.dropLast(5)).key"
                    if FileManager.default.fileExists(atPath: key) { pairs.append(("\(directory)/\(name)", key)) }
                }
            }
        }
        return (cas, pairs)
    }

    static func stripPort(_ host: String) -> String {
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            return String(host[host.index(after: host.startIndex)..<close])
        }
        if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon { return String(host[..<colon]) }
        return host
    }

    /// IPv4 CIDR match (`10.0.0.0/8`).
    static func cidr(_ cidr: String, contains host: String) -> Bool {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let bits = Int(parts[1]), (0...32).contains(bits),
              let network = ipv4(String(parts[0])), let address = ipv4(host) else { return false }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << UInt32(32 - bits)
        return network & mask == address & mask
    }

    static func ipv4(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".")
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard let byte = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }
}
