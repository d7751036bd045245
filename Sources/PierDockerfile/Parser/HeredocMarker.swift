/// Finds the heredoc markers (`<<EOF`, `<<-'EOF'`, `3<<EOF`) on an instruction's line.
/// BuildKit lexes the whole line as shell words (keeping quotes and escapes) and takes every
/// word of the form `[digits]<<[-][blanks]word` as a heredoc.
enum HeredocMarker {
    /// The heredocs a line announces, in order, with empty content.
    static func heredocs(onLine line: String) throws(DockerfileError) -> [Heredoc] {
        var lexer = ShellLexer(escape: "\\")
        lexer.keepsQuotes = true
        lexer.keepsEscapes = true
        lexer.keepsUnsetVariables = true
        // A line that does not lex (an unbalanced quote) announces no heredoc.
        guard let words = try? lexer.words(line, environment: [:]) else { return [] }
        var heredocs: [Heredoc] = []
        for word in words {
            if let heredoc = try parse(word) { heredocs.append(heredoc) }
        }
        return heredocs
    }

    /// The heredoc a single word announces, if it is one: BuildKit's `ParseHeredoc`.
    static func parse(_ word: String) throws(DockerfileError) -> Heredoc? {
        let scalars = Array(word.unicodeScalars)
        var index = 0
        while index < scalars.count, scalars[index].isASCIIDigit { index += 1 }
        let digits = Array(scalars[..<index]).string
        guard index + 1 < scalars.count, scalars[index] == "<", scalars[index + 1] == "<" else { return nil }
        index += 2
        let chomp = index < scalars.count && scalars[index] == "-"
        if chomp { index += 1 }
        while index < scalars.count, scalars[index].isRegexSpace { index += 1 }
        let rest = Array(scalars[index...])
        guard !rest.isEmpty, !rest.contains("<") else { return nil }

        // Lex the terminator with and without quotes: if quotes disappear, part of it was
        // quoted and the content is not expanded.
        var lexer = ShellLexer(escape: "\\")
        lexer.keepsUnsetVariables = true
        let plain = try lexer.words(rest.string, environment: [:])
        guard plain.count == 1, let name = plain.first else { return nil }
        lexer.keepsQuotes = true
        let raw = try lexer.words(rest.string, environment: [:])
        guard raw.count == 1, let rawName = raw.first else {
            throw DockerfileError(.invalidArguments,
                                  "internal lexing of heredoc produced inconsistent results: \(rest.string)")
        }
        return Heredoc(name: name, fileDescriptor: Int(digits) ?? 0,
                       expand: quoteCount(name) == quoteCount(rawName), chomp: chomp)
    }

    private static func quoteCount(_ text: String) -> Int {
        text.unicodeScalars.filter { $0 == "'" || $0 == "\"" }.count
    }
}
