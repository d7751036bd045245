import Foundation

// The syntax tree and tokens of GoTemplate, shaped after Go's text/template/parse.

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
