import Foundation

// Splits a template into text and action tokens as Go's text/template/parse/lex.go
// does, including `{{-`/`-}}` trimming and comments.

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
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "_") || byte >= 0x80
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

        func starts(with text: StaticString, at offset: Int) -> Bool {
            let count = text.utf8CodeUnitCount
            guard offset >= 0, offset + count <= source.count else { return false }
            return text.withUTF8Buffer { source[offset..<offset + count].elementsEqual($0) }
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
            else if lower.count > 1, lower.hasPrefix("0"), lower.allSatisfy(\.isNumber) {
                radix = 8
                digits = digits.dropFirst()
            }
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
                guard position + count <= source.count,
                    let value = UInt32(text(position..<position + count), radix: 16),
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
