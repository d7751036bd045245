import Foundation

/// The functions a `--format` template can call: docker's (`templates.basicFunctions`
/// in docker/cli) and Go's built-ins. Arguments arrive already counted and, where the
/// Go signature says `string` or `int`, type-checked.
enum TemplateFunctions {
    struct Failure: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    static func call(_ name: String, _ arguments: [JSONValue]) throws(Failure) -> JSONValue {
        switch name {
        case "json":
            return .string(arguments[0].serialized(escapeHTML: false))
        case "split":
            return .array(split(string(arguments[0]), by: string(arguments[1])).map(JSONValue.string))
        case "join":
            return .string(try join(arguments[0], separator: string(arguments[1])))
        case "title":
            return .string(title(string(arguments[0])))
        case "lower":
            // İ is the one letter whose full lowercase mapping expands; Go maps it to i.
            return .string(mapScalars(string(arguments[0])) { $0 == "\u{130}" ? "i" : $0.properties.lowercaseMapping })
        case "upper":
            return .string(mapScalars(string(arguments[0])) { scalar in
                let full = scalar.properties.uppercaseMapping
                // Where the full mapping expands (ᾀ → ἈΙ), Go's one-rune mapping is the titlecase form (ᾈ).
                return full.unicodeScalars.count == 1 ? full : scalar.properties.titlecaseMapping
            })
        case "pad":
            return .string(try pad(string(arguments[0]), integer(arguments[1]), integer(arguments[2])))
        case "truncate":
            return .string(try truncateBytes(string(arguments[0]), integer(arguments[1])))
        case "len":
            return .int(try length(arguments[0]))
        case "index":
            return try index(arguments[0], Array(arguments.dropFirst()))
        case "slice":
            return try slice(arguments[0], Array(arguments.dropFirst()))
        case "print":
            return .string(sprint(arguments))
        case "println":
            return .string(arguments.map(TemplateExecution.formatted).joined(separator: " ") + "\n")
        case "printf":
            return .string(GoPrintf.format(string(arguments[0]), Array(arguments.dropFirst())))
        case "not":
            return .bool(!TemplateExecution.isTrue(arguments[0]))
        case "eq":
            guard arguments.count > 1 else { throw Failure("missing argument for comparison") }
            for other in arguments.dropFirst() {
                if try equal(arguments[0], other) { return .bool(true) }
            }
            return .bool(false)
        case "ne":
            return .bool(!(try equal(arguments[0], arguments[1])))
        case "lt":
            return .bool(try less(arguments[0], arguments[1]))
        case "le":
            let isLess = try less(arguments[0], arguments[1])
            let isEqual = try equal(arguments[0], arguments[1])
            return .bool(isLess || isEqual)
        case "gt":
            let isLess = try less(arguments[0], arguments[1])
            let isEqual = try equal(arguments[0], arguments[1])
            return .bool(!(isLess || isEqual))
        case "ge":
            return .bool(!(try less(arguments[0], arguments[1])))
        default:
            throw Failure("function \(goQuote(name)) is not supported in --format templates")
        }
    }

    private static func string(_ value: JSONValue) -> String {
        if case .string(let text) = value { return text }
        return TemplateExecution.formatted(value)
    }

    private static func integer(_ value: JSONValue) -> Int64 {
        switch value {
        case .int(let number): return number
        case .double(let number) where abs(number) < 1e15: return Int64(number)
        default: return 0
        }
    }

    /// `strings.Split`: an empty separator splits into characters (runes).
    static func split(_ text: String, by separator: String) -> [String] {
        if separator.isEmpty { return text.unicodeScalars.map { String($0) } }
        let bytes = Array(text.utf8)
        let separatorBytes = Array(separator.utf8)
        var parts: [String] = []
        var start = 0
        var cursor = 0
        while cursor + separatorBytes.count <= bytes.count {
            if bytes[cursor..<cursor + separatorBytes.count].elementsEqual(separatorBytes) {
                parts.append(String(decoding: bytes[start..<cursor], as: UTF8.self))
                cursor += separatorBytes.count
                start = cursor
            } else {
                cursor += 1
            }
        }
        parts.append(String(decoding: bytes[start...], as: UTF8.self))
        return parts
    }

    /// docker's `joinElements`: slices join their printed elements; maps join their
    /// printed values, sorted; nil joins to "".
    static func join(_ elements: JSONValue, separator: String) throws(Failure) -> String {
        switch elements {
        case .null:
            return ""
        case .array(let items):
            return items.map(TemplateExecution.formatted).joined(separator: separator)
        case .object:
            let values = TemplateExecution.sortedMembers(elements).map { TemplateExecution.formatted($0.1) }
            return values.sorted { Array($0.utf8).lexicographicallyPrecedes($1.utf8) }.joined(separator: separator)
        default:
            throw Failure("expected slice, got \(TemplateExecution.goTypeName(elements))")
        }
    }

    /// Applies a one-scalar case mapping (Go's `unicode.ToUpper` and friends map rune
    /// to rune; mappings that expand, like ß → SS, leave the rune alone).
    static func mapScalars(_ text: String, _ mapping: (Unicode.Scalar) -> String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let mapped = mapping(scalar).unicodeScalars
            if mapped.count == 1, let single = mapped.first {
                out.append(single)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// `strings.Title`: upper-cases (title-cases) the first letter of each word.
    static func title(_ text: String) -> String {
        func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
            if scalar.isASCII {
                let value = scalar.value
                let isWordByte = (0x30...0x39).contains(value) || (0x41...0x5A).contains(value)
                    || (0x61...0x7A).contains(value) || value == 0x5F
                return !isWordByte
            }
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber:
                return false
            default:
                return scalar.properties.isWhitespace
            }
        }
        var previous: Unicode.Scalar = " "
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isSeparator(previous) {
                let mapped = scalar.properties.titlecaseMapping.unicodeScalars
                if mapped.count == 1, let single = mapped.first { out.append(single) } else { out.append(scalar) }
            } else {
                out.append(scalar)
            }
            previous = scalar
        }
        return String(out)
    }

    /// docker's `pad`: spaces around a non-empty string.
    static func pad(_ text: String, _ prefix: Int64, _ suffix: Int64) throws(Failure) -> String {
        if text.isEmpty { return text }
        guard prefix >= 0, suffix >= 0 else { throw Failure("strings: negative Repeat count") }
        return String(repeating: " ", count: Int(prefix)) + text + String(repeating: " ", count: Int(suffix))
    }

    /// docker's template `truncate`: the first `length` bytes.
    static func truncateBytes(_ text: String, _ length: Int64) throws(Failure) -> String {
        let bytes = Array(text.utf8)
        if Int64(bytes.count) < length { return text }
        guard length >= 0 else { throw Failure("runtime error: slice bounds out of range [:\(length)]") }
        return String(decoding: bytes[0..<Int(length)], as: UTF8.self)
    }

    /// Go's `len`: bytes of a string, elements of a slice or map.
    static func length(_ value: JSONValue) throws(Failure) -> Int64 {
        switch value {
        case .string(let text): return Int64(text.utf8.count)
        case .array(let items): return Int64(items.count)
        case .object: return Int64(TemplateExecution.sortedMembers(value).count)
        case .null: throw Failure("len of nil pointer")
        default: throw Failure("len of type \(TemplateExecution.goTypeName(value))")
        }
    }

    private static func position(_ index: JSONValue, limit: Int) throws(Failure) -> Int {
        let number: Int64
        switch index {
        case .int(let value): number = value
        case .null: throw Failure("cannot index slice/array with nil")
        default: throw Failure("cannot index slice/array with type \(TemplateExecution.goTypeName(index))")
        }
        guard number >= 0, number <= Int64(limit) else { throw Failure("index out of range: \(number)") }
        return Int(number)
    }

    /// Go's `index`: a missing map key gives the zero value (printed `<no value>`).
    static func index(_ item: JSONValue, _ indexes: [JSONValue]) throws(Failure) -> JSONValue {
        if case .null = item { throw Failure("index of untyped nil") }
        var current = item
        for key in indexes {
            switch current {
            case .array(let items):
                let offset = try position(key, limit: items.count)
                guard offset < items.count else { throw Failure("index out of range: \(offset)") }
                current = items[offset]
            case .string(let text):
                let bytes = Array(text.utf8)
                let offset = try position(key, limit: bytes.count)
                guard offset < bytes.count else { throw Failure("index out of range: \(offset)") }
                current = .int(Int64(bytes[offset]))
            case .object:
                guard case .string(let name) = key else {
                    throw Failure("value has type \(TemplateExecution.goTypeName(key)); should be string")
                }
                current = current[name] ?? .null
            case .null:
                throw Failure("index of nil pointer")
            default:
                throw Failure("can't index item of type \(TemplateExecution.goTypeName(current))")
            }
        }
        return current
    }

    /// Go's `slice`: `slice x 1 2` is `x[1:2]`.
    static func slice(_ item: JSONValue, _ indexes: [JSONValue]) throws(Failure) -> JSONValue {
        if case .null = item { throw Failure("slice of untyped nil") }
        guard indexes.count <= 3 else { throw Failure("too many slice indexes: \(indexes.count)") }
        switch item {
        case .string(let text):
            guard indexes.count < 3 else { throw Failure("cannot 3-index slice a string") }
            let bytes = Array(text.utf8)
            let (low, high) = try bounds(indexes, count: bytes.count)
            return .string(String(decoding: bytes[low..<high], as: UTF8.self))
        case .array(let items):
            let (low, high) = try bounds(Array(indexes.prefix(2)), count: items.count)
            return .array(Array(items[low..<high]))
        default:
            throw Failure("can't slice item of type \(TemplateExecution.goTypeName(item))")
        }
    }

    private static func bounds(_ indexes: [JSONValue], count: Int) throws(Failure) -> (Int, Int) {
        let low = indexes.count > 0 ? try position(indexes[0], limit: count) : 0
        let high = indexes.count > 1 ? try position(indexes[1], limit: count) : count
        guard low <= high else { throw Failure("invalid slice index: \(low) > \(high)") }
        return (low, high)
    }

    /// `fmt.Sprint`: a space between operands when neither side is a string.
    static func sprint(_ values: [JSONValue]) -> String {
        var out = ""
        var previousIsString = false
        for (position, value) in values.enumerated() {
            let isString: Bool
            if case .string = value { isString = true } else { isString = false }
            if position > 0 && !isString && !previousIsString { out += " " }
            out += TemplateExecution.formatted(value)
            previousIsString = isString
        }
        return out
    }

    /// Go's `eq` on basic values; numbers compare by value whatever their encoding.
    static func equal(_ lhs: JSONValue, _ rhs: JSONValue) throws(Failure) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.null, _), (_, .null): return false
        case let (.bool(a), .bool(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case (.int, .double), (.double, .int), (.double, .double):
            return lhs.doubleValue == rhs.doubleValue
        case (.array, _), (.object, _):
            throw Failure("uncomparable type \(TemplateExecution.goTypeName(lhs)): \(TemplateExecution.formatted(lhs))")
        case (_, .array), (_, .object):
            throw Failure("uncomparable type \(TemplateExecution.goTypeName(rhs)): \(TemplateExecution.formatted(rhs))")
        default:
            throw Failure("incompatible types for comparison")
        }
    }

    /// Go's `lt` on basic values.
    static func less(_ lhs: JSONValue, _ rhs: JSONValue) throws(Failure) -> Bool {
        switch (lhs, rhs) {
        case let (.string(a), .string(b)): return Array(a.utf8).lexicographicallyPrecedes(b.utf8)
        case let (.int(a), .int(b)): return a < b
        case (.int, .double), (.double, .int), (.double, .double):
            return (lhs.doubleValue ?? 0) < (rhs.doubleValue ?? 0)
        case (.bool, .bool), (.null, _), (_, .null), (.array, _), (.object, _), (_, .array), (_, .object):
            throw Failure("invalid type for comparison")
        default:
            throw Failure("incompatible types for comparison")
        }
    }
}
