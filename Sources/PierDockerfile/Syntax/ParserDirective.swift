/// A parser directive from the top of a Dockerfile: `# syntax=docker/dockerfile:1`,
/// `# escape=\``, `# check=skip=JSONArgsRecommended`.
public struct ParserDirective: Sendable, Equatable {
    /// Lower-cased name: `syntax`, `escape` or `check`.
    public var name: String
    public var value: String
    /// 1-based line of the directive.
    public var line: Int

    public init(name: String, value: String, line: Int) {
        self.name = name
        self.value = value
        self.line = line
    }
}
