/// How `RUN`, `CMD`, `ENTRYPOINT` and `HEALTHCHECK CMD` give their command.
public enum CommandForm: Sendable, Equatable {
    /// `RUN make all`: run through the image's shell (`/bin/sh -c` unless `SHELL` changed it).
    case shell(String)
    /// `RUN ["make", "all"]`: run directly, no shell.
    case exec([String])

    /// The command line: the exec array, or the shell form's one string.
    public var arguments: [String] {
        switch self {
        case .shell(let command): [command]
        case .exec(let arguments): arguments
        }
    }

    public var isExecForm: Bool {
        if case .exec = self { return true }
        return false
    }

    /// An instruction with no command at all (`CMD` alone) is an empty exec form.
    init(_ instruction: Instruction) {
        self = instruction.isJSONForm || instruction.arguments.isEmpty
            ? .exec(instruction.arguments)
            : .shell(instruction.arguments.joined(separator: " "))
    }
}
