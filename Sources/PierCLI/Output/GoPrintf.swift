import Foundation

/// The part of Go's `fmt.Sprintf` that templates use: `%v %s %d %q %t %f %e %g %x %X
/// %c %%` with the `-`, `+`, `0`, space flags, width and precision.
enum GoPrintf {
    static func format(_ format: String, _ arguments: [JSONValue]) -> String {
        let scalars = Array(format.unicodeScalars)
        var out = ""
        var next = 0
        var cursor = 0
        while cursor < scalars.count {
            let scalar = scalars[cursor]
            cursor += 1
            guard scalar == "%" else {
                out.unicodeScalars.append(scalar)
                continue
            }
            var leftAlign = false, plus = false, zero = false, space = false
            flags: while cursor < scalars.count {
                switch scalars[cursor] {
                case "-": leftAlign = true
                case "+": plus = true
                case "0": zero = true
                case " ": space = true
                case "#": break
                default: break flags
                }
                cursor += 1
            }
            var width: Int?
            while cursor < scalars.count, let digit = Int(String(scalars[cursor])) {
                width = (width ?? 0) * 10 + digit
                cursor += 1
            }
            var precision: Int?
            if cursor < scalars.count && scalars[cursor] == "." {
                cursor += 1
                precision = 0
                while cursor < scalars.count, let digit = Int(String(scalars[cursor])) {
                    precision = (precision ?? 0) * 10 + digit
                    cursor += 1
                }
            }
            guard cursor < scalars.count else {
                out += "%!(NOVERB)"
                break
            }
            let verb = scalars[cursor]
            cursor += 1
            if verb == "%" {
                out += "%"
                continue
            }
            guard next < arguments.count else {
                out += "%!\(verb)(MISSING)"
                continue
            }
            let value = arguments[next]
            next += 1
            var body = render(value, verb: verb, precision: precision)
            if plus || space, case .int(let number) = value, number >= 0, "dv".unicodeScalars.contains(verb) {
                body = (plus ? "+" : " ") + body
            }
            if plus || space, case .double(let number) = value, number >= 0, "efgv".unicodeScalars.contains(verb) {
                body = (plus ? "+" : " ") + body
            }
            let padding = max((width ?? 0) - body.unicodeScalars.count, 0)
            if leftAlign {
                out += body + String(repeating: " ", count: padding)
            } else if zero, value.doubleValue != nil, padding > 0 {
                let negative = body.hasPrefix("-") || body.hasPrefix("+")
                let sign = negative ? String(body.prefix(1)) : ""
                out += sign + String(repeating: "0", count: padding) + body.dropFirst(sign.count)
            } else {
                out += String(repeating: " ", count: padding) + body
            }
        }
        if next < arguments.count {
            let extra = arguments[next...].map(typed)
            out += "%!(EXTRA " + extra.joined(separator: ", ") + ")"
        }
        return out
    }

    private static func bad(_ verb: Unicode.Scalar, _ value: JSONValue) -> String {
        "%!\(verb)(\(typed(value)))"
    }

    /// `type=value`, or `<nil>` for nil, as fmt shows a mismatched operand.
    private static func typed(_ value: JSONValue) -> String {
        if case .null = value { return "<nil>" }
        return "\(TemplateExecution.goTypeName(value))=\(TemplateExecution.formatted(value))"
    }

    private static func render(_ value: JSONValue, verb: Unicode.Scalar, precision: Int?) -> String {
        switch verb {
        case "v":
            return TemplateExecution.formatted(value)
        case "s":
            switch value {
            case .string(let text):
                guard let precision else { return text }
                return String(String.UnicodeScalarView(text.unicodeScalars.prefix(precision)))
            case .array, .object: return TemplateExecution.formatted(value)
            default: return bad(verb, value)
            }
        case "q":
            if case .string(let text) = value { return goQuote(text) }
            return bad(verb, value)
        case "d":
            if case .int(let number) = value { return String(number) }
            return bad(verb, value)
        case "t":
            if case .bool(let flag) = value { return flag ? "true" : "false" }
            return bad(verb, value)
        case "x", "X":
            let text: String
            switch value {
            case .int(let number):
                text = (number < 0 ? "-" : "") + String(number.magnitude, radix: 16)
            case .string(let string):
                text = string.utf8.map { String(format: "%02x", $0) }.joined()
            default:
                return bad(verb, value)
            }
            return verb == "X" ? text.uppercased() : text
        case "c":
            if case .int(let number) = value, let scalar = Unicode.Scalar(UInt32(truncatingIfNeeded: number)) {
                return String(scalar)
            }
            return bad(verb, value)
        case "f", "F", "e", "g":
            guard case .double(let number) = value else { return bad(verb, value) }
            switch verb {
            case "g":
                if let precision { return GoFloatFormat.verbG(number, precision: precision) }
                return GoFloatFormat.verbV(number)
            case "e": return String(format: "%.\(precision ?? 6)e", number)
            default: return String(format: "%.\(precision ?? 6)f", number)
            }
        default:
            return bad(verb, value)
        }
    }
}
