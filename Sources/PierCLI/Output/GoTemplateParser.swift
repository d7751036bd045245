import Foundation

// The lexer and parser of GoTemplate. They follow the grammar of Go's
// text/template/parse (lex.go, parse.go) closely enough that templates written for
// docker parse the same way and malformed ones fail with the same messages.

/// One parsed piece of a template.
indirect enum TemplateNode: Sendable {
    case text(String)
    case action(TemplatePipeline)
    case ifBlock(TemplatePipeline, body: [TemplateNode], otherwise: [TemplateNode]?)
    case rangeBlock(TemplatePipeline, body: [TemplateNode], otherwise: [TemplateNode]?)
    case withBlock(TemplatePipeline, body: [TemplateNode], otherwise: [TemplateNode]?)
    case breakLoop
    case continueLoop
}

/// `[decl :=] command | command ...`
struct TemplatePipeline: Sendable {
    var declarations: [String] = []
    var isAssignment = false
    var commands: [TemplateCommand] = []
    var position: Int
}

struct TemplateCommand: Sendable {
    var arguments: [TemplateOperand]

    var position: Int { arguments.first?.position ?? 0 }
    var sourceText: String { arguments.map(\.sourceText).joined(separator: " ") }
}

/// An operand and its byte offset in the template (for error locations).
indirect enum TemplateOperand: Sendable {
    case dot(position: Int)
    case field([String], position: Int)
    case variable(String, fields: [String], position: Int)
    case function(String, position: Int)
    case string(String, source: String, position: Int)
    case number(JSONValue, source: String, position: Int)
    case bool(Bool, position: Int)
    case nilValue(position: Int)
    case pipeline(TemplatePipeline, position: Int)
    /// `(pipeline).Field` or `function.Field`.
    case chain(TemplateOperand, fields: [String], position: Int)

    var position: Int {
        switch self {
        case .dot(let position), .field(_, let position), .variable(_, _, let position),
            .function(_, let position), .string(_, _, let position), .number(_, _, let position),
            .bool(_, let position), .nilValue(let position), .pipeline(_, let position),
            .chain(_, _, let position):
            return position
        }
    }

    /// The operand as Go's `Node.String()` writes it, used in error contexts.
    var sourceText: String {
        switch self {
        case .dot: return "."
        case .field(let names, _): return names.map { "." + $0 }.joined()
        case .variable(let name, let fields, _): return name + fields.map { "." + $0 }.joined()
        case .function(let name, _): return name
        case .string(_, let source, _), .number(_, let source, _): return source
        case .bool(let flag, _): return flag ? "true" : "false"
        case .nilValue: return "nil"
        case .pipeline(let pipeline, _): return "(" + pipeline.sourceText + ")"
        case .chain(let base, let fields, _): return base.sourceText + fields.map { "." + $0 }.joined()
        }
    }
}

extension TemplatePipeline {
    var sourceText: String {
        var text = ""
        if !declarations.isEmpty {
            text = declarations.joined(separator: ", ") + (isAssignment ? " = " : " := ")
        }
        return text + commands.map(\.sourceText).joined(separator: " | ")
    }
}

/// Functions a template may name; anything else fails at parse time, as in Go.
enum TemplateFunctionName {
    static let supported: Set<String> = [
        "json", "split", "join", "title", "lower", "upper", "pad", "truncate",
        "and", "or", "not", "len", "index", "slice", "print", "printf", "println",
        "eq", "ne", "lt", "le", "gt", "ge",
    ]
    /// Go built-ins that parse but that Pier does not evaluate.
    static let unsupported: Set<String> = ["html", "js", "urlquery", "call"]
}

struct TemplateToken: Sendable {
    enum Kind: Equatable, Sendable {
        case text, leftDelimiter, rightDelimiter
        case field, dot, variable, identifier, keyword
        case string, number, bool, nilValue
        case leftParen, rightParen, pipe, comma, declare, assign
        case eof
    }

    var kind: Kind
    /// Source text (for `text`, the trimmed literal text; for `string`, the decoded value).
    var text: String
    var source: String
    var position: Int
    var line: Int
    var spaceBefore: Bool
    var numberValue: JSONValue = .null

    /// The token as Go's `item.String()` quotes it in "unexpected ..." errors.
    var quoted: String {
        switch kind {
        case .eof: return "EOF"
        case .keyword: return "<\(source)>"
        case .rightDelimiter: return "<\(source)>"
        default:
            if source.unicodeScalars.count > 10 {
                return goQuote(String(String.UnicodeScalarView(source.unicodeScalars.prefix(10)))) + "..."
            }
            return goQuote(source)
        }
    }
}

/// `strconv.Quote`, enough for error messages.
func goQuote(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += String(format: "\\x%02x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

// MARK: - Lexer

enum TemplateLexer {
    static func tokens(of source: [UInt8]) throws(TemplateError) -> [TemplateToken] {
        var lexer = Lexer(source: source)
        try lexer.run()
        return lexer.tokens
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_") || byte >= 0x80
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private struct Lexer {
        let source: [UInt8]
        var position = 0
        var line = 1
        var tokens: [TemplateToken] = []
        var trimNextText = false
        var parenDepth = 0
        var spaceBefore = false

        init(source: [UInt8]) { self.source = source }

        func starts(with text: String, at offset: Int) -> Bool {
            let bytes = Array(text.utf8)
            guard offset + bytes.count <= source.count else { return false }
            return source[offset..<offset + bytes.count].elementsEqual(bytes)
        }

        func lineNumber(at offset: Int) -> Int {
            1 + source[0..<min(offset, source.count)].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        }

        func error(_ message: String, at offset: Int) -> TemplateError {
            TemplateError(phase: .parse, message: "template: :\(lineNumber(at: offset)): \(message)")
        }

        func text(_ range: Range<Int>) -> String {
            String(decoding: source[range], as: UTF8.self)
        }

        mutating func emit(_ kind: TemplateToken.Kind, from start: Int, text value: String? = nil) {
            let raw = text(start..<position)
            tokens.append(TemplateToken(
                kind: kind, text: value ?? raw, source: raw, position: start,
                line: lineNumber(at: start), spaceBefore: spaceBefore))
            spaceBefore = false
        }

        mutating func run() throws(TemplateError) {
            while position < source.count {
                var open = position
                while open < source.count && !starts(with: "{{", at: open) { open += 1 }
                let leftTrim = starts(with: "{{-", at: open) && open + 3 < source.count && isSpace(source[open + 3])
                var textEnd = open
                var textStart = position
                if trimNextText {
                    while textStart < textEnd && isSpace(source[textStart]) { textStart += 1 }
                }
                if leftTrim {
                    while textEnd > textStart && isSpace(source[textEnd - 1]) { textEnd -= 1 }
                }
                if textStart < textEnd {
                    tokens.append(TemplateToken(
                        kind: .text, text: text(textStart..<textEnd), source: text(textStart..<textEnd),
                        position: textStart, line: lineNumber(at: textStart), spaceBefore: false))
                }
                trimNextText = false
                guard open < source.count else { position = open; break }
                position = open + (leftTrim ? 4 : 2)
                if starts(with: "/*", at: position) {
                    try lexComment(delimiterAt: open)
                    continue
                }
                let delimiter = TemplateToken(
                    kind: .leftDelimiter, text: "{{", source: "{{", position: open,
                    line: lineNumber(at: open), spaceBefore: false)
                tokens.append(delimiter)
                try lexAction(startedAt: open)
            }
            tokens.append(TemplateToken(
                kind: .eof, text: "", source: "", position: source.count, line: lineNumber(at: source.count),
                spaceBefore: false))
        }

        mutating func lexComment(delimiterAt open: Int) throws(TemplateError) {
            var close = position + 2
            while close < source.count && !starts(with: "*/", at: close) { close += 1 }
            guard close < source.count else { throw error("unclosed comment", at: open) }
            position = close + 2
            if position < source.count, isSpace(source[position]), starts(with: "-}}", at: position + 1) {
                position += 4
                trimNextText = true
            } else if starts(with: "}}", at: position) {
                position += 2
            } else {
                throw error("comment ends before closing delimiter", at: open)
            }
        }

        mutating func lexAction(startedAt open: Int) throws(TemplateError) {
            parenDepth = 0
            spaceBefore = false
            while true {
                guard position < source.count else { throw error("unclosed action", at: open) }
                let byte = source[position]
                if isSpace(byte) {
                    if starts(with: "-}}", at: position + 1) {
                        try closeAction(at: position, width: 4, trim: true, open: open)
                        return
                    }
                    position += 1
                    spaceBefore = true
                    continue
                }
                if starts(with: "}}", at: position) {
                    try closeAction(at: position, width: 2, trim: false, open: open)
                    return
                }
                let start = position
                switch byte {
                case UInt8(ascii: "|"):
                    position += 1
                    emit(.pipe, from: start)
                case UInt8(ascii: "("):
                    position += 1
                    parenDepth += 1
                    emit(.leftParen, from: start)
                case UInt8(ascii: ")"):
                    position += 1
                    parenDepth -= 1
                    if parenDepth < 0 { throw error("unexpected right paren U+0029 ')'", at: start) }
                    emit(.rightParen, from: start)
                case UInt8(ascii: ","):
                    position += 1
                    emit(.comma, from: start)
                case UInt8(ascii: ":"):
                    guard starts(with: ":=", at: position) else { throw error("expected :=", at: start) }
                    position += 2
                    emit(.declare, from: start)
                case UInt8(ascii: "="):
                    position += 1
                    emit(.assign, from: start)
                case UInt8(ascii: "\""):
                    try lexQuoted(start: start)
                case UInt8(ascii: "`"):
                    position += 1
                    while position < source.count && source[position] != UInt8(ascii: "`") { position += 1 }
                    guard position < source.count else { throw error("unterminated raw quoted string", at: start) }
                    position += 1
                    emit(.string, from: start, text: text(start + 1..<position - 1))
                case UInt8(ascii: "'"):
                    try lexCharConstant(start: start)
                case UInt8(ascii: "$"):
                    position += 1
                    while position < source.count && isAlphanumeric(source[position]) { position += 1 }
                    try checkTerminator()
                    emit(.variable, from: start)
                case UInt8(ascii: "."):
                    if position + 1 < source.count && isDigit(source[position + 1]) {
                        try lexNumber(start: start)
                    } else {
                        position += 1
                        if position < source.count && isAlphanumeric(source[position]) {
                            while position < source.count && isAlphanumeric(source[position]) { position += 1 }
                            try checkTerminator()
                            emit(.field, from: start)
                        } else {
                            emit(.dot, from: start)
                        }
                    }
                case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    try lexNumber(start: start)
                default:
                    guard isAlphanumeric(byte) else {
                        throw error("unrecognized character in action: \(describe(at: start))", at: start)
                    }
                    while position < source.count && isAlphanumeric(source[position]) { position += 1 }
                    try checkTerminator()
                    let word = text(start..<position)
                    switch word {
                    case "true", "false": emit(.bool, from: start)
                    case "nil": emit(.nilValue, from: start)
                    case "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue":
                        emit(.keyword, from: start)
                    default: emit(.identifier, from: start)
                    }
                }
            }
        }

        mutating func closeAction(at offset: Int, width: Int, trim: Bool, open: Int) throws(TemplateError) {
            if parenDepth > 0 { throw error("unclosed left paren", at: offset) }
            position = offset + width
            tokens.append(TemplateToken(
                kind: .rightDelimiter, text: "}}", source: "}}", position: offset + width - 2,
                line: lineNumber(at: offset), spaceBefore: spaceBefore))
            spaceBefore = false
            trimNextText = trim
        }

        /// `U+0023 '#'`, as Go's `%#U` prints a rune.
        func describe(at offset: Int) -> String {
            let rest = String(decoding: source[offset..<min(offset + 4, source.count)], as: UTF8.self)
            let scalar = rest.unicodeScalars.first ?? "\u{FFFD}"
            return String(format: "U+%04X", scalar.value) + " '\(String(scalar))'"
        }

        /// Identifiers, fields and variables must be followed by a space, a delimiter
        /// or punctuation (Go's `atTerminator`).
        func checkTerminator() throws(TemplateError) {
            guard position < source.count else { return }
            let byte = source[position]
            if isSpace(byte) || starts(with: "}}", at: position) { return }
            switch byte {
            case UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: "|"), UInt8(ascii: ":"),
                UInt8(ascii: ")"), UInt8(ascii: "("):
                return
            default:
                throw error("bad character \(describe(at: position))", at: position)
            }
        }

        mutating func lexNumber(start: Int) throws(TemplateError) {
            if source[position] == UInt8(ascii: "+") || source[position] == UInt8(ascii: "-") { position += 1 }
            while position < source.count {
                let byte = source[position]
                if isAlphanumeric(byte) || byte == UInt8(ascii: ".") {
                    position += 1
                } else if (byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")),
                    let previous = source[..<position].last,
                    [UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "p"), UInt8(ascii: "P")].contains(previous)
                {
                    position += 1
                } else {
                    break
                }
            }
            let literal = text(start..<position)
            guard let value = Self.numberValue(literal) else {
                throw error("bad number syntax: \(goQuote(literal))", at: start)
            }
            emit(.number, from: start)
            tokens[tokens.count - 1].numberValue = value
        }

        static func numberValue(_ literal: String) -> JSONValue? {
            var body = Substring(literal.replacingOccurrences(of: "_", with: ""))
            var negative = false
            if body.hasPrefix("+") || body.hasPrefix("-") {
                negative = body.hasPrefix("-")
                body = body.dropFirst()
            }
            guard let first = body.first, first.isNumber || first == "." else { return nil }
            let lower = body.lowercased()
            var radix = 10
            var digits = Substring(lower)
            if lower.hasPrefix("0x") { radix = 16; digits = digits.dropFirst(2) }
            else if lower.hasPrefix("0o") { radix = 8; digits = digits.dropFirst(2) }
            else if lower.hasPrefix("0b") { radix = 2; digits = digits.dropFirst(2) }
            else if lower.count > 1, lower.hasPrefix("0"), lower.allSatisfy(\.isNumber) { radix = 8; digits = digits.dropFirst() }
            if let magnitude = Int64(digits, radix: radix) {
                return .int(negative ? -magnitude : magnitude)
            }
            if radix == 10 || radix == 8, !lower.contains("x"), let number = Double(lower), number.isFinite {
                return .double(negative ? -number : number)
            }
            return nil
        }

        mutating func lexQuoted(start: Int) throws(TemplateError) {
            position += 1
            var value = ""
            while true {
                guard position < source.count, source[position] != 0x0A else {
                    throw error("unterminated quoted string", at: start)
                }
                let byte = source[position]
                if byte == UInt8(ascii: "\"") { position += 1; break }
                if byte == UInt8(ascii: "\\") {
                    value.unicodeScalars.append(try decodeEscape(start: start, quote: UInt8(ascii: "\"")))
                    continue
                }
                var end = position + 1
                while end < source.count, source[end] >= 0x80, source[end] < 0xC0 { end += 1 }
                value += text(position..<end)
                position = end
            }
            emit(.string, from: start, text: value)
        }

        mutating func lexCharConstant(start: Int) throws(TemplateError) {
            position += 1
            var scalar: Unicode.Scalar
            guard position < source.count, source[position] != 0x0A, source[position] != UInt8(ascii: "'") else {
                throw error("unterminated character constant", at: start)
            }
            if source[position] == UInt8(ascii: "\\") {
                scalar = try decodeEscape(start: start, quote: UInt8(ascii: "'"))
            } else {
                var end = position + 1
                while end < source.count, source[end] >= 0x80, source[end] < 0xC0 { end += 1 }
                scalar = text(position..<end).unicodeScalars.first ?? "\u{FFFD}"
                position = end
            }
            guard position < source.count, source[position] == UInt8(ascii: "'") else {
                throw error("unterminated character constant", at: start)
            }
            position += 1
            emit(.number, from: start)
            tokens[tokens.count - 1].numberValue = .int(Int64(scalar.value))
        }

        /// Decodes one backslash escape of a Go string or rune literal.
        mutating func decodeEscape(start: Int, quote: UInt8) throws(TemplateError) -> Unicode.Scalar {
            position += 1
            guard position < source.count else { throw error("unterminated quoted string", at: start) }
            let letter = source[position]
            position += 1
            func hex(_ count: Int) throws(TemplateError) -> Unicode.Scalar {
                guard position + count <= source.count, let value = UInt32(text(position..<position + count), radix: 16),
                    let scalar = Unicode.Scalar(value)
                else { throw error("invalid syntax", at: start) }
                position += count
                return scalar
            }
            switch letter {
            case UInt8(ascii: "a"): return "\u{07}"
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "v"): return "\u{0B}"
            case UInt8(ascii: "\\"): return "\\"
            case quote: return Unicode.Scalar(quote)
            case UInt8(ascii: "x"): return try hex(2)
            case UInt8(ascii: "u"): return try hex(4)
            case UInt8(ascii: "U"): return try hex(8)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                position -= 1
                guard position + 3 <= source.count, let value = UInt32(text(position..<position + 3), radix: 8),
                    value < 256, let scalar = Unicode.Scalar(value)
                else { throw error("invalid syntax", at: start) }
                position += 3
                return scalar
            default:
                throw error("invalid syntax", at: start)
            }
        }
    }
}

// MARK: - Parser

struct TemplateParser {
    private var tokens: [TemplateToken]
    private var index = 0
    private var variables: [String] = ["$"]
    private var rangeDepth = 0

    init(tokens: [TemplateToken]) { self.tokens = tokens }

    private enum ListEnd {
        case eof
        case end
        case otherwise
        /// `{{else if` / `{{else with`: the keyword is left to be read.
        case otherwiseChain(String)
    }

    private func peek() -> TemplateToken { tokens[min(index, tokens.count - 1)] }

    private mutating func next() -> TemplateToken {
        let token = peek()
        if index < tokens.count { index += 1 }
        return token
    }

    private func error(_ message: String, at token: TemplateToken) -> TemplateError {
        TemplateError(phase: .parse, message: "template: :\(token.line): \(message)")
    }

    private func unexpected(_ token: TemplateToken, in context: String) -> TemplateError {
        error("unexpected \(token.quoted) in \(context)", at: token)
    }

    mutating func parseTemplate() throws(TemplateError) -> [TemplateNode] {
        var nodes: [TemplateNode] = []
        while true {
            let (list, end) = try parseList()
            nodes += list
            switch end {
            case .eof: return nodes
            case .end: throw error("unexpected {{end}}", at: tokens[max(index - 1, 0)])
            case .otherwise, .otherwiseChain: throw error("unexpected {{else}}", at: tokens[max(index - 1, 0)])
            }
        }
    }

    private mutating func parseList() throws(TemplateError) -> ([TemplateNode], ListEnd) {
        var nodes: [TemplateNode] = []
        while true {
            let token = next()
            switch token.kind {
            case .eof:
                index -= 1
                return (nodes, .eof)
            case .text:
                nodes.append(.text(token.text))
            case .leftDelimiter:
                if let end = try parseAction(into: &nodes) { return (nodes, end) }
            default:
                throw unexpected(token, in: "input")
            }
        }
    }

    /// Parses what follows `{{`; returns how a list ends when the action is `end` or `else`.
    private mutating func parseAction(into nodes: inout [TemplateNode]) throws(TemplateError) -> ListEnd? {
        let token = peek()
        if token.kind == .keyword {
            _ = next()
            switch token.source {
            case "if":
                nodes.append(try parseIf())
            case "range":
                nodes.append(try parseRange())
            case "with":
                nodes.append(try parseWith())
            case "end":
                try expectRightDelimiter(context: "end")
                return .end
            case "else":
                let following = peek()
                if following.kind == .keyword && (following.source == "if" || following.source == "with") {
                    return .otherwiseChain(following.source)
                }
                try expectRightDelimiter(context: "else")
                return .otherwise
            case "break", "continue":
                guard rangeDepth > 0 else { throw error("{{\(token.source)}} outside {{range}}", at: token) }
                try expectRightDelimiter(context: token.source)
                nodes.append(token.source == "break" ? .breakLoop : .continueLoop)
            default:
                throw error(
                    "{{\(token.source)}} is not supported in --format templates (define, template and block are not available)",
                    at: token)
            }
            return nil
        }
        nodes.append(.action(try parsePipeline(context: "command", end: .rightDelimiter)))
        return nil
    }

    private mutating func expectRightDelimiter(context: String) throws(TemplateError) {
        let token = next()
        guard token.kind == .rightDelimiter else { throw unexpected(token, in: context) }
    }

    private mutating func parseControl(
        context: String, chainKeyword: String?
    ) throws(TemplateError) -> (TemplatePipeline, [TemplateNode], [TemplateNode]?) {
        let savedVariables = variables
        defer { variables = savedVariables }
        let pipeline = try parsePipeline(context: context, end: .rightDelimiter)
        if context == "range" { rangeDepth += 1 }
        let (body, end) = try parseList()
        if context == "range" { rangeDepth -= 1 }
        switch end {
        case .eof:
            throw error("unexpected EOF", at: peek())
        case .end:
            return (pipeline, body, nil)
        case .otherwiseChain(let keyword):
            guard keyword == chainKeyword else { throw unexpected(peek(), in: "input") }
            _ = next()
            let nested = keyword == "if" ? try parseIf() : try parseWith()
            return (pipeline, body, [nested])
        case .otherwise:
            let (otherwise, otherwiseEnd) = try parseList()
            switch otherwiseEnd {
            case .end: return (pipeline, body, otherwise)
            case .eof: throw error("unexpected EOF", at: peek())
            case .otherwise, .otherwiseChain: throw error("expected end; found {{else}}", at: tokens[max(index - 1, 0)])
            }
        }
    }

    private mutating func parseIf() throws(TemplateError) -> TemplateNode {
        let (pipeline, body, otherwise) = try parseControl(context: "if", chainKeyword: "if")
        return .ifBlock(pipeline, body: body, otherwise: otherwise)
    }

    private mutating func parseRange() throws(TemplateError) -> TemplateNode {
        let (pipeline, body, otherwise) = try parseControl(context: "range", chainKeyword: nil)
        return .rangeBlock(pipeline, body: body, otherwise: otherwise)
    }

    private mutating func parseWith() throws(TemplateError) -> TemplateNode {
        let (pipeline, body, otherwise) = try parseControl(context: "with", chainKeyword: "with")
        return .withBlock(pipeline, body: body, otherwise: otherwise)
    }

    private mutating func parsePipeline(context: String, end: TemplateToken.Kind) throws(TemplateError) -> TemplatePipeline {
        var pipeline = TemplatePipeline(position: peek().position)
        declarations: while peek().kind == .variable, index + 1 < tokens.count {
            let variable = tokens[index]
            let after = tokens[index + 1]
            switch after.kind {
            case .declare, .assign:
                index += 2
                pipeline.isAssignment = after.kind == .assign
                pipeline.declarations.append(variable.source)
                variables.append(variable.source)
                break declarations
            case .comma:
                index += 2
                pipeline.declarations.append(variable.source)
                variables.append(variable.source)
                if context == "range" && pipeline.declarations.count < 2 {
                    switch peek().kind {
                    case .variable, .rightDelimiter, .rightParen: continue declarations
                    default: throw error("range can only initialize variables", at: peek())
                    }
                }
                throw error("too many declarations in \(context)", at: peek())
            default:
                break declarations
            }
        }
        while true {
            let token = peek()
            if token.kind == end {
                _ = next()
                if pipeline.commands.isEmpty { throw error("missing value for \(context)", at: token) }
                for (stage, command) in pipeline.commands.enumerated().dropFirst() {
                    switch command.arguments.first {
                    case .bool, .dot, .nilValue, .number, .string:
                        throw error("non executable command in pipeline stage \(stage + 1)", at: token)
                    default: break
                    }
                }
                return pipeline
            }
            switch token.kind {
            case .bool, .dot, .field, .identifier, .number, .nilValue, .string, .variable, .leftParen:
                pipeline.commands.append(try parseCommand())
            default:
                _ = next()
                throw unexpected(token, in: context)
            }
        }
    }

    private mutating func parseCommand() throws(TemplateError) -> TemplateCommand {
        var arguments: [TemplateOperand] = []
        while true {
            guard let operand = try parseOperand() else {
                let token = next()
                throw unexpected(token, in: "operand")
            }
            arguments.append(operand)
            let token = peek()
            if token.kind == .pipe {
                _ = next()
                break
            }
            if token.kind == .rightDelimiter || token.kind == .rightParen { break }
            guard token.spaceBefore else {
                _ = next()
                throw unexpected(token, in: "operand")
            }
        }
        guard let first = arguments.first else { throw error("empty command", at: peek()) }
        if case .nilValue = first, arguments.count == 1 { throw error("nil is not a command", at: peek()) }
        return TemplateCommand(arguments: arguments)
    }

    private mutating func parseOperand() throws(TemplateError) -> TemplateOperand? {
        guard let term = try parseTerm() else { return nil }
        var fields: [String] = []
        // Go places a chained operand (`.A.B`, `$x.A`) at its first chained field.
        let chainPosition = peek().position
        while peek().kind == .field && !peek().spaceBefore {
            fields.append(String(next().source.dropFirst()))
        }
        if fields.isEmpty { return term }
        switch term {
        case .field(let names, _):
            return .field(names + fields, position: chainPosition)
        case .variable(let name, let existing, _):
            return .variable(name, fields: existing + fields, position: chainPosition)
        case .bool, .string, .number, .nilValue, .dot:
            throw error("unexpected . after term \(goQuote(term.sourceText))", at: peek())
        default:
            return .chain(term, fields: fields, position: chainPosition)
        }
    }

    private mutating func parseTerm() throws(TemplateError) -> TemplateOperand? {
        let token = peek()
        switch token.kind {
        case .identifier:
            _ = next()
            guard TemplateFunctionName.supported.contains(token.source)
                || TemplateFunctionName.unsupported.contains(token.source)
            else { throw error("function \(goQuote(token.source)) not defined", at: token) }
            return .function(token.source, position: token.position)
        case .dot:
            _ = next()
            return .dot(position: token.position)
        case .nilValue:
            _ = next()
            return .nilValue(position: token.position)
        case .variable:
            _ = next()
            guard variables.contains(token.source) else {
                throw error("undefined variable \(goQuote(token.source))", at: token)
            }
            return .variable(token.source, fields: [], position: token.position)
        case .field:
            _ = next()
            return .field([String(token.source.dropFirst())], position: token.position)
        case .bool:
            _ = next()
            return .bool(token.source == "true", position: token.position)
        case .number:
            _ = next()
            return .number(token.numberValue, source: token.source, position: token.position)
        case .string:
            _ = next()
            return .string(token.text, source: token.source, position: token.position)
        case .leftParen:
            _ = next()
            let pipeline = try parsePipeline(context: "parenthesized pipeline", end: .rightParen)
            return .pipeline(pipeline, position: token.position)
        default:
            return nil
        }
    }
}
