/// `--platform` values (`linux/amd64`, `linux/arm/v7`, `arm64`, `linux/x86_64`) read the way
/// containerd's `platforms` package reads them: names normalised to Go's GOOS/GOARCH, so
/// that `linux/x86_64` and `linux/amd64` are the same platform.
extension Platform {
    /// Parses and normalises a specifier; nil when it has more than three parts or an empty one.
    public init?(specifier: String) {
        let parts = specifier.split(separator: "/", omittingEmptySubsequences: false).map { $0.lowercased() }
        guard (1...3).contains(parts.count), !parts.contains(where: \.isEmpty) else { return nil }
        var os = "linux"
        var architecture: String
        var variant: String?
        if parts.count == 1 {
            // One word is an OS when it names one (`linux`: the host's architecture), else an architecture.
            if Platform.knownOperatingSystems.contains(parts[0]) {
                os = parts[0]
                architecture = Platform.host.architecture
                variant = Platform.host.variant
            } else {
                architecture = parts[0]
            }
        } else {
            os = parts[0]
            architecture = parts[1]
            variant = parts.count == 3 ? parts[2] : nil
        }
        if os == "macos" { os = "darwin" }
        (architecture, variant) = Platform.normalise(architecture: architecture, variant: variant)
        self.init(architecture: architecture, os: os, variant: variant)
    }

    /// Whether two platforms run the same binaries: equal OS, architecture and variant, where a
    /// variant that every CPU of the architecture has (amd64 v1, arm64 v8) is the same as none.
    public func isCompatible(with other: Platform) -> Bool {
        os == other.os && architecture == other.architecture && baselineVariant == other.baselineVariant
    }

    private var baselineVariant: String? {
        switch (architecture, variant) {
        case ("amd64", "v1"), ("arm64", "v8"): nil
        default: variant
        }
    }

    static let knownOperatingSystems: Set<String> = [
        "aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux", "macos", "netbsd",
        "openbsd", "plan9", "solaris", "wasip1", "windows",
    ]

    static func normalise(architecture: String, variant: String?) -> (String, String?) {
        switch architecture {
        case "i386", "x86", "386": return ("386", nil)
        case "x86_64", "x86-64", "amd64": return ("amd64", variant)
        case "aarch64", "arm64":
            return ("arm64", variant.map { $0 == "8" || $0 == "v8" ? "v8" : $0 })
        case "armhf": return ("arm", "v7")
        case "armel": return ("arm", "v6")
        case "arm":
            guard let variant else { return ("arm", "v7") }
            return ("arm", ["5", "6", "7", "8"].contains(variant) ? "v" + variant : variant)
        default: return (architecture, variant)
        }
    }
}
