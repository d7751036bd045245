/// Interprets one parsed instruction into a `TypedInstruction`, with the argument and flag
/// rules of BuildKit's `instructions/parse.go`.
struct InstructionInterpreter {
    let instruction: Instruction

    init(_ instruction: Instruction) {
        self.instruction = instruction
    }

    private var arguments: [String] { instruction.arguments }
    private var name: String { instruction.keyword.uppercased() }

    private func failure(_ message: String, _ code: DockerfileError.Code = .invalidArguments) -> DockerfileError {
        DockerfileError(code, message, line: instruction.startLine)
    }

    private func flags(_ accepted: [String: InstructionFlags.Kind] = [:]) throws(DockerfileError) -> InstructionFlags {
        try InstructionFlags(instruction, accepting: accepted)
    }

    func interpret() throws(DockerfileError) -> TypedInstruction {
        switch instruction.keyword {
        case "from": return .from(try from())
        case "run": return .run(try run())
        case "copy": return .copy(try copy())
        case "add": return .add(try add())
        case "env": _ = try flags(); return .env(try keyValuePairs())
        case "label": _ = try flags(); return .label(try keyValuePairs())
        case "arg": return .arg(try buildArguments())
        case "workdir": _ = try flags(); return .workdir(try exactlyOne())
        case "user": _ = try flags(); return .user(try exactlyOne())
        case "maintainer": _ = try flags(); return .maintainer(try exactlyOne())
        case "stopsignal": return .stopsignal(try exactlyOne())
        case "cmd": _ = try flags(); return .cmd(CommandForm(instruction))
        case "entrypoint": _ = try flags(); return .entrypoint(CommandForm(instruction))
        case "expose": _ = try flags(); return .expose(try atLeastOne())
        case "volume": _ = try flags(); return .volume(try volumes())
        case "healthcheck": return .healthcheck(try healthcheck())
        case "shell": _ = try flags(); return .shell(try shell())
        case "onbuild": _ = try flags(); return .onbuild(try onbuild())
        default:
            throw DockerfileParser.unknownInstruction(instruction.keyword.uppercased(), line: instruction.startLine)
        }
    }

    // MARK: Argument shapes

    private func exactlyOne() throws(DockerfileError) -> String {
        guard arguments.count == 1, let argument = arguments.first else {
            throw failure("\(name) requires exactly one argument")
        }
        return argument
    }

    private func atLeastOne() throws(DockerfileError) -> [String] {
        guard !arguments.isEmpty else { throw failure("\(name) requires at least one argument") }
        return arguments
    }

    /// ENV and LABEL: the parser's key/value/separator triples.
    private func keyValuePairs() throws(DockerfileError) -> [(key: String, value: String)] {
        guard !arguments.isEmpty else { throw failure("\(name) requires at least one argument") }
        guard arguments.count % 3 == 0 else { throw failure("Bad input to \(name), too many arguments") }
        var pairs: [(key: String, value: String)] = []
        for index in stride(from: 0, to: arguments.count, by: 3) {
            guard !arguments[index].isEmpty else { throw failure("\(name) names can not be blank") }
            pairs.append((key: arguments[index], value: arguments[index + 1]))
        }
        return pairs
    }

    // MARK: Instructions

    private func from() throws(DockerfileError) -> FromInstruction {
        let flags = try flags(["platform": .string])
        var stageName: String?
        if arguments.count == 3 && arguments[1].lowercased() == "as" {
            let candidate = arguments[2].lowercased()
            guard Self.isValidStageName(candidate) else {
                throw failure("invalid name for build stage: \(goQuote(arguments[2])), "
                              + "name can't start with a number or contain symbols")
            }
            stageName = candidate
        } else if arguments.count != 1 {
            throw failure("FROM requires either one or three arguments (FROM image [AS name])")
        }
        return FromInstruction(image: arguments[0], stageName: stageName, platform: flags.string("platform"))
    }

    /// `^[a-z][a-z0-9-_.]*$`.
    static func isValidStageName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || $0.isASCIIDigit || $0 == "-" || $0 == "_" || $0 == "."
        }
    }

    private func run() throws(DockerfileError) -> RunInstruction {
        let flags = try flags(["mount": .strings, "network": .string, "security": .string])
        guard let network = RunNetwork(rawValue: flags.string("network") ?? "default") else {
            throw failure("invalid network mode \(goQuote(flags.string("network") ?? "")) (use default, none or host)",
                          .invalidFlag)
        }
        guard let security = RunSecurity(rawValue: flags.string("security") ?? "sandbox") else {
            throw failure("security \(goQuote(flags.string("security") ?? "")) is not valid (use sandbox or insecure)",
                          .invalidFlag)
        }
        let mounts = flags.strings("mount")
        for specification in mounts {
            do {
                try RunMount.validateBeforeExpansion(specification)
            } catch {
                throw error.at(line: instruction.startLine)
            }
        }
        return RunInstruction(command: CommandForm(instruction), heredocs: instruction.heredocs,
                              mountSpecifications: mounts, network: network, security: security)
    }

    private func copy() throws(DockerfileError) -> CopyInstruction {
        let flags = try flags(["chown": .string, "from": .string, "chmod": .string, "link": .bool,
                               "exclude": .strings, "parents": .bool])
        let (sources, inlineFiles, destination) = try sourcesAndDestination()
        return CopyInstruction(sources: sources, inlineFiles: inlineFiles, destination: destination,
                               from: flags.string("from"), chown: flags.string("chown"),
                               chmod: flags.string("chmod"), link: flags.bool("link") ?? false,
                               parents: flags.bool("parents") ?? false, exclude: flags.strings("exclude"))
    }

    private func add() throws(DockerfileError) -> AddInstruction {
        let flags = try flags(["chown": .string, "chmod": .string, "link": .bool, "keep-git-dir": .bool,
                               "checksum": .string, "unpack": .bool, "exclude": .strings])
        let (sources, inlineFiles, destination) = try sourcesAndDestination()
        return AddInstruction(sources: sources, inlineFiles: inlineFiles, destination: destination,
                              chown: flags.string("chown"), chmod: flags.string("chmod"),
                              link: flags.bool("link") ?? false, keepGitDir: flags.bool("keep-git-dir"),
                              checksum: flags.string("checksum"), unpack: flags.bool("unpack"),
                              exclude: flags.strings("exclude"))
    }

    /// COPY and ADD: the last argument is the destination; sources written as heredocs
    /// become inline files.
    private func sourcesAndDestination() throws(DockerfileError) -> ([String], [InlineFile], String) {
        guard arguments.count >= 2, let destination = arguments.last else {
            throw failure("\(name) requires at least two arguments, but only one was provided. "
                          + "Destination could not be determined")
        }
        if try HeredocMarker.parse(destination) != nil {
            throw failure("\(name) cannot accept a heredoc as a destination")
        }
        var sources: [String] = []
        var inlineFiles: [InlineFile] = []
        for source in arguments.dropLast() {
            if let marker = try HeredocMarker.parse(source) {
                let body = instruction.heredocs.first { $0.name == marker.name }
                let content = body?.content ?? ""
                inlineFiles.append(InlineFile(name: marker.name,
                                              content: marker.chomp ? Heredoc.removingLeadingTabs(content) : content,
                                              expand: marker.expand))
            } else {
                sources.append(source)
            }
        }
        return (sources, inlineFiles, destination)
    }

    private func buildArguments() throws(DockerfileError) -> [BuildArgument] {
        guard !arguments.isEmpty else { throw failure("ARG requires at least one argument") }
        var definitions: [BuildArgument] = []
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "=") else {
                definitions.append(BuildArgument(name: argument))
                continue
            }
            let key = String(argument[..<equals])
            guard !key.isEmpty else { throw failure("ARG names can not be blank") }
            let value = String(argument[argument.index(after: equals)...])
            definitions.append(BuildArgument(name: key, defaultValue: value))
        }
        return definitions
    }

    private func volumes() throws(DockerfileError) -> [String] {
        var volumes: [String] = []
        for volume in try atLeastOne() {
            let trimmed = Array(volume.unicodeScalars).trimmingGoSpace().string
            guard !trimmed.isEmpty else { throw failure("VOLUME specified can not be an empty string") }
            volumes.append(trimmed)
        }
        return volumes
    }

    private func shell() throws(DockerfileError) -> [String] {
        guard !arguments.isEmpty else { throw failure("SHELL requires at least one argument") }
        guard instruction.isJSONForm else {
            throw failure("SHELL requires the arguments to be in JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]")
        }
        return arguments
    }

    private func onbuild() throws(DockerfileError) -> OnbuildInstruction {
        guard let trigger = instruction.trigger else { throw failure("ONBUILD requires at least one argument") }
        switch trigger.keyword {
        case "onbuild": throw failure("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
        case "maintainer", "from": throw failure("\(trigger.keyword.uppercased()) isn't allowed as an ONBUILD trigger")
        default: break
        }
        var expression = Self.droppingOnbuildKeyword(instruction.original)
        for heredoc in instruction.heredocs {
            expression += "\n" + heredoc.content + heredoc.name
        }
        return OnbuildInstruction(trigger: trigger, expression: expression)
    }

    /// `  onbuild   RUN x` → `RUN x`.
    private static func droppingOnbuildKeyword(_ original: String) -> String {
        let scalars = Array(original.unicodeScalars)
        var index = 0
        while index < scalars.count, scalars[index].isGoSpace { index += 1 }
        index += min("onbuild".unicodeScalars.count, scalars.count - index)
        while index < scalars.count, scalars[index].isGoSpace { index += 1 }
        return Array(scalars[index...]).string
    }

    private func healthcheck() throws(DockerfileError) -> HealthcheckInstruction {
        guard let kind = arguments.first?.uppercased() else {
            throw failure("HEALTHCHECK requires at least one argument")
        }
        let command = Array(arguments.dropFirst())
        if kind == "NONE" {
            guard command.isEmpty else { throw failure("HEALTHCHECK NONE takes no arguments") }
            return HealthcheckInstruction(test: ["NONE"])
        }
        let flags = try flags(["interval": .string, "timeout": .string, "start-period": .string,
                               "start-interval": .string, "retries": .string])
        guard kind == "CMD" else { throw failure("Unknown type \(goQuote(kind)) in HEALTHCHECK (try CMD)") }
        guard !command.isEmpty else { throw failure("Missing command after HEALTHCHECK CMD") }
        let test = instruction.isJSONForm ? ["CMD"] + command : ["CMD-SHELL", command.joined(separator: " ")]
        var check = HealthcheckInstruction(test: test)
        check.interval = try interval(flags, "interval")
        check.timeout = try interval(flags, "timeout")
        check.startPeriod = try interval(flags, "start-period")
        check.startInterval = try interval(flags, "start-interval")
        if let retries = flags.string("retries") {
            guard let count = Int32(retries) else {
                throw failure("invalid value for --retries: \(goQuote(retries)) (expected a whole number)",
                              .invalidFlag)
            }
            guard count >= 0 else { throw failure("--retries cannot be negative (\(count))", .invalidFlag) }
            check.retries = Int(count)
        }
        return check
    }

    /// A duration flag: nil when absent or zero; at least 1ms otherwise.
    private func interval(_ flags: InstructionFlags, _ flag: String) throws(DockerfileError) -> Duration? {
        guard let text = flags.string(flag), !text.isEmpty else { return nil }
        guard let duration = GoDuration.parse(text) else {
            throw failure("time: invalid duration \(goQuote(text)) in --\(flag) (use e.g. 30s, 1m30s)", .invalidFlag)
        }
        if duration == .zero { return nil }
        guard duration >= .milliseconds(1) else {
            throw failure("Interval \(goQuote(flag)) cannot be less than 1ms", .invalidFlag)
        }
        return duration
    }
}
