/// Variable expansion and word splitting with the rules of BuildKit's `shell.Lex`
/// (a subset of POSIX sh): `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`,
/// `${VAR+word}`, `${VAR:?msg}`, `${VAR?msg}`, `${VAR#pat}`, `${VAR##pat}`, `${VAR%pat}`,
/// `${VAR%%pat}`, `${VAR/pat/repl}`, `${VAR//pat/repl}`; single and double quotes; the
/// Dockerfile's escape character. Nothing is executed: `$(...)` and backticks stay literal.
///
/// The builder runs every word of ENV, ARG, LABEL, COPY, WORKDIR, USER, ... through
/// `process` with the build's variables, and uses `usedVariables` to know which build
/// arguments an instruction depends on (cache keys, "unused build-arg" warnings).
public struct ShellLexer: Sendable {
    /// The escape character: `\` or, with `# escape=\``, the backtick.
    public var escape: Unicode.Scalar
    /// Keep quote characters in the output (BuildKit's `RawQuotes`).
    public var keepsQuotes = false
    /// Keep escape characters in the output (BuildKit's `RawEscapes`).
    public var keepsEscapes = false
    /// Leave references to unset variables as written instead of expanding them to nothing
    /// (BuildKit's `SkipUnsetEnv`).
    public var keepsUnsetVariables = false
    /// Treat quotes as ordinary characters (BuildKit's `SkipProcessQuotes`).
    public var ignoresQuotes = false

    public init(escape: Unicode.Scalar = "\\") {
        self.escape = escape
    }

    /// Expands `word` and splits the result into words, reporting the variables it read.
    public func process(_ word: String, environment: [String: String]) throws(DockerfileError) -> ShellExpansion {
        var scanner = ShellWordScanner(lexer: self, environment: environment, input: Array(word.unicodeScalars))
        do throws(ShellFailure) {
            let (result, words) = try scanner.process(stoppingAt: nil, keepingEscapes: keepsEscapes)
            return ShellExpansion(result: result, words: words, usedVariables: scanner.usedVariables,
                                  unsetVariables: scanner.unsetVariables)
        } catch {
            throw DockerfileError(.expansion, "failed to process \(goQuote(word)): \(error.message)")
        }
    }

    /// `word` with variables expanded and quotes removed, as one string (`ProcessWord`).
    public func expand(_ word: String, environment: [String: String]) throws(DockerfileError) -> String {
        try process(word, environment: environment).result
    }

    /// `word` expanded and split at unquoted whitespace (`ProcessWords`).
    public func words(_ word: String, environment: [String: String]) throws(DockerfileError) -> [String] {
        try process(word, environment: environment).words
    }
}

/// The outcome of expanding one word.
public struct ShellExpansion: Sendable, Equatable {
    /// The expansion as one string; whitespace between words is kept.
    public var result: String
    /// The expansion split into words at unquoted whitespace.
    public var words: [String]
    /// Variables the word referenced that were set (possibly to the empty string).
    public var usedVariables: Set<String>
    /// Variables the word referenced that were not set.
    public var unsetVariables: Set<String>
}

/// Why an expansion failed, before it is wrapped into a `DockerfileError`.
struct ShellFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
