/// The error type of PierDockerfile: a code a caller can switch on, the line it happened on,
/// and a message a user can act on. Printed the way BuildKit prints parse errors:
/// `Dockerfile:7: unknown instruction: FOOBAR`.
public struct DockerfileError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable {
        /// The file holds no instruction (empty, or only comments and directives).
        case noInstructions
        /// A `# escape=` / `# syntax=` / `# check=` directive is malformed or repeated.
        case invalidDirective
        /// The keyword is not a Dockerfile instruction.
        case unknownInstruction
        /// A `--flag` the instruction does not take, or a flag with a bad value.
        case invalidFlag
        /// Wrong number or shape of arguments (`ENV PATH`, `FROM a b`, JSON with non-strings).
        case invalidArguments
        /// A heredoc (`<<EOF`) without its terminating line.
        case unterminatedHeredoc
        /// An instruction other than ARG before the first FROM.
        case noBuildStage
        /// Variable expansion failed (`${VAR:?msg}`, unbalanced quotes, bad substitution).
        case expansion
        /// A `.dockerignore` pattern that is not a valid pattern.
        case invalidIgnorePattern
    }

    public let code: Code
    public let message: String
    /// 1-based line in `file` the error points at, when known.
    public let line: Int?
    /// The file the line refers to: `Dockerfile` or `.dockerignore`.
    public let file: String

    public init(_ code: Code, _ message: String, line: Int? = nil, file: String = "Dockerfile") {
        self.code = code
        self.message = message
        self.line = line
        self.file = file
    }

    /// The same error pointing at `line` (used by callers that expand words of an instruction).
    public func at(line: Int) -> DockerfileError {
        DockerfileError(code, message, line: line, file: file)
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
