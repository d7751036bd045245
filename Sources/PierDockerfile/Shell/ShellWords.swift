/// Collects the words of an expansion: characters that came from a variable are split at
/// whitespace; quoted text and escaped characters are kept whole.
struct ShellWords {
    private var buffer = String.UnicodeScalarView()
    private var words: [String] = []
    private var inWord = false

    mutating func add(_ scalar: Unicode.Scalar) {
        if scalar.isGoSpace {
            if inWord && !buffer.isEmpty {
                words.append(String(buffer))
                buffer = String.UnicodeScalarView()
                inWord = false
            }
        } else {
            addRaw(scalar)
        }
    }

    mutating func addRaw(_ scalar: Unicode.Scalar) {
        buffer.append(scalar)
        inWord = true
    }

    mutating func add(_ text: String) {
        for scalar in text.unicodeScalars { add(scalar) }
    }

    mutating func addRaw(_ text: String) {
        buffer.append(contentsOf: text.unicodeScalars)
        inWord = true
    }

    mutating func finish() -> [String] {
        if !buffer.isEmpty {
            words.append(String(buffer))
            buffer = String.UnicodeScalarView()
            inWord = false
        }
        return words
    }
}
