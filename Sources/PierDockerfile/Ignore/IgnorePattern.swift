/// One `.dockerignore` line, compiled with the rules of moby's `patternmatcher`:
/// `*` matches within one path element, `?` one character, `**` any number of elements,
/// `[a-z]` / `[^a-z]` a character class, `\` escapes; a leading `!` re-includes.
public struct IgnorePattern: Sendable, Equatable {
    /// The cleaned pattern, without its `!`.
    public let pattern: String
    /// A `!pattern` line: it re-includes what earlier lines excluded.
    public let isException: Bool
    private let matcher: Matcher

    enum Matcher: Sendable, Equatable {
        /// The pattern has no wildcard: the path must equal it.
        case exact(String)
        /// `some/dir/**`: any path starting with `some/dir/`.
        case prefix(String)
        /// `**/name` or `**name` with no other wildcard: any path ending with the rest.
        case suffix(String)
        case glob([GlobToken])
    }

    enum GlobToken: Sendable, Equatable {
        case literal(Unicode.Scalar)
        /// `*`: a run of characters other than `/`.
        case elementRun
        /// `?`: one character other than `/`.
        case elementCharacter
        /// `**/` inside a pattern: nothing, or anything ending with `/`.
        case directories
        /// `**` at the end of a pattern: anything.
        case anything
        case characterClass(CharacterClass)
    }

    struct CharacterClass: Sendable, Equatable {
        var negated: Bool
        var ranges: [ClosedRange<UInt32>]

        func contains(_ scalar: Unicode.Scalar) -> Bool {
            ranges.contains { $0.contains(scalar.value) } != negated
        }
    }

    /// Compiles one pattern (already trimmed; `!` marks an exception); throws on a malformed
    /// pattern.
    public init(_ source: String) throws(DockerfileError) {
        var text = GoPath.clean(source)
        isException = text.hasPrefix("!")
        if isException {
            guard text.count > 1 else {
                throw DockerfileError(.invalidIgnorePattern, "illegal exclusion pattern: \"!\"", file: ".dockerignore")
            }
            text.removeFirst()
        }
        pattern = text
        matcher = try Self.compile(text)
    }

    /// Whether the pattern matches exactly this (cleaned, slash-separated) path.
    func matches(_ path: String) -> Bool {
        switch matcher {
        case .exact(let text):
            return path == text
        case .prefix(let text):
            return path.hasPrefix(text)
        case .suffix(let text):
            if path.hasSuffix(text) { return true }
            // `**/foo` also matches `foo` itself.
            return text.hasPrefix("/") && path == String(text.dropFirst())
        case .glob(let tokens):
            return Self.match(tokens, Array(path.unicodeScalars), partial: false)
        }
    }

    /// Whether some path strictly below `directory` could match.
    func couldMatchBelow(_ directory: String) -> Bool {
        let prefix = directory + "/"
        switch matcher {
        case .exact(let text):
            return text.hasPrefix(prefix)
        case .prefix(let text):
            return text.hasPrefix(prefix) || prefix.hasPrefix(text)
        case .suffix:
            return true
        case .glob(let tokens):
            return Self.match(tokens, Array(prefix.unicodeScalars), partial: true)
        }
    }

    // MARK: Matching

    /// Anchored match of `tokens` against `text`. With `partial`, running out of text counts
    /// as a match: some continuation of `text` could match.
    private static func match(_ tokens: [GlobToken], _ text: Scalars, partial: Bool) -> Bool {
        func run(_ tokenIndex: Int, _ position: Int) -> Bool {
            if partial && position == text.count { return true }
            guard tokenIndex < tokens.count else { return position == text.count }
            switch tokens[tokenIndex] {
            case .literal(let scalar):
                return position < text.count && text[position] == scalar && run(tokenIndex + 1, position + 1)
            case .elementCharacter:
                return position < text.count && text[position] != "/" && run(tokenIndex + 1, position + 1)
            case .characterClass(let characterClass):
                return position < text.count && characterClass.contains(text[position])
                    && run(tokenIndex + 1, position + 1)
            case .elementRun:
                var end = position
                while true {
                    if run(tokenIndex + 1, end) { return true }
                    guard end < text.count, text[end] != "/" else { return false }
                    end += 1
                }
            case .anything:
                var end = position
                while true {
                    if run(tokenIndex + 1, end) { return true }
                    guard end < text.count, text[end] != "\n" else { return false }
                    end += 1
                }
            case .directories:
                if run(tokenIndex + 1, position) { return true }
                var end = position
                while end < text.count, text[end] != "\n" {
                    if text[end] == "/", run(tokenIndex + 1, end + 1) { return true }
                    end += 1
                }
                return partial && end == text.count
            }
        }
        return run(0, 0)
    }

    // MARK: Compiling

    private static func compile(_ pattern: String) throws(DockerfileError) -> Matcher {
        let scalars = Array(pattern.unicodeScalars)
        var tokens: [GlobToken] = []
        var kind = Kind.exact
        var index = 0
        var isFirst = true
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            defer { isFirst = false }
            switch scalar {
            case "*":
                guard index < scalars.count, scalars[index] == "*" else {
                    tokens.append(.elementRun)
                    kind = .glob
                    continue
                }
                index += 1
                if index < scalars.count, scalars[index] == "/" { index += 1 }
                if index == scalars.count {
                    if kind == .exact {
                        kind = .prefix
                    } else {
                        tokens.append(.anything)
                        kind = .glob
                    }
                } else {
                    tokens.append(.directories)
                    kind = .glob
                }
                if isFirst { kind = .suffix }
            case "?":
                tokens.append(.elementCharacter)
                kind = .glob
            case "\\":
                guard index < scalars.count else { throw badPattern(pattern) }
                tokens.append(.literal(scalars[index]))
                index += 1
                kind = .glob
            case "[":
                let (characterClass, next) = try parseClass(scalars, from: index, pattern: pattern)
                tokens.append(.characterClass(characterClass))
                index = next
                kind = .glob
            default:
                tokens.append(.literal(scalar))
            }
        }
        switch kind {
        case .exact: return .exact(pattern)
        case .prefix: return .prefix(String(pattern.dropLast(2)))
        case .suffix: return .suffix(String(pattern.dropFirst(2)))
        case .glob: return .glob(tokens)
        }
    }

    private enum Kind { case exact, prefix, suffix, glob }

    /// `[` already consumed: `[^]?` then items (`c`, `a-z`, `\c`) up to `]`.
    private static func parseClass(_ scalars: Scalars, from start: Int,
                                   pattern: String) throws(DockerfileError) -> (CharacterClass, Int) {
        var index = start
        var characterClass = CharacterClass(negated: false, ranges: [])
        if index < scalars.count, scalars[index] == "^" {
            characterClass.negated = true
            index += 1
        }
        func element() throws(DockerfileError) -> Unicode.Scalar {
            guard index < scalars.count, scalars[index] != "-", scalars[index] != "]" else {
                throw badPattern(pattern)
            }
            if scalars[index] == "\\" {
                index += 1
                guard index < scalars.count else { throw badPattern(pattern) }
            }
            defer { index += 1 }
            return scalars[index]
        }
        repeat {
            let low = try element()
            var high = low
            if index < scalars.count, scalars[index] == "-" {
                index += 1
                high = try element()
            }
            guard low.value <= high.value else { throw badPattern(pattern) }
            characterClass.ranges.append(low.value...high.value)
        } while index < scalars.count && scalars[index] != "]"
        guard index < scalars.count else { throw badPattern(pattern) }
        return (characterClass, index + 1)
    }

    private static func badPattern(_ pattern: String) -> DockerfileError {
        DockerfileError(.invalidIgnorePattern, "syntax error in pattern \(goQuote(pattern))", file: ".dockerignore")
    }
}
