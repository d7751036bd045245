/// Reads Dockerfile text into `Instruction`s, following BuildKit's `parser.Parse`:
/// parser directives at the top; `#` comment lines; the escape character at the end of a
/// line continues it (comment lines inside a continuation are dropped, blank ones skipped);
/// heredoc bodies after `RUN`/`COPY`/`ADD` lines that announce them.
struct DockerfileParser {
    private let lines: [Scalars]
    private var nextLine = 0
    /// Number of lines consumed so far, i.e. the 1-based number of the last line read.
    private var lineNumber = 0
    private var directives = DirectiveParser()
    private var warnings: [ParseWarning] = []

    init(text: String) {
        lines = Self.splitLines(text)
    }

    mutating func parse() throws(DockerfileError) -> Dockerfile {
        var instructions: [Instruction] = []
        while let raw = readLine() {
            var first = raw
            if lineNumber == 1, first.first == "\u{FEFF}" { first.removeFirst() }
            let text = try process(first, stripLeadingSpace: true)
            let startLine = lineNumber
            var (logical, isComplete) = trimContinuation(text)
            if isComplete && logical.isEmpty { continue }

            var hasEmptyContinuationLine = false
            while !isComplete, let next = readLine() {
                let continued = try process(next, stripLeadingSpace: false)
                if Self.isComment(next) { continue }
                if continued.trimmingLeadingGoSpace().isEmpty {
                    hasEmptyContinuationLine = true
                    continue
                }
                let (piece, complete) = trimContinuation(continued)
                logical += piece
                isComplete = complete
            }
            if hasEmptyContinuationLine {
                warnings.append(ParseWarning(message: "Empty continuation line found in: \(logical.string)",
                                             line: lineNumber))
            }

            var instruction = try makeInstruction(logical, startLine: startLine)
            if Self.canHaveHeredocs(instruction), logical.contains("<", "<") {
                instruction.heredocs = try readHeredocs(announcedBy: logical.string, startLine: startLine)
            }
            instruction.endLine = lineNumber
            instructions.append(instruction)
        }
        guard !instructions.isEmpty else {
            throw DockerfileError(.noInstructions, "file with no instructions")
        }
        return Dockerfile(directives: directives.directives, instructions: instructions,
                          escape: directives.escape, warnings: warnings)
    }

    // MARK: Lines

    /// Splits at `\n`, keeping each line's newline (a final line may have none).
    private static func splitLines(_ text: String) -> [Scalars] {
        var lines: [Scalars] = []
        var current = Scalars()
        for scalar in text.unicodeScalars {
            current.append(scalar)
            if scalar == "\n" {
                lines.append(current)
                current = []
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    private mutating func readLine() -> Scalars? {
        guard nextLine < lines.count else { return nil }
        defer {
            nextLine += 1
            lineNumber += 1
        }
        return lines[nextLine]
    }

    private static func isComment(_ line: Scalars) -> Bool {
        line.trimmingLeadingGoSpace().first == "#"
    }

    /// Removes the newline (and, for a first line, leading blanks), lets the directive
    /// parser look at it, and turns comment lines into empty ones.
    private mutating func process(_ line: Scalars, stripLeadingSpace: Bool) throws(DockerfileError) -> Scalars {
        var text = line.trimmingNewlines()
        if stripLeadingSpace { text = text.trimmingLeadingGoSpace() }
        _ = try directives.consider(text, lineNumber: lineNumber)
        return Self.isComment(text) ? [] : text
    }

    /// A line whose last non-blank character is an unescaped escape character continues on
    /// the next line: returns the line without it, and whether the line is complete.
    private func trimContinuation(_ line: Scalars) -> (Scalars, Bool) {
        var end = line.count
        while end > 0, line[end - 1] == " " || line[end - 1] == "\t" { end -= 1 }
        guard end > 0, line[end - 1] == directives.escape else { return (line, true) }
        if end >= 2, line[end - 2] == directives.escape { return (line, true) }
        return (Array(line[..<(end - 1)]), false)
    }

    // MARK: Instructions

    private func makeInstruction(_ line: Scalars, startLine: Int) throws(DockerfileError) -> Instruction {
        let parts = CommandSplitter(escape: directives.escape).split(line)
        let keyword = parts.keyword.lowercased()
        guard let rule = ArgumentParser.rules[keyword] else {
            throw Self.unknownInstruction(parts.keyword, line: startLine)
        }
        var instruction = Instruction(keyword: keyword, flags: parts.flags, startLine: startLine,
                                      endLine: startLine, original: line.string)
        if rule == .subcommand {
            if !parts.rest.isEmpty {
                instruction.trigger = try makeInstruction(parts.rest, startLine: startLine)
            }
            return instruction
        }
        let parsed = try ArgumentParser(escape: directives.escape)
            .parse(parts.rest, rule: rule, keyword: parts.keyword, line: startLine)
        instruction.arguments = parsed.arguments
        instruction.isJSONForm = parsed.isJSONForm
        return instruction
    }

    static func unknownInstruction(_ keyword: String, line: Int) -> DockerfileError {
        var message = "unknown instruction: \(keyword)"
        let known = ArgumentParser.rules.keys.map { $0.uppercased() }
        if let suggestion = Suggestion.closest(to: keyword.uppercased(), among: known) {
            message += " (did you mean \(suggestion)?)"
        }
        return DockerfileError(.unknownInstruction, message, line: line)
    }

    /// RUN, COPY and ADD in shell form (also as an ONBUILD trigger) may carry heredocs.
    private static func canHaveHeredocs(_ instruction: Instruction) -> Bool {
        let target = instruction.keyword == "onbuild" ? instruction.trigger : instruction
        guard let target else { return false }
        return ["run", "copy", "add"].contains(target.keyword) && !target.isJSONForm
    }

    /// Reads the body of every heredoc the line announces, in order.
    private mutating func readHeredocs(announcedBy line: String,
                                       startLine: Int) throws(DockerfileError) -> [Heredoc] {
        var heredocs = try HeredocMarker.heredocs(onLine: line)
        for index in heredocs.indices {
            let terminator = Array(heredocs[index].name.unicodeScalars)
            var content = String.UnicodeScalarView()
            var terminated = false
            while let raw = readLine() {
                var candidate = raw.trimmingNewlines()
                if heredocs[index].chomp {
                    candidate = Array(candidate.drop(while: { $0 == "\t" }))
                }
                if candidate == terminator {
                    terminated = true
                    break
                }
                content.append(contentsOf: raw)
            }
            guard terminated else {
                throw DockerfileError(.unterminatedHeredoc,
                                      "unterminated heredoc \(heredocs[index].name) (add a line holding only "
                                      + "\(heredocs[index].name) to end it)", line: startLine)
            }
            heredocs[index].content = String(content)
        }
        return heredocs
    }
}
