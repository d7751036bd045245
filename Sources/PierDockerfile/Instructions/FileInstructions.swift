/// `COPY [flags] src... dest`.
public struct CopyInstruction: Sendable, Equatable {
    /// Source paths (context paths, or paths in `from`).
    public var sources: [String]
    /// Sources given as heredocs: `COPY <<EOF /etc/motd`.
    public var inlineFiles: [InlineFile]
    public var destination: String
    /// `--from=stage|image|context`.
    public var from: String?
    public var chown: String?
    public var chmod: String?
    public var link: Bool
    public var parents: Bool
    public var exclude: [String]

    public init(sources: [String], inlineFiles: [InlineFile] = [], destination: String, from: String? = nil,
                chown: String? = nil, chmod: String? = nil, link: Bool = false, parents: Bool = false,
                exclude: [String] = []) {
        self.sources = sources
        self.inlineFiles = inlineFiles
        self.destination = destination
        self.from = from
        self.chown = chown
        self.chmod = chmod
        self.link = link
        self.parents = parents
        self.exclude = exclude
    }
}

/// `ADD [flags] src... dest`: like COPY, plus URLs, git repositories and archive unpacking.
public struct AddInstruction: Sendable, Equatable {
    public var sources: [String]
    public var inlineFiles: [InlineFile]
    public var destination: String
    public var chown: String?
    public var chmod: String?
    public var link: Bool
    /// `--keep-git-dir`: nil when not given.
    public var keepGitDir: Bool?
    /// `--checksum=sha256:...` for URL sources.
    public var checksum: String?
    /// `--unpack`: nil when not given (then local archives unpack, remote ones do not).
    public var unpack: Bool?
    public var exclude: [String]

    public init(sources: [String], inlineFiles: [InlineFile] = [], destination: String, chown: String? = nil,
                chmod: String? = nil, link: Bool = false, keepGitDir: Bool? = nil, checksum: String? = nil,
                unpack: Bool? = nil, exclude: [String] = []) {
        self.sources = sources
        self.inlineFiles = inlineFiles
        self.destination = destination
        self.chown = chown
        self.chmod = chmod
        self.link = link
        self.keepGitDir = keepGitDir
        self.checksum = checksum
        self.unpack = unpack
        self.exclude = exclude
    }
}

/// A file whose content is a heredoc in the Dockerfile.
public struct InlineFile: Sendable, Equatable {
    /// The heredoc's name, used as the file name: `COPY <<app.conf /etc/` writes `/etc/app.conf`.
    public var name: String
    /// The content, with leading tabs already removed for `<<-`.
    public var content: String
    /// Whether variables in the content are expanded (the terminator was not quoted).
    public var expand: Bool

    public init(name: String, content: String, expand: Bool) {
        self.name = name
        self.content = content
        self.expand = expand
    }
}
