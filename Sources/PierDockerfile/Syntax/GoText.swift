// Character classes and string helpers with the exact meaning BuildKit's Go code gives them
// (unicode.IsSpace, unicode.IsLetter, strings.TrimSpace, the `[\t\v\f\r ]+` separator), so
// that the parser splits and trims the way the reference builder does.

typealias Scalars = [Unicode.Scalar]

extension Unicode.Scalar {
    /// Go's `unicode.IsSpace`: the Unicode White_Space property.
    var isGoSpace: Bool { properties.isWhitespace }

    /// Go's `unicode.IsLetter`: general category L.
    var isGoLetter: Bool {
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
        default: false
        }
    }

    /// Go's `unicode.IsDigit`: general category Nd.
    var isGoDigit: Bool { properties.generalCategory == .decimalNumber }

    /// Go's `unicode.IsPrint`: categories L, M, N, P, S and the ASCII space.
    var isGoPrint: Bool {
        if self == " " { return true }
        return switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark,
             .decimalNumber, .letterNumber, .otherNumber,
             .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation,
             .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            true
        default:
            false
        }
    }

    /// The separator class BuildKit splits instructions with: `[\t\v\f\r ]`.
    var isInstructionSeparator: Bool {
        self == " " || self == "\t" || self == "\u{0B}" || self == "\u{0C}" || self == "\r"
    }

    /// RE2's `\s`: `[\t\n\f\r ]`.
    var isRegexSpace: Bool {
        self == " " || self == "\t" || self == "\n" || self == "\u{0C}" || self == "\r"
    }

    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}

extension Array where Element == Unicode.Scalar {
    var string: String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: self)
        return String(view)
    }

    /// Go's `strings.TrimSpace`.
    func trimmingGoSpace() -> Scalars {
        guard let first = firstIndex(where: { !$0.isGoSpace }),
              let last = lastIndex(where: { !$0.isGoSpace }) else { return [] }
        return Array(self[first...last])
    }

    /// Go's `strings.TrimLeftFunc(s, unicode.IsSpace)`.
    func trimmingLeadingGoSpace() -> Scalars {
        guard let first = firstIndex(where: { !$0.isGoSpace }) else { return [] }
        return Array(self[first...])
    }

    /// `bytes.TrimRight(s, "\r\n")`.
    func trimmingNewlines() -> Scalars {
        var end = count
        while end > 0, self[end - 1] == "\n" || self[end - 1] == "\r" { end -= 1 }
        return Array(self[..<end])
    }

    /// Splits on runs of `[\t\v\f\r ]`, at most `limit` parts (Go's `regexp.Split(s, n)`).
    func splitOnSeparators(limit: Int = .max) -> [Scalars] {
        var parts: [Scalars] = []
        var current: Scalars = []
        var index = 0
        while index < count {
            if self[index].isInstructionSeparator, parts.count + 1 < limit {
                parts.append(current)
                current = []
                while index < count, self[index].isInstructionSeparator { index += 1 }
                continue
            }
            current.append(self[index])
            index += 1
        }
        parts.append(current)
        return parts
    }

    func contains(_ needle: Unicode.Scalar, _ next: Unicode.Scalar) -> Bool {
        guard count >= 2 else { return false }
        for index in 0..<(count - 1) where self[index] == needle && self[index + 1] == next {
            return true
        }
        return false
    }
}
