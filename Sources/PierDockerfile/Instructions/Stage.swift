/// One build stage: a `FROM` and the instructions up to the next `FROM`.
public struct Stage: Sendable {
    /// The `AS` name, lower-cased.
    public var name: String?
    /// The image reference as written (may use global ARGs: `FROM alpine:${VERSION}`).
    public var baseImage: String
    public var platform: String?
    public var instructions: [StageInstruction]
    /// The stage's `FROM` instruction.
    public var source: Instruction

    public init(name: String?, baseImage: String, platform: String?, instructions: [StageInstruction],
                source: Instruction) {
        self.name = name
        self.baseImage = baseImage
        self.platform = platform
        self.instructions = instructions
        self.source = source
    }
}

/// An instruction of a stage, interpreted, with the parsed instruction it came from (for
/// line numbers in messages and the text recorded in image history).
public struct StageInstruction: Sendable {
    public var instruction: TypedInstruction
    public var source: Instruction

    public init(instruction: TypedInstruction, source: Instruction) {
        self.instruction = instruction
        self.source = source
    }
}

/// A Dockerfile as stages: the ARGs before the first FROM (usable in FROM lines), then
/// every stage in order.
public struct BuildStages: Sendable {
    public var globalArguments: [BuildArgument]
    public var stages: [Stage]

    public init(globalArguments: [BuildArgument], stages: [Stage]) {
        self.globalArguments = globalArguments
        self.stages = stages
    }

    /// The stage a `--target` or `COPY --from` name refers to: its name, or its index.
    public func stage(named reference: String) -> Stage? {
        let lowered = reference.lowercased()
        if let named = stages.first(where: { $0.name == lowered }) { return named }
        if let index = Int(reference), stages.indices.contains(index) { return stages[index] }
        return nil
    }
}

extension Dockerfile {
    /// Interprets every instruction and groups them into stages (BuildKit's
    /// `instructions.Parse`).
    public func stages() throws(DockerfileError) -> BuildStages {
        var globalArguments: [BuildArgument] = []
        var stages: [Stage] = []
        var names: Set<String> = []
        for instruction in instructions {
            let typed = try TypedInstruction(instruction)
            switch typed {
            case .from(let from):
                if let name = from.stageName {
                    guard names.insert(name).inserted else {
                        throw DockerfileError(.invalidArguments, "duplicate stage name \(goQuote(name))",
                                              line: instruction.startLine)
                    }
                }
                stages.append(Stage(name: from.stageName, baseImage: from.image, platform: from.platform,
                                    instructions: [], source: instruction))
            case .arg(let arguments) where stages.isEmpty:
                globalArguments += arguments
            default:
                guard !stages.isEmpty else {
                    throw DockerfileError(.noBuildStage,
                                          "no build stage in current context (\(instruction.keyword.uppercased()) "
                                          + "before the first FROM; only ARG may come first)",
                                          line: instruction.startLine)
                }
                stages[stages.count - 1].instructions.append(StageInstruction(instruction: typed, source: instruction))
            }
        }
        return BuildStages(globalArguments: globalArguments, stages: stages)
    }
}
