/// Recognises parser directives (`# syntax=`, `# escape=`, `# check=`) at the top of a
/// Dockerfile. As in BuildKit, directives are only looked for until the first line that is
/// not one: a blank line, an ordinary comment or an instruction ends the directive block.
struct DirectiveParser {
    static let known: Set<String> = ["syntax", "escape", "check"]

    private(set) var directives: [ParserDirective] = []
    private(set) var escape: Unicode.Scalar = "\\"
    private var done = false

    /// Looks at one line (newline and leading whitespace already removed). Returns true
    /// when the line was a directive.
    mutating func consider(_ line: Scalars, lineNumber: Int) throws(DockerfileError) -> Bool {
        guard !done else { return false }
        guard line.first == "#" else {
            done = true
            return false
        }
        guard let (name, value) = Self.split(Array(line.dropFirst()).trimmingLeadingGoSpace()),
              Self.known.contains(name) else {
            done = true
            return false
        }
        if directives.contains(where: { $0.name == name }) {
            throw DockerfileError(.invalidDirective, "only one \(name) parser directive can be used",
                                  line: lineNumber)
        }
        if name == "escape" {
            guard value == "\\" || value == "`", let token = value.unicodeScalars.first else {
                throw DockerfileError(.invalidDirective,
                                      "invalid escape token '\(value)' does not match ` or \\", line: lineNumber)
            }
            escape = token
        }
        directives.append(ParserDirective(name: name, value: value, line: lineNumber))
        return true
    }

    /// Matches `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` and returns the lower-cased name
    /// and the value.
    private static func split(_ text: Scalars) -> (String, String)? {
        var index = 0
        guard index < text.count, text[index].isASCIILetter else { return nil }
        while index < text.count, text[index].isASCIILetter || text[index].isASCIIDigit { index += 1 }
        let name = Array(text[..<index]).string.lowercased()
        while index < text.count, text[index].isRegexSpace { index += 1 }
        guard index < text.count, text[index] == "=" else { return nil }
        index += 1
        let rest = Array(text[index...])
        guard !rest.isEmpty else { return nil }
        var valueStart = 0
        while valueStart < rest.count, rest[valueStart].isRegexSpace { valueStart += 1 }
        if valueStart == rest.count {
            // The value pattern needs one character: the last blank becomes the value.
            return (name, [rest[rest.count - 1]].string)
        }
        var valueEnd = rest.count
        while valueEnd > valueStart, rest[valueEnd - 1].isRegexSpace { valueEnd -= 1 }
        return (name, Array(rest[valueStart..<valueEnd]).string)
    }
}
