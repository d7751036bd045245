/// The exec form of an instruction: `["executable", "arg"]`.
///
/// BuildKit decides between exec and shell form by asking Go's JSON decoder whether the
/// arguments are a JSON array. Anything that is not valid JSON falls back to shell form;
/// valid JSON that holds something other than strings is an error. This decoder follows
/// the JSON grammar exactly so that the fallback happens on the same inputs.
enum JSONStringArray {
    enum Outcome: Equatable {
        case strings([String])
        /// Valid JSON array, but an element is not a string (`[1]`, `[["nested"]]`).
        case notStrings
        /// Not a JSON array at all: the caller uses shell form.
        case notJSON
    }

    static func parse(_ text: Scalars) -> Outcome {
        let trimmed = text.trimmingLeadingGoSpace()
        guard trimmed.first == "[" else { return .notJSON }
        var reader = Reader(scalars: trimmed)
        guard let value = reader.parseValue() else { return .notJSON }
        reader.skipWhitespace()
        guard reader.atEnd else { return .notJSON }
        guard case .array(let elements) = value else { return .notJSON }
        var strings: [String] = []
        for element in elements {
            guard case .string(let string) = element else { return .notStrings }
            strings.append(string)
        }
        return .strings(strings)
    }

    private indirect enum Value {
        case string(String)
        case array([Value])
        case other
    }

    private struct Reader {
        let scalars: Scalars
        var position = 0

        var atEnd: Bool { position >= scalars.count }

        func peek() -> Unicode.Scalar? { atEnd ? nil : scalars[position] }

        mutating func skipWhitespace() {
            while let scalar = peek(), scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                position += 1
            }
        }

        mutating func parseValue() -> Value? {
            skipWhitespace()
            guard let scalar = peek() else { return nil }
            switch scalar {
            case "[": return parseArray()
            case "{": return parseObject() ? .other : nil
            case "\"": return parseString().map { .string($0) }
            case "t": return parseLiteral("true") ? .other : nil
            case "f": return parseLiteral("false") ? .other : nil
            case "n": return parseLiteral("null") ? .other : nil
            default: return parseNumber() ? .other : nil
            }
        }

        mutating func parseArray() -> Value? {
            position += 1
            var elements: [Value] = []
            skipWhitespace()
            if peek() == "]" {
                position += 1
                return .array(elements)
            }
            while true {
                guard let element = parseValue() else { return nil }
                elements.append(element)
                skipWhitespace()
                switch peek() {
                case ",": position += 1
                case "]": position += 1; return .array(elements)
                default: return nil
                }
            }
        }

        mutating func parseObject() -> Bool {
            position += 1
            skipWhitespace()
            if peek() == "}" {
                position += 1
                return true
            }
            while true {
                skipWhitespace()
                guard peek() == "\"", parseString() != nil else { return false }
                skipWhitespace()
                guard peek() == ":" else { return false }
                position += 1
                guard parseValue() != nil else { return false }
                skipWhitespace()
                switch peek() {
                case ",": position += 1
                case "}": position += 1; return true
                default: return false
                }
            }
        }

        mutating func parseLiteral(_ literal: String) -> Bool {
            for expected in literal.unicodeScalars {
                guard peek() == expected else { return false }
                position += 1
            }
            return true
        }

        mutating func parseNumber() -> Bool {
            if peek() == "-" { position += 1 }
            guard let first = peek(), first.isASCIIDigit else { return false }
            position += 1
            if first != "0" { skipDigits() }
            if peek() == "." {
                position += 1
                guard let digit = peek(), digit.isASCIIDigit else { return false }
                skipDigits()
            }
            if peek() == "e" || peek() == "E" {
                position += 1
                if peek() == "+" || peek() == "-" { position += 1 }
                guard let digit = peek(), digit.isASCIIDigit else { return false }
                skipDigits()
            }
            return true
        }

        mutating func skipDigits() {
            while let scalar = peek(), scalar.isASCIIDigit { position += 1 }
        }

        mutating func parseString() -> String? {
            position += 1
            var out = String.UnicodeScalarView()
            while let scalar = peek() {
                position += 1
                switch scalar {
                case "\"":
                    return String(out)
                case "\\":
                    guard let escaped = peek() else { return nil }
                    position += 1
                    switch escaped {
                    case "\"", "\\", "/": out.append(escaped)
                    case "b": out.append("\u{08}")
                    case "f": out.append("\u{0C}")
                    case "n": out.append("\n")
                    case "r": out.append("\r")
                    case "t": out.append("\t")
                    case "u":
                        guard let scalar = parseUnicodeEscape() else { return nil }
                        out.append(scalar)
                    default: return nil
                    }
                default:
                    guard scalar.value >= 0x20 else { return nil }
                    out.append(scalar)
                }
            }
            return nil
        }

        /// After `\u`: four hex digits, combining a surrogate pair when one follows
        /// (a lone surrogate becomes U+FFFD, as in Go).
        mutating func parseUnicodeEscape() -> Unicode.Scalar? {
            guard let high = parseHex4() else { return nil }
            if (0xD800..<0xDC00).contains(high) {
                let save = position
                if peek() == "\\" {
                    position += 1
                    if peek() == "u" {
                        position += 1
                        if let low = parseHex4(), (0xDC00..<0xE000).contains(low) {
                            let combined = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                            return Unicode.Scalar(combined)
                        }
                    }
                }
                position = save
                return "\u{FFFD}"
            }
            return Unicode.Scalar(high) ?? "\u{FFFD}"
        }

        mutating func parseHex4() -> UInt32? {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let scalar = peek(), let digit = hexValue(scalar) else { return nil }
                value = value * 16 + digit
                position += 1
            }
            return value
        }

        func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
            switch scalar {
            case "0"..."9": scalar.value - 48
            case "a"..."f": scalar.value - 97 + 10
            case "A"..."F": scalar.value - 65 + 10
            default: nil
            }
        }
    }
}
