import Foundation

extension JSONValue {
    /// Why a JSON document could not be read, with the byte offset where reading stopped.
    struct ParseError: Error, Equatable, CustomStringConvertible {
        let offset: Int
        let message: String

        var description: String { "invalid JSON at byte \(offset): \(message)" }
    }

    /// Parses one JSON document (RFC 8259), keeping object members in source order.
    ///
    /// Written by hand because Foundation's parsers return unordered dictionaries.
    /// Invalid UTF-8 and unpaired `\u` surrogates become U+FFFD, as Go's decoder does.
    static func parse(_ bytes: [UInt8]) throws(ParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        return try parser.parseDocument()
    }

    /// Parses a top-level array of objects (an Engine API list) keeping only the named members
    /// of each object: the others are checked as JSON but never built. `ps -a` with 1,000
    /// containers needs 7 of each container's 14 members, and the labels it skips are the
    /// largest part of the answer. Any other document is parsed whole.
    static func parse(_ bytes: [UInt8], keepingMembers members: [String]) throws(ParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.keptMembers = members
        return try parser.parseDocument()
    }

    /// Parses a JSON document given as text.
    static func parse(_ text: String) throws(ParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }
}

/// A recursive-descent reader over the bytes of one document.
private struct JSONParser {
    /// Deeper documents are refused rather than risking the stack of a small thread.
    static let maximumDepth = 256

    let bytes: [UInt8]
    var index = 0
    /// Of each object in a top-level array, the members to build; nil builds all.
    var keptMembers: [String]?
    /// Set while reading a value that is checked but not kept: strings, objects and arrays
    /// are then not built.
    var discarding = false

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws(JSONValue.ParseError) -> JSONValue {
        skipWhitespace()
        if index < bytes.count, bytes[index] != UInt8(ascii: "[") { keptMembers = nil }
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if index < bytes.count {
            throw error("invalid character \(describe(bytes[index])) after top-level value")
        }
        return value
    }

    func error(_ message: String) -> JSONValue.ParseError {
        JSONValue.ParseError(offset: index, message: message)
    }

    func describe(_ byte: UInt8) -> String {
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return String(format: "0x%02x", byte)
    }

    var endOfInput: JSONValue.ParseError { error("unexpected end of JSON input") }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        guard index < bytes.count else { throw endOfInput }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default:
            throw error("invalid character \(describe(bytes[index])) looking for beginning of value")
        }
    }

    mutating func expectWord(_ word: StaticString) throws(JSONValue.ParseError) {
        var offset = 0
        while offset < word.utf8CodeUnitCount {
            guard index < bytes.count else { throw endOfInput }
            let expected = word.utf8Start[offset]
            if bytes[index] != expected {
                let wanted = Character(Unicode.Scalar(expected))
                throw error("invalid character \(describe(bytes[index])) in literal \(word) (expecting '\(wanted)')")
            }
            index += 1
            offset += 1
        }
    }

    mutating func parseObject(depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        if depth > Self.maximumDepth { throw error("exceeded max depth of \(Self.maximumDepth)") }
        index += 1  // {
        var pairs: JSONValue.OrderedPairs = []
        skipWhitespace()
        guard index < bytes.count else { throw endOfInput }
        if bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(pairs)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw endOfInput }
            guard bytes[index] == UInt8(ascii: "\"") else {
                throw error("invalid character \(describe(bytes[index])) looking for beginning of object key string")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count else { throw endOfInput }
            guard bytes[index] == UInt8(ascii: ":") else {
                throw error("invalid character \(describe(bytes[index])) after object key")
            }
            index += 1
            skipWhitespace()
            if discarding {
                _ = try parseValue(depth: depth)
            } else if depth == 2, let keptMembers, !keptMembers.contains(key) {
                discarding = true
                _ = try parseValue(depth: depth)
                discarding = false
            } else {
                pairs.append((key, try parseValue(depth: depth)))
            }
            skipWhitespace()
            guard index < bytes.count else { throw endOfInput }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(pairs)
            default: throw error("invalid character \(describe(bytes[index])) after object key:value pair")
            }
        }
    }

    mutating func parseArray(depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        if depth > Self.maximumDepth { throw error("exceeded max depth of \(Self.maximumDepth)") }
        index += 1  // [
        var items: [JSONValue] = []
        skipWhitespace()
        guard index < bytes.count else { throw endOfInput }
        if bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            let item = try parseValue(depth: depth)
            if !discarding { items.append(item) }
            skipWhitespace()
            guard index < bytes.count else { throw endOfInput }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(items)
            default: throw error("invalid character \(describe(bytes[index])) after array element")
            }
        }
    }

    mutating func parseNumber() throws(JSONValue.ParseError) -> JSONValue {
        let start = index
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw endOfInput }
        guard isDigit(bytes[index]) else {
            throw error("invalid character \(describe(bytes[index])) in numeric literal")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        var isInteger = true
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count else { throw endOfInput }
            guard isDigit(bytes[index]) else {
                throw error("invalid character \(describe(bytes[index])) after decimal point in numeric literal")
            }
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            isInteger = false
            index += 1
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                index += 1
            }
            guard index < bytes.count else { throw endOfInput }
            guard isDigit(bytes[index]) else {
                throw error("invalid character \(describe(bytes[index])) in exponent of numeric literal")
            }
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        // "-0" stays a double so that it prints back as "-0".
        if isInteger, text != "-0", let exact = Int64(text) { return .int(exact) }
        guard let number = Double(text), number.isFinite else {
            throw JSONValue.ParseError(offset: start, message: "number \(text) out of range")
        }
        return .double(number)
    }

    mutating func parseString() throws(JSONValue.ParseError) -> String {
        index += 1  // opening quote
        var utf8: [UInt8] = []
        var runStart = index
        while true {
            // Most bytes are plain: skip them in one pass without bounds checks.
            index = bytes.withUnsafeBufferPointer { buffer in
                var position = index
                while position < buffer.count {
                    let byte = buffer[position]
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                    position += 1
                }
                return position
            }
            guard index < bytes.count else { throw endOfInput }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                if discarding { return "" }
                if utf8.isEmpty { return String(decoding: bytes[runStart..<index], as: UTF8.self) }
                utf8.append(contentsOf: bytes[runStart..<index])
                return String(decoding: utf8, as: UTF8.self)
            }
            if byte < 0x20 {
                throw error("invalid character \(describe(byte)) in string literal")
            }
            // A backslash.
            utf8.append(contentsOf: bytes[runStart..<index])
            index += 1
            guard index < bytes.count else { throw endOfInput }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                let scalar = try parseUnicodeEscape()
                utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                index -= 1
                throw error("invalid character \(describe(escape)) in string escape code")
            }
            runStart = index
        }
    }

    /// Reads the four hex digits after `\u` (and a following low surrogate escape when
    /// the first is a high surrogate); unpaired surrogates become U+FFFD.
    mutating func parseUnicodeEscape() throws(JSONValue.ParseError) -> Unicode.Scalar {
        let first = try readHex4()
        if (0xD800..<0xDC00).contains(first) {
            if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                let save = index
                index += 2
                let second = try readHex4()
                if (0xDC00..<0xE000).contains(second) {
                    let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    return Unicode.Scalar(combined) ?? "\u{FFFD}"
                }
                index = save  // not a pair: the second escape is read on its own
            }
            return "\u{FFFD}"
        }
        return Unicode.Scalar(first) ?? "\u{FFFD}"
    }

    mutating func readHex4() throws(JSONValue.ParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw endOfInput }
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid character \(describe(byte)) in \\u hexadecimal character escape")
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }
}
