/// The `--flags` of one instruction checked against the flags it accepts (BuildKit's
/// `BFlags`): unknown flags, repeated flags, missing values and non-boolean values are
/// errors naming the flag and the line.
struct InstructionFlags {
    enum Kind {
        /// `--link` or `--link=true|false`.
        case bool
        /// `--from=value`, once.
        case string
        /// `--exclude=value`, any number of times.
        case strings
    }

    private var values: [String: [String]] = [:]

    init(_ instruction: Instruction, accepting accepted: [String: Kind]) throws(DockerfileError) {
        for flag in instruction.flags {
            func failure(_ message: String) -> DockerfileError {
                DockerfileError(.invalidFlag, message, line: instruction.startLine)
            }
            guard flag.hasPrefix("--") else { throw failure("arg should start with -- : \(flag)") }
            let body = flag.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            let value: String? = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }
            guard let kind = accepted[name] else {
                var message = "unknown flag: --\(name)"
                if let suggestion = Suggestion.closest(to: name, among: Array(accepted.keys)) {
                    message += " (did you mean --\(suggestion)?)"
                }
                throw failure(message)
            }
            if values[name] != nil && kind != .strings {
                throw failure("duplicate flag specified: --\(name)")
            }
            switch kind {
            case .bool:
                switch value?.lowercased() {
                case nil, "true": values[name] = ["true"]
                case "false": values[name] = ["false"]
                case "": throw failure("missing a value on flag: --\(name)")
                case .some(let other): throw failure("expecting boolean value for flag --\(name), not: \(other)")
                }
            case .string, .strings:
                guard let value else { throw failure("missing a value on flag: --\(name)") }
                values[name, default: []].append(value)
            }
        }
    }

    /// The value of a string flag, nil when the flag was not given.
    func string(_ name: String) -> String? { values[name]?.last }

    /// The value of a boolean flag, nil when the flag was not given.
    func bool(_ name: String) -> Bool? { values[name].map { $0.last == "true" } }

    /// Every value of a repeatable flag, in order.
    func strings(_ name: String) -> [String] { values[name] ?? [] }
}
