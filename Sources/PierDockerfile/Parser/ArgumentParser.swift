/// Turns the text after an instruction's keyword and flags into its argument list, with the
/// rules each instruction has in BuildKit's `line_parsers.go` (see `Instruction` for the
/// resulting layout).
struct ArgumentParser {
    let escape: Unicode.Scalar

    struct Result {
        var arguments: [String] = []
        var isJSONForm = false
    }

    enum Rule {
        case maybeJSON        // RUN, CMD, ENTRYPOINT, SHELL
        case maybeJSONToList  // COPY, ADD, VOLUME
        case whitespaceList   // FROM, EXPOSE
        case nameOrNameValue  // ARG
        case nameValue        // ENV, LABEL
        case string           // MAINTAINER, USER, WORKDIR, STOPSIGNAL
        case healthcheck      // HEALTHCHECK
        case subcommand       // ONBUILD
    }

    static let rules: [String: Rule] = [
        "add": .maybeJSONToList, "arg": .nameOrNameValue, "cmd": .maybeJSON, "copy": .maybeJSONToList,
        "entrypoint": .maybeJSON, "env": .nameValue, "expose": .whitespaceList, "from": .whitespaceList,
        "healthcheck": .healthcheck, "label": .nameValue, "maintainer": .string, "onbuild": .subcommand,
        "run": .maybeJSON, "shell": .maybeJSON, "stopsignal": .string, "user": .string,
        "volume": .maybeJSONToList, "workdir": .string,
    ]

    /// Parses `rest` for an instruction whose keyword (as written) is `keyword`.
    func parse(_ rest: Scalars, rule: Rule, keyword: String, line: Int) throws(DockerfileError) -> Result {
        switch rule {
        case .maybeJSON:
            return try maybeJSON(rest, line: line)
        case .maybeJSONToList:
            switch JSONStringArray.parse(rest) {
            case .strings(let strings): return Result(arguments: strings, isJSONForm: true)
            case .notStrings: throw notStringArray(line)
            case .notJSON: return Result(arguments: whitespaceList(rest))
            }
        case .whitespaceList:
            return Result(arguments: whitespaceList(rest))
        case .nameOrNameValue:
            return Result(arguments: WordSplitter(escape: escape).words(rest))
        case .nameValue:
            return Result(arguments: try nameValue(rest, keyword: keyword.uppercased(), line: line))
        case .string:
            return Result(arguments: rest.isEmpty ? [] : [rest.string])
        case .healthcheck:
            return try healthcheck(rest, line: line)
        case .subcommand:
            return Result()
        }
    }

    private func maybeJSON(_ rest: Scalars, line: Int) throws(DockerfileError) -> Result {
        guard !rest.isEmpty else { return Result() }
        switch JSONStringArray.parse(rest) {
        case .strings(let strings): return Result(arguments: strings, isJSONForm: true)
        case .notStrings: throw notStringArray(line)
        case .notJSON: return Result(arguments: [rest.string])
        }
    }

    private func whitespaceList(_ rest: Scalars) -> [String] {
        guard !rest.isEmpty else { return [] }
        return rest.splitOnSeparators().map(\.string)
    }

    /// `ENV k v` (old form: one pair, the value is the rest of the line) or
    /// `ENV k=v k2="v 2"` (new form: any number of pairs).
    private func nameValue(_ rest: Scalars, keyword: String, line: Int) throws(DockerfileError) -> [String] {
        let words = WordSplitter(escape: escape).words(rest)
        guard let first = words.first else { return [] }
        if !first.contains("=") {
            let parts = rest.splitOnSeparators(limit: 2)
            guard parts.count == 2 else {
                throw DockerfileError(.invalidArguments, "\(keyword) must have two arguments", line: line)
            }
            return [parts[0].string, parts[1].string, ""]
        }
        var triples: [String] = []
        for word in words {
            guard let equals = word.firstIndex(of: "=") else {
                let message = "Syntax error - can't find = in \(goQuote(word)). Must be of the form: name=value"
                throw DockerfileError(.invalidArguments, message, line: line)
            }
            triples += [String(word[..<equals]), String(word[word.index(after: equals)...]), "="]
        }
        return triples
    }

    /// `HEALTHCHECK [--flags] TYPE [command]`: the type word, then the command as for CMD.
    private func healthcheck(_ rest: Scalars, line: Int) throws(DockerfileError) -> Result {
        var separator = 0
        while separator < rest.count, !rest[separator].isGoSpace { separator += 1 }
        guard separator > 0 else { return Result() }
        var next = separator
        while next < rest.count, rest[next].isGoSpace { next += 1 }
        var result = try maybeJSON(Array(rest[next...]), line: line)
        result.arguments.insert(Array(rest[..<separator]).string, at: 0)
        return result
    }

    private func notStringArray(_ line: Int) -> DockerfileError {
        DockerfileError(.invalidArguments,
                        "when using JSON array syntax, arrays must be comprised of strings only", line: line)
    }
}
