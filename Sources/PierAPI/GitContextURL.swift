/// A Git repository as a build context: `https://host/repo.git#ref:subdir`, `git://host/repo`,
/// `git@host:repo.git`, `ssh://git@host/repo.git` (the forms `docker build` takes). `pier build`
/// sends it as the `remote` query parameter of `POST /build`; pierd clones it.
public struct GitContextURL: Sendable, Equatable {
    /// The repository, without the fragment.
    public var repository: String
    /// The branch, tag or commit to check out; nil for the remote's HEAD.
    public var ref: String?
    /// The directory of the repository that is the context; nil for its root.
    public var subdirectory: String?

    /// Parses a context argument; nil when it is not a Git URL.
    public init?(_ text: String) {
        guard GitContextURL.isGitURL(text) else { return nil }
        var repository = Substring(text)
        var fragment: Substring = ""
        if let hash = text.firstIndex(of: "#") {
            repository = text[..<hash]
            fragment = text[text.index(after: hash)...]
        }
        let parts = fragment.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        self.repository = String(repository)
        ref = parts.first.flatMap { $0.isEmpty ? nil : String($0) }
        subdirectory = parts.count > 1 && !parts[1].isEmpty ? String(parts[1]) : nil
    }

    /// Docker's rule (`urlutil.IsGitURL`): `git://`, `git@`, `github.com/`, or an http(s) URL whose
    /// path ends in `.git` (before any `#`); `ssh://` as BuildKit adds.
    public static func isGitURL(_ text: String) -> Bool {
        if text.hasPrefix("git://") || text.hasPrefix("git@") || text.hasPrefix("ssh://") || text.hasPrefix("github.com/") {
            return true
        }
        guard text.hasPrefix("https://") || text.hasPrefix("http://") else { return false }
        let path = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return path.hasSuffix(".git") || path.hasSuffix(".git/")
    }

    /// What `git` is given to fetch: `github.com/x/y` is `https://github.com/x/y`.
    public var fetchURL: String {
        repository.hasPrefix("github.com/") ? "https://" + repository : repository
    }
}
