/// A shell pattern as used by `${VAR#pattern}`, `${VAR%pattern}` and `${VAR/pattern/x}`:
/// `*` is any run of characters, `?` any one character, `\` escapes `*`, `?`, `\` (and
/// `}` and `/`, which would otherwise end the substitution). Bracket expressions are not
/// supported, as in BuildKit. Like BuildKit's regular expressions, `*` and `?` do not match
/// a newline.
struct ShellPattern {
    enum Token: Equatable {
        case literal(Unicode.Scalar)
        case anyRun
        case anyOne
    }

    private(set) var tokens: [Token]

    init(_ pattern: String) throws(ShellFailure) {
        let scalars = Array(pattern.unicodeScalars)
        var tokens: [Token] = []
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            switch scalar {
            case "*":
                tokens.append(.anyRun)
            case "?":
                tokens.append(.anyOne)
            case "\\":
                guard index < scalars.count else {
                    throw ShellFailure("invalid pattern (\(pattern)) in substitution: invalid escape '\\'")
                }
                let escaped = scalars[index]
                if escaped == "}" || escaped == "/" { continue }
                guard escaped == "*" || escaped == "?" || escaped == "\\" else {
                    throw ShellFailure("invalid pattern (\(pattern)) in substitution: invalid escape '\\\(escaped)'")
                }
                tokens.append(.literal(escaped))
                index += 1
            default:
                tokens.append(.literal(scalar))
            }
        }
        self.tokens = tokens
    }

    /// `${VAR#pattern}` (shortest) and `${VAR##pattern}` (longest).
    func removingPrefix(of text: Scalars, longest: Bool) -> Scalars {
        guard let end = matchEnd(in: text, from: 0, greedy: longest) else { return text }
        return Array(text[end...])
    }

    /// `${VAR%pattern}` (shortest) and `${VAR%%pattern}` (longest): the prefix removal of the
    /// reversed pattern on the reversed text.
    func removingSuffix(of text: Scalars, longest: Bool) -> Scalars {
        var reversedPattern = self
        reversedPattern.tokens.reverse()
        return reversedPattern.removingPrefix(of: text.reversed(), longest: longest).reversed()
    }

    /// `${VAR/pattern/replacement}` (first match) and `${VAR//pattern/replacement}` (all),
    /// with leftmost, longest-preferring matches.
    func replacing(in text: Scalars, with replacement: Scalars, all: Bool) -> Scalars {
        guard all else {
            guard let (start, end) = firstMatch(in: text, from: 0) else { return text }
            return Array(text[..<start]) + replacement + Array(text[end...])
        }
        var out: Scalars = []
        var lastMatchEnd = 0
        var searchPosition = 0
        while searchPosition <= text.count, let (start, end) = firstMatch(in: text, from: searchPosition) {
            out += text[lastMatchEnd..<start]
            // An empty match right after a previous match is not replaced again.
            if end > lastMatchEnd || start == 0 { out += replacement }
            lastMatchEnd = end
            searchPosition = searchPosition + 1 > end ? searchPosition + 1 : end
        }
        return out + text[lastMatchEnd...]
    }

    private func firstMatch(in text: Scalars, from position: Int) -> (Int, Int)? {
        for start in position...text.count {
            if let end = matchEnd(in: text, from: start, greedy: true) { return (start, end) }
        }
        return nil
    }

    /// The end of the preferred match starting exactly at `start` (greedy: `*` tries the
    /// longest run first; lazy: the shortest), or nil when nothing matches there.
    private func matchEnd(in text: Scalars, from start: Int, greedy: Bool) -> Int? {
        func match(_ tokenIndex: Int, _ position: Int) -> Int? {
            guard tokenIndex < tokens.count else { return position }
            switch tokens[tokenIndex] {
            case .literal(let scalar):
                guard position < text.count, text[position] == scalar else { return nil }
                return match(tokenIndex + 1, position + 1)
            case .anyOne:
                guard position < text.count, text[position] != "\n" else { return nil }
                return match(tokenIndex + 1, position + 1)
            case .anyRun:
                var limit = position
                while limit < text.count, text[limit] != "\n" { limit += 1 }
                let ends = greedy ? Array((position...limit).reversed()) : Array(position...limit)
                for end in ends {
                    if let found = match(tokenIndex + 1, end) { return found }
                }
                return nil
            }
        }
        return match(0, start)
    }
}
