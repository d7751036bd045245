import Foundation

// Builds the syntax tree from tokens, following Go's text/template/parse/parse.go
// closely enough that templates written for docker parse the same way and malformed
// ones fail with the same messages.

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
                let message = "{{\(token.source)}} is not supported in --format templates"
                    + " (define, template and block are not available)"
                throw error(message, at: token)
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

    private mutating func parsePipeline(
        context: String, end: TemplateToken.Kind
    ) throws(TemplateError) -> TemplatePipeline {
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
        if arguments.isEmpty { throw error("empty command", at: peek()) }
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
