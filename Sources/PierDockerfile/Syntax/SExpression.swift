// The parse printed as BuildKit's `Node.Dump` prints it, one s-expression an instruction:
// `(copy ["--from=build"] "app" "/usr/bin/")`, `(onbuild (run "make"))`. Used by the
// conformance tests against BuildKit's corpus and handy when debugging a parse.

extension Instruction {
    /// This instruction as an s-expression, without the surrounding parentheses.
    public var sExpression: String {
        var out = keyword
        if !flags.isEmpty {
            out += " [" + flags.map(goQuote).joined(separator: " ") + "]"
        }
        if let trigger {
            out += " (" + trigger.sExpression + ")"
        }
        for argument in arguments {
            out += " " + goQuote(argument)
        }
        return out
    }
}

extension Dockerfile {
    /// Every instruction as `(sexpr)` on its own line, each line ending in a newline.
    public var sExpression: String {
        instructions.map { "(" + $0.sExpression + ")\n" }.joined()
    }
}
