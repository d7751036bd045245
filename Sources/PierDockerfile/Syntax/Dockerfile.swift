/// A parsed Dockerfile: its parser directives and its instructions in order.
public struct Dockerfile: Sendable, Equatable {
    public var directives: [ParserDirective]
    public var instructions: [Instruction]
    /// The escape character in effect: `\` unless `# escape=\`` chose the backtick.
    public var escape: Unicode.Scalar
    /// Things that parse but deserve a note (empty continuation lines).
    public var warnings: [ParseWarning]

    public init(directives: [ParserDirective] = [], instructions: [Instruction], escape: Unicode.Scalar = "\\",
                warnings: [ParseWarning] = []) {
        self.directives = directives
        self.instructions = instructions
        self.escape = escape
        self.warnings = warnings
    }

    /// Parses Dockerfile text with BuildKit's rules.
    public init(parsing text: String) throws(DockerfileError) {
        var parser = DockerfileParser(text: text)
        self = try parser.parse()
    }

    /// Parses Dockerfile bytes; invalid UTF-8 becomes U+FFFD.
    public init(parsing bytes: [UInt8]) throws(DockerfileError) {
        try self.init(parsing: String(decoding: bytes, as: UTF8.self))
    }

    /// The value of a parser directive (`syntax`, `escape`, `check`), if present.
    public func directive(_ name: String) -> String? {
        directives.first { $0.name == name.lowercased() }?.value
    }
}

/// A note about a Dockerfile that parsed.
public struct ParseWarning: Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var line: Int

    public init(message: String, line: Int) {
        self.message = message
        self.line = line
    }

    public var description: String { "Dockerfile:\(line): \(message)" }
}
