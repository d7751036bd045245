/// The patterns of a `.dockerignore` file and the decisions the build-context walker needs:
/// is this path excluded, and can this excluded directory be skipped without descending.
///
/// Semantics are moby's (`ignorefile.ReadAll` + `patternmatcher.MatchesOrParentMatches`):
/// patterns apply in order, the last one that matches a path decides, and a pattern matches
/// a path when it matches the path itself or one of its parent directories.
public struct DockerIgnore: Sendable, Equatable {
    public let patterns: [IgnorePattern]

    /// Parses the contents of a `.dockerignore` file: `#` comment lines and blank lines are
    /// skipped, each pattern is trimmed and cleaned (`./a`, `/a` and `a/` all mean `a`).
    public init(_ text: String) throws(DockerfileError) {
        var patterns: [IgnorePattern] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = first.dropFirst() }
        for (index, rawLine) in lines.enumerated() {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            guard !line.hasPrefix("#") else { continue }
            var text = Array(line.unicodeScalars).trimmingGoSpace().string
            guard !text.isEmpty else { continue }
            let isException = text.hasPrefix("!")
            if isException { text = Array(text.unicodeScalars.dropFirst()).trimmingGoSpace().string }
            if !text.isEmpty {
                text = GoPath.clean(text)
                if text.count > 1, text.hasPrefix("/") { text.removeFirst() }
            }
            do {
                patterns.append(try IgnorePattern(isException ? "!" + text : text))
            } catch {
                throw DockerfileError(error.code, error.message, line: index + 1, file: ".dockerignore")
            }
        }
        self.patterns = patterns
    }

    /// Compiles patterns given one per element, in file order (`!` re-includes).
    public init(patterns: [String]) throws(DockerfileError) {
        var compiled: [IgnorePattern] = []
        for pattern in patterns {
            let text = Array(pattern.unicodeScalars).trimmingGoSpace().string
            guard !text.isEmpty else { continue }
            compiled.append(try IgnorePattern(text))
        }
        self.patterns = compiled
    }

    /// True when some `!pattern` line exists, i.e. excluded directories may still hold
    /// included files.
    public var hasExceptions: Bool { patterns.contains(where: \.isException) }

    /// Whether `relativePath` (slash-separated, relative to the context root) is left out of
    /// the build context, itself or through an excluded parent directory.
    public func isExcluded(_ relativePath: String) -> Bool {
        let path = GoPath.clean(relativePath)
        guard path != "." else { return false }
        let ancestors = Self.ancestors(of: path)
        var excluded = false
        for pattern in patterns where pattern.isException == excluded {
            if pattern.matches(path) || ancestors.contains(where: pattern.matches) {
                excluded = !pattern.isException
            }
        }
        return excluded
    }

    /// Whether the walker can skip the directory `relativePath` entirely: it is excluded,
    /// and no `!pattern` after the last pattern that excludes it could match anything
    /// beneath it.
    public func canSkipDirectory(_ relativePath: String) -> Bool {
        let path = GoPath.clean(relativePath)
        guard path != "." else { return false }
        let ancestors = Self.ancestors(of: path)
        guard let last = patterns.lastIndex(where: { $0.matches(path) || ancestors.contains(where: $0.matches) }),
              !patterns[last].isException else { return false }
        return !patterns[(last + 1)...].contains { $0.isException && $0.couldMatchBelow(path) }
    }

    /// `a/b/c` → `a`, `a/b`.
    private static func ancestors(of path: String) -> [String] {
        let parent = GoPath.dir(path)
        guard parent != "." else { return [] }
        let elements = parent.split(separator: "/", omittingEmptySubsequences: false)
        return elements.indices.map { elements[...$0].joined(separator: "/") }
    }
}
