/// A Dockerfile instruction with its arguments interpreted and its flags validated.
///
/// Values are as written: variables are not expanded yet (that needs the build's
/// arguments and environment; run them through `ShellLexer`). ENV, LABEL and ARG values
/// still carry their quotes for the same reason.
public enum TypedInstruction: Sendable {
    case from(FromInstruction)
    case run(RunInstruction)
    case copy(CopyInstruction)
    case add(AddInstruction)
    /// `ENV k=v ...` / `ENV k v`.
    case env([(key: String, value: String)])
    case arg([BuildArgument])
    case label([(key: String, value: String)])
    case workdir(String)
    case user(String)
    case cmd(CommandForm)
    case entrypoint(CommandForm)
    case expose([String])
    case volume([String])
    case healthcheck(HealthcheckInstruction)
    case stopsignal(String)
    /// `SHELL ["executable", "parameters"]`.
    case shell([String])
    case onbuild(OnbuildInstruction)
    case maintainer(String)

    /// Interprets a parsed instruction; throws `Dockerfile:LINE: ...` errors for bad
    /// arguments or flags.
    public init(_ instruction: Instruction) throws(DockerfileError) {
        self = try InstructionInterpreter(instruction).interpret()
    }
}

/// `FROM [--platform=p] image [AS name]`.
public struct FromInstruction: Sendable, Equatable {
    public var image: String
    /// The stage name, lower-cased (`AS Build` names the stage `build`).
    public var stageName: String?
    public var platform: String?

    public init(image: String, stageName: String? = nil, platform: String? = nil) {
        self.image = image
        self.stageName = stageName
        self.platform = platform
    }
}

/// One `ARG name[=default]`.
public struct BuildArgument: Sendable, Equatable {
    public var name: String
    /// The default as written (unexpanded, quotes kept); nil for `ARG name`.
    public var defaultValue: String?

    public init(name: String, defaultValue: String? = nil) {
        self.name = name
        self.defaultValue = defaultValue
    }
}

/// `ONBUILD INSTRUCTION ...`: recorded in the image, run when a later build uses it.
public struct OnbuildInstruction: Sendable, Equatable {
    /// The trigger as parsed.
    public var trigger: Instruction
    /// The trigger's text as stored in the image config's `OnBuild` list (heredoc bodies
    /// appended, as BuildKit stores them).
    public var expression: String

    public init(trigger: Instruction, expression: String) {
        self.trigger = trigger
        self.expression = expression
    }
}
