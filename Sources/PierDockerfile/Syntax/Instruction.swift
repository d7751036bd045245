/// One instruction of a Dockerfile as the parser sees it: the keyword, its `--flags` and its
/// arguments, not yet interpreted (see `TypedInstruction` for that).
///
/// The argument layout follows BuildKit's parse tree, so the builder and the conformance
/// dump agree with the reference:
/// - exec form (`isJSONForm`): one argument per array element;
/// - shell form (`RUN`, `CMD`, `ENTRYPOINT`, `SHELL`, `MAINTAINER`, `USER`, `WORKDIR`,
///   `STOPSIGNAL`): one argument, the rest of the line with continuations joined;
/// - `ENV` and `LABEL`: triples of key, value, separator (`"="` for `k=v`, `""` for `ENV k v`);
/// - `HEALTHCHECK`: the type (`CMD`, `NONE`) then the command as above;
/// - `FROM`, `EXPOSE`, `ARG`, `COPY`, `ADD`, `VOLUME` (shell form): whitespace-separated words;
/// - `ONBUILD`: no arguments; the trigger is in `trigger`.
public struct Instruction: Sendable, Equatable {
    /// Lower-cased keyword: `run`, `copy`, ...
    public var keyword: String
    /// The flags as written, quotes removed: `["--from=build", "--chown=1000"]`.
    public var flags: [String]
    public var arguments: [String]
    /// The arguments were a JSON array of strings (exec form).
    public var isJSONForm: Bool
    public var heredocs: [Heredoc]
    /// 1-based first and last line in the Dockerfile (continuations and heredocs included).
    public var startLine: Int
    public var endLine: Int
    /// The instruction's text with line continuations joined and comment lines dropped,
    /// as BuildKit records it (for messages and image history).
    public var original: String
    /// Storage for the `ONBUILD` trigger (an array lets the value type nest).
    private var nested: [Instruction]

    public init(keyword: String, flags: [String] = [], arguments: [String] = [], isJSONForm: Bool = false,
                heredocs: [Heredoc] = [], startLine: Int, endLine: Int, original: String,
                trigger: Instruction? = nil) {
        self.keyword = keyword
        self.flags = flags
        self.arguments = arguments
        self.isJSONForm = isJSONForm
        self.heredocs = heredocs
        self.startLine = startLine
        self.endLine = endLine
        self.original = original
        self.nested = trigger.map { [$0] } ?? []
    }

    /// The instruction an `ONBUILD` wraps: `ONBUILD RUN make` → the `RUN make` instruction.
    public var trigger: Instruction? {
        get { nested.first }
        set { nested = newValue.map { [$0] } ?? [] }
    }
}
