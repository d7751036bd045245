/// One expansion in progress: walks the word a character at a time, the way BuildKit's
/// `shellWord` does, and records which variables it looked up.
struct ShellWordScanner {
    let lexer: ShellLexer
    let environment: [String: String]
    let input: Scalars
    private var position = 0
    private var keepsEscapes: Bool
    private(set) var usedVariables: Set<String> = []
    private(set) var unsetVariables: Set<String> = []

    init(lexer: ShellLexer, environment: [String: String], input: Scalars) {
        self.lexer = lexer
        self.environment = environment
        self.input = input
        self.keepsEscapes = lexer.keepsEscapes
    }

    private var escape: Unicode.Scalar { lexer.escape }

    private func peek() -> Unicode.Scalar? {
        position < input.count ? input[position] : nil
    }

    @discardableResult
    private mutating func next() -> Unicode.Scalar? {
        guard position < input.count else { return nil }
        defer { position += 1 }
        return input[position]
    }

    /// Processes up to `stop` (consumed) or the end of the input when `stop` is nil.
    mutating func process(stoppingAt stop: Unicode.Scalar?,
                          keepingEscapes: Bool) throws(ShellFailure) -> (String, [String]) {
        let savedKeepsEscapes = keepsEscapes
        keepsEscapes = keepingEscapes
        defer { keepsEscapes = savedKeepsEscapes }

        var result = String.UnicodeScalarView()
        var words = ShellWords()
        while let scalar = peek() {
            if let stop, scalar == stop {
                next()
                return (String(result), words.finish())
            }
            switch scalar {
            case "$":
                let text = try dollar()
                result.append(contentsOf: text.unicodeScalars)
                words.add(text)
            case "<":
                let text = possibleHeredoc()
                result.append(contentsOf: text.unicodeScalars)
                words.addRaw(text)
            case "'" where !lexer.ignoresQuotes:
                let text = try singleQuoted()
                result.append(contentsOf: text.unicodeScalars)
                words.addRaw(text)
            case "\"" where !lexer.ignoresQuotes:
                let text = try doubleQuoted()
                result.append(contentsOf: text.unicodeScalars)
                words.addRaw(text)
            default:
                next()
                var character = scalar
                if scalar == escape {
                    if keepsEscapes {
                        words.addRaw(scalar)
                        result.append(scalar)
                    }
                    // The escape character escapes the next one; at the end it is dropped.
                    guard let escaped = next() else { break }
                    character = escaped
                    words.addRaw(character)
                } else {
                    words.add(character)
                }
                result.append(character)
            }
        }
        if let stop {
            throw ShellFailure("unexpected end of statement while looking for matching \(stop)")
        }
        return (String(result), words.finish())
    }

    /// `'...'`: everything literal up to the next single quote; nothing escapes.
    private mutating func singleQuoted() throws(ShellFailure) -> String {
        var result = String.UnicodeScalarView()
        next()
        if lexer.keepsQuotes { result.append("'") }
        while true {
            guard let scalar = next() else {
                throw ShellFailure("unexpected end of statement while looking for matching single-quote")
            }
            if scalar == "'" {
                if lexer.keepsQuotes { result.append(scalar) }
                return String(result)
            }
            result.append(scalar)
        }
    }

    /// `"..."`: variables expand; the escape character escapes only `"`, `$` and itself.
    private mutating func doubleQuoted() throws(ShellFailure) -> String {
        var result = String.UnicodeScalarView()
        next()
        if lexer.keepsQuotes { result.append("\"") }
        while true {
            guard let scalar = peek() else {
                throw ShellFailure("unexpected end of statement while looking for matching double-quote")
            }
            if scalar == "\"" {
                next()
                if lexer.keepsQuotes { result.append(scalar) }
                return String(result)
            }
            if scalar == "$" {
                result.append(contentsOf: try dollar().unicodeScalars)
                continue
            }
            next()
            var character = scalar
            if scalar == escape {
                if keepsEscapes { result.append(scalar) }
                guard let following = peek() else { continue }
                if following == "\"" || following == "$" || following == escape {
                    next()
                    character = following
                }
            }
            result.append(character)
        }
    }

    /// `<` or `<<` followed by blanks, kept together so that `<< EOF` stays one word.
    private mutating func possibleHeredoc() -> String {
        next()
        guard peek() == "<" else { return "<" }
        next()
        var result = "<<"
        while let scalar = peek(), scalar == " " || scalar == "\t" || scalar == "\r" {
            result.unicodeScalars.append(scalar)
            next()
        }
        return result
    }

    /// A variable name: letters, digits and `_`; or all digits (positional); or one special
    /// parameter character (`@ * # ? - $ ! 0`), which is never set in a Dockerfile.
    private mutating func name() -> String {
        var name = String.UnicodeScalarView()
        while let scalar = peek() {
            if name.isEmpty && scalar.isGoDigit {
                while let digit = peek(), digit.isGoDigit {
                    name.append(digit)
                    next()
                }
                return String(name)
            }
            if name.isEmpty && Self.isSpecialParameter(scalar) {
                next()
                return String(scalar)
            }
            guard scalar.isGoLetter || scalar.isGoDigit || scalar == "_" else { break }
            name.append(scalar)
            next()
        }
        return String(name)
    }

    private static func isSpecialParameter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "@", "*", "#", "?", "-", "$", "!", "0": true
        default: false
        }
    }

    private mutating func lookUp(_ name: String) -> String? {
        if let value = environment[name] {
            usedVariables.insert(name)
            return value
        }
        unsetVariables.insert(name)
        return nil
    }

    /// `$NAME` or `${...}`, the `$` not yet consumed.
    private mutating func dollar() throws(ShellFailure) -> String {
        next()
        guard peek() == "{" else {
            let name = name()
            if name.isEmpty { return "$" }
            guard let value = lookUp(name) else { return lexer.keepsUnsetVariables ? "$" + name : "" }
            return value
        }
        next()
        switch peek() {
        case nil: throw ShellFailure("syntax error: missing '}'")
        case "{", "}", ":": throw ShellFailure("syntax error: bad substitution")
        default: break
        }
        let name = name()
        guard let modifier = next() else { throw ShellFailure("syntax error: missing '}'") }
        switch modifier {
        case "}":
            guard let value = lookUp(name) else { return lexer.keepsUnsetVariables ? "${\(name)}" : "" }
            return value
        case ":", "+", "-", "?", "#", "%":
            return try conditional(name: name, first: modifier)
        case "/":
            return try substitution(name: name)
        default:
            throw ShellFailure("unsupported modifier (\(modifier)) in substitution")
        }
    }

    /// `${NAME:-word}`, `${NAME+word}`, `${NAME:?message}`, `${NAME#pattern}`, ...
    private mutating func conditional(name: String, first: Unicode.Scalar) throws(ShellFailure) -> String {
        var modifier = first
        var spelled = String(first)
        let nullIsUnset = first == ":"
        if nullIsUnset {
            guard let second = next() else { throw ShellFailure("syntax error: missing '}'") }
            modifier = second
            spelled.unicodeScalars.append(second)
        }
        let isPatternTrim = modifier == "#" || modifier == "%"
        if nullIsUnset && isPatternTrim {
            throw ShellFailure("unsupported modifier (\(spelled)) in substitution")
        }
        var word: String
        do throws(ShellFailure) {
            (word, _) = try process(stoppingAt: "}", keepingEscapes: isPatternTrim)
        } catch {
            if peek() == nil { throw ShellFailure("syntax error: missing '}'") }
            throw error
        }

        let value = lookUp(name)
        if lexer.keepsUnsetVariables && value == nil {
            return "${\(name)\(spelled)\(word)}"
        }
        let isUnset = value == nil || (nullIsUnset && value == "")
        switch modifier {
        case "-":
            return isUnset ? word : (value ?? "")
        case "+":
            return isUnset ? "" : word
        case "?":
            guard let value else {
                throw ShellFailure("\(name): \(word.isEmpty ? "is not allowed to be unset" : word)")
            }
            if nullIsUnset && value.isEmpty {
                throw ShellFailure("\(name): \(word.isEmpty ? "is not allowed to be empty" : word)")
            }
            return value
        case "#", "%":
            // A doubled `##` / `%%` removes the longest match, a single one the shortest.
            var greedy = false
            if word.unicodeScalars.first == modifier {
                greedy = true
                word = String(word.unicodeScalars.dropFirst())
            }
            let pattern = try ShellPattern(word)
            let scalars = Array((value ?? "").unicodeScalars)
            let trimmed = modifier == "#"
                ? pattern.removingPrefix(of: scalars, longest: greedy)
                : pattern.removingSuffix(of: scalars, longest: greedy)
            return trimmed.string
        default:
            throw ShellFailure("unsupported modifier (\(spelled)) in substitution")
        }
    }

    /// `${NAME/pattern/replacement}` and `${NAME//pattern/replacement}`.
    private mutating func substitution(name: String) throws(ShellFailure) -> String {
        let replaceAll = peek() == "/"
        if replaceAll { next() }
        let pattern: String
        do throws(ShellFailure) {
            (pattern, _) = try process(stoppingAt: "/", keepingEscapes: true)
        } catch {
            if peek() == nil { throw ShellFailure("syntax error: missing '/' in ${}") }
            throw error
        }
        let replacement: String
        do throws(ShellFailure) {
            (replacement, _) = try process(stoppingAt: "}", keepingEscapes: true)
        } catch {
            if peek() == nil { throw ShellFailure("syntax error: missing '}'") }
            throw error
        }
        let value = lookUp(name)
        if lexer.keepsUnsetVariables && value == nil {
            return "${\(name)/\(pattern)/\(replacement)}"
        }
        let compiled = try ShellPattern(pattern)
        let scalars = Array((value ?? "").unicodeScalars)
        return compiled.replacing(in: scalars, with: Array(replacement.unicodeScalars), all: replaceAll).string
    }
}
