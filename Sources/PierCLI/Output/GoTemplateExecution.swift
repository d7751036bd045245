import Foundation

/// Runs a parsed template over JSON, with the semantics of Go's `text/template`
/// executing on the `map[string]any` that docker decodes (`missingkey=error`).
struct TemplateExecution {
    enum Flow {
        case normal
        case breakLoop
        case continueLoop
    }

    let source: [UInt8]
    let methods: [String: GoTemplate.Method]
    /// Header rows: the string functions return their first argument (docker's `HeaderFunctions`).
    let isHeader: Bool
    private(set) var output = ""
    private var variables: [(name: String, value: JSONValue)]

    init(source: [UInt8], root: JSONValue, methods: [String: GoTemplate.Method] = [:], isHeader: Bool = false) {
        self.source = source
        self.methods = methods
        self.isHeader = isHeader
        variables = [("$", root)]
    }

    // MARK: Errors

    /// `template: :LINE:COL: executing "" at <CONTEXT>: MESSAGE`, located as Go's
    /// `ErrorContext` locates a node (column counted in bytes from 0).
    func failure(_ message: String, at position: Int, context: String) -> TemplateError {
        let prefix = source[0..<min(position, source.count)]
        let line = 1 + prefix.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        var column = position
        if let newline = prefix.lastIndex(of: 0x0A) { column = position - (newline + 1) }
        return TemplateError(
            phase: .execute,
            message: "template: :\(line):\(column): executing \"\" at <\(context)>: \(message)")
    }

    func failure(_ message: String, at operand: TemplateOperand) -> TemplateError {
        failure(message, at: operand.position, context: operand.sourceText)
    }

    // MARK: Walking

    mutating func run(_ nodes: [TemplateNode], dot: JSONValue) throws(TemplateError) -> Flow {
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .action(let pipeline):
                let value = try evaluate(pipeline, dot: dot)
                if pipeline.declarations.isEmpty { output += Self.printed(value) }
            case .ifBlock(let pipeline, let body, let otherwise):
                let mark = variables.count
                let value = try evaluate(pipeline, dot: dot)
                let flow: Flow
                if Self.isTrue(value) {
                    flow = try run(body, dot: dot)
                } else {
                    flow = try otherwise.map { nodes throws(TemplateError) in try run(nodes, dot: dot) } ?? .normal
                }
                variables.removeSubrange(mark...)
                if case .normal = flow { continue }
                return flow
            case .withBlock(let pipeline, let body, let otherwise):
                let mark = variables.count
                let value = try evaluate(pipeline, dot: dot)
                let flow: Flow
                if Self.isTrue(value) {
                    flow = try run(body, dot: value)
                } else {
                    flow = try otherwise.map { nodes throws(TemplateError) in try run(nodes, dot: dot) } ?? .normal
                }
                variables.removeSubrange(mark...)
                if case .normal = flow { continue }
                return flow
            case .rangeBlock(let pipeline, let body, let otherwise):
                let flow = try runRange(pipeline, body: body, otherwise: otherwise, dot: dot)
                if case .normal = flow { continue }
                return flow
            case .breakLoop:
                return .breakLoop
            case .continueLoop:
                return .continueLoop
            }
        }
        return .normal
    }

    private mutating func runRange(
        _ pipeline: TemplatePipeline, body: [TemplateNode], otherwise: [TemplateNode]?, dot: JSONValue
    ) throws(TemplateError) -> Flow {
        let mark = variables.count
        defer { variables.removeSubrange(mark...) }
        var plain = pipeline
        plain.declarations = []
        let collection = try evaluate(plain, dot: dot)
        let position = plain.commands.first?.position ?? pipeline.position
        let count: Int
        let iteration: (Int) -> (index: JSONValue, element: JSONValue)
        switch collection {
        case .array(let items):
            count = items.count
            iteration = { (.int(Int64($0)), items[$0]) }
        case .object:
            let members = Self.sortedMembers(collection)
            count = members.count
            iteration = { (.string(members[$0].0), members[$0].1) }
        case .int(let limit):
            if pipeline.declarations.count > 1 {
                throw failure(
                    "can't use \(limit) to iterate over more than one variable", at: position,
                    context: plain.sourceText)
            }
            count = Int(clamping: max(limit, 0))
            iteration = { (.int(Int64($0)), .int(Int64($0))) }
        case .null:
            count = 0
            iteration = { _ in (.null, .null) }
        default:
            throw failure(
                "range can't iterate over \(Self.formatted(collection))", at: position,
                context: plain.sourceText)
        }
        if count == 0 {
            guard let otherwise else { return .normal }
            return try run(otherwise, dot: dot)
        }
        let bodyMark = variables.count
        for offset in 0..<count {
            let current = iteration(offset)
            try bindRangeVariables(pipeline, current)
            let flow = try run(body, dot: current.element)
            variables.removeSubrange(bodyMark...)
            if case .breakLoop = flow { break }
        }
        return .normal
    }

    private mutating func bindRangeVariables(
        _ pipeline: TemplatePipeline, _ iteration: (index: JSONValue, element: JSONValue)
    ) throws(TemplateError) {
        let names = pipeline.declarations
        guard !names.isEmpty else { return }
        let values = names.count == 1 ? [iteration.element] : [iteration.index, iteration.element]
        for (name, value) in zip(names, values) {
            if pipeline.isAssignment {
                try assign(name, value, at: pipeline.position)
            } else {
                variables.append((name, value))
            }
        }
    }

    private mutating func assign(_ name: String, _ value: JSONValue, at position: Int) throws(TemplateError) {
        guard let slot = variables.lastIndex(where: { $0.name == name }) else {
            throw failure("undefined variable: \(name)", at: position, context: name)
        }
        variables[slot].value = value
    }

    private func lookup(_ name: String, at operand: TemplateOperand) throws(TemplateError) -> JSONValue {
        guard let entry = variables.last(where: { $0.name == name }) else {
            throw failure("undefined variable: \(name)", at: operand)
        }
        return entry.value
    }

    // MARK: Pipelines and commands

    mutating func evaluate(_ pipeline: TemplatePipeline, dot: JSONValue) throws(TemplateError) -> JSONValue {
        var value: JSONValue?
        for command in pipeline.commands {
            value = try evaluate(command, dot: dot, final: value)
        }
        let result = value ?? .null
        for name in pipeline.declarations {
            if pipeline.isAssignment {
                try assign(name, result, at: pipeline.position)
            } else {
                variables.append((name, result))
            }
        }
        return result
    }

    private mutating func evaluate(
        _ command: TemplateCommand, dot: JSONValue, final: JSONValue?
    ) throws(TemplateError) -> JSONValue {
        let first = command.arguments[0]
        let hasArguments = command.arguments.count > 1 || final != nil
        func notAFunction() throws(TemplateError) {
            if hasArguments { throw failure("can't give argument to non-function \(first.sourceText)", at: first) }
        }
        switch first {
        case .field(let names, _):
            if hasArguments, let name = names.last, let method = methods[name] {
                let receiver = try fieldChain(dot, Array(names.dropLast()), node: first, hasArguments: false)
                return try call(method, named: name, on: receiver, command: command, dot: dot, final: final)
            }
            return try fieldChain(dot, names, node: first, hasArguments: hasArguments)
        case .chain(let base, let fields, _):
            let receiver = try argument(base, dot: dot)
            return try fieldChain(receiver, fields, node: first, hasArguments: hasArguments)
        case .variable(let name, let fields, _):
            let value = try lookup(name, at: first)
            if fields.isEmpty {
                try notAFunction()
                return value
            }
            return try fieldChain(value, fields, node: first, hasArguments: hasArguments)
        case .pipeline(let pipeline, _):
            try notAFunction()
            return try evaluate(pipeline, dot: dot)
        case .function(let name, _):
            return try call(
                name, node: first, arguments: Array(command.arguments.dropFirst()), dot: dot, final: final,
                command: command)
        case .nilValue:
            throw failure("nil is not a command", at: first)
        case .dot, .string, .number, .bool:
            try notAFunction()
            return try argument(first, dot: dot)
        }
    }

    private mutating func argument(_ operand: TemplateOperand, dot: JSONValue) throws(TemplateError) -> JSONValue {
        switch operand {
        case .dot: return dot
        case .field(let names, _): return try fieldChain(dot, names, node: operand, hasArguments: false)
        case .variable(let name, let fields, _):
            let value = try lookup(name, at: operand)
            return fields.isEmpty ? value : try fieldChain(value, fields, node: operand, hasArguments: false)
        case .chain(let base, let fields, _):
            let receiver = try argument(base, dot: dot)
            return try fieldChain(receiver, fields, node: operand, hasArguments: false)
        case .pipeline(let pipeline, _): return try evaluate(pipeline, dot: dot)
        case .function(let name, _):
            return try call(
                name, node: operand, arguments: [], dot: dot, final: nil,
                command: TemplateCommand(arguments: [operand]))
        case .string(let text, _, _): return .string(text)
        case .number(let value, _, _): return value
        case .bool(let flag, _): return .bool(flag)
        case .nilValue: return .null
        }
    }

    private func fieldChain(
        _ receiver: JSONValue, _ names: [String], node: TemplateOperand, hasArguments: Bool
    ) throws(TemplateError) -> JSONValue {
        var value = receiver
        for (position, name) in names.enumerated() {
            let isLast = position == names.count - 1
            switch value {
            case .object:
                if isLast && hasArguments { throw failure("\(name) is not a method but has arguments", at: node) }
                guard let member = value[name] else {
                    throw failure("map has no entry for key \(goQuote(name))", at: node)
                }
                value = member
            case .null:
                throw failure("nil pointer evaluating interface {}.\(name)", at: node)
            default:
                // Values decoded from JSON are all `interface {}` to Go's reflection.
                throw failure("can't evaluate field \(name) in type interface {}", at: node)
            }
        }
        return value
    }

    // MARK: Functions

    private mutating func call(
        _ method: GoTemplate.Method, named name: String, on receiver: JSONValue, command: TemplateCommand,
        dot: JSONValue, final: JSONValue?
    ) throws(TemplateError) -> JSONValue {
        var values: [JSONValue] = []
        for operand in command.arguments.dropFirst() { values.append(try argument(operand, dot: dot)) }
        if let final { values.append(final) }
        do {
            return try method(receiver, values)
        } catch {
            throw failure("error calling \(name): \(error)", at: command.position, context: command.sourceText)
        }
    }

    private enum Parameter {
        case any
        case string
        case int
    }

    /// Parameter lists of the functions, as Go declares them: fixed parameters, then
    /// an optional variadic tail.
    private static func signature(of name: String) -> (fixed: [Parameter], variadic: Parameter?) {
        switch name {
        case "json", "len", "not": return ([.any], nil)
        case "split": return ([.string, .string], nil)
        case "join": return ([.any, .string], nil)
        case "title", "lower", "upper": return ([.string], nil)
        case "pad": return ([.string, .int, .int], nil)
        case "truncate": return ([.string, .int], nil)
        case "index", "slice", "eq", "and", "or", "call": return ([.any], .any)
        case "ne", "lt", "le", "gt", "ge": return ([.any, .any], nil)
        case "printf": return ([.string], .any)
        default: return ([], .any)  // print, println, html, js, urlquery
        }
    }

    private mutating func call(
        _ name: String, node: TemplateOperand, arguments: [TemplateOperand], dot: JSONValue, final: JSONValue?,
        command: TemplateCommand
    ) throws(TemplateError) -> JSONValue {
        let (fixed, variadic) = Self.signature(of: name)
        let count = arguments.count + (final == nil ? 0 : 1)
        if variadic != nil {
            if count < fixed.count {
                throw failure(
                    "wrong number of args for \(name): want at least \(fixed.count) got \(arguments.count)", at: node)
            }
        } else if count != fixed.count {
            throw failure("wrong number of args for \(name): want \(fixed.count) got \(count)", at: node)
        }
        if TemplateFunctionName.unsupported.contains(name) {
            throw failure("function \(goQuote(name)) is not supported in --format templates", at: node)
        }

        // and/or evaluate their arguments only as far as needed (Go 1.18+).
        if name == "and" || name == "or" {
            var value: JSONValue = .null
            for operand in arguments {
                value = try argument(operand, dot: dot)
                if Self.isTrue(value) == (name == "or") { return value }
            }
            return final ?? value
        }

        var values: [JSONValue] = []
        for (position, operand) in arguments.enumerated() {
            let value = try argument(operand, dot: dot)
            let parameter = position < fixed.count ? fixed[position] : (variadic ?? .any)
            try check(value, against: parameter, at: operand)
            values.append(value)
        }
        if let final {
            let parameter = values.count < fixed.count ? fixed[values.count] : (variadic ?? .any)
            // Go reports a bad piped value at the last node it evaluated.
            try check(final, against: parameter, at: arguments.last ?? node, piped: true)
            values.append(final)
        }
        let headerIdentity: Set<String> = ["json", "split", "join", "title", "lower", "upper", "truncate"]
        if isHeader, headerIdentity.contains(name), let first = values.first { return first }
        do {
            return try TemplateFunctions.call(name, values)
        } catch {
            throw failure("error calling \(name): \(error.message)", at: command.position, context: command.sourceText)
        }
    }

    private func check(
        _ value: JSONValue, against parameter: Parameter, at operand: TemplateOperand, piped: Bool = false
    ) throws(TemplateError) {
        switch (parameter, value) {
        case (.any, _), (.string, .string), (.int, .int): return
        case (.int, .double(let number)) where number == number.rounded() && abs(number) < 1e15: return
        default: break
        }
        let expected = parameter == .string ? "string" : "int"
        if !piped {
            // Literals are checked against the parameter type before evaluation.
            switch operand {
            case .nilValue: throw failure("cannot assign nil to \(expected)", at: operand)
            case .string, .number, .bool:
                let kind = parameter == .string ? "string" : "integer"
                throw failure("expected \(kind); found \(operand.sourceText)", at: operand)
            default: break
            }
        }
        throw failure("wrong type for value; expected \(expected); got \(Self.goTypeName(value))", at: operand)
    }

    // MARK: Printing

    /// How Go prints a value of `interface{}` in `fmt`: `%T`-style type names.
    static func goTypeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "interface {}"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float64"
        case .string: return "string"
        case .array: return "[]interface {}"
        case .object: return "map[string]interface {}"
        }
    }

    /// An action's output: nil (a JSON null, or nothing) prints as `<no value>`.
    static func printed(_ value: JSONValue) -> String {
        if case .null = value { return "<no value>" }
        return formatted(value)
    }

    /// `fmt.Sprint` of the value docker would have decoded: `map[k:v]` with sorted
    /// keys, `[a b]`, `<nil>`, floats as `%v`.
    static func formatted(_ value: JSONValue) -> String {
        switch value {
        case .null: return "<nil>"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .double(let number): return GoFloatFormat.verbV(number)
        case .string(let text): return text
        case .array(let items): return "[" + items.map(formatted).joined(separator: " ") + "]"
        case .object:
            return "map[" + sortedMembers(value).map { $0.0 + ":" + formatted($0.1) }.joined(separator: " ") + "]"
        }
    }

    /// Members of an object as a Go map holds them: one per key (the last wins), in
    /// byte order of the keys, the order Go's `fmt` and `range` use.
    static func sortedMembers(_ value: JSONValue) -> JSONValue.OrderedPairs {
        guard case .object(let pairs) = value else { return [] }
        var latest: [String: JSONValue] = [:]
        for (key, member) in pairs { latest[key] = member }
        return latest.sorted { Array($0.key.utf8).lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, $0.value) }
    }

    /// Go's `template.IsTrue`: false, 0, nil and empty values are false.
    static func isTrue(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return false
        case .bool(let flag): return flag
        case .int(let number): return number != 0
        case .double(let number): return number != 0
        case .string(let text): return !text.isEmpty
        case .array(let items): return !items.isEmpty
        case .object(let pairs): return !pairs.isEmpty
        }
    }
}
