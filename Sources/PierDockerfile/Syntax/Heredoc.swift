/// A here-document attached to `RUN`, `COPY` or `ADD`: `RUN <<EOF` ... `EOF`.
public struct Heredoc: Sendable, Equatable {
    /// The terminator word with its quotes removed (`<<'EOF'` → `EOF`).
    public var name: String
    /// The descriptor it feeds (`3<<EOF` → 3; 0 when none is given).
    public var fileDescriptor: Int
    /// False when any part of the terminator was quoted: the content is then taken literally,
    /// with no variable expansion.
    public var expand: Bool
    /// `<<-EOF`: leading tabs are stripped from every content line (and the terminator).
    public var chomp: Bool
    /// The lines between the instruction and the terminator, each with its newline.
    public var content: String

    public init(name: String, fileDescriptor: Int = 0, expand: Bool = true, chomp: Bool = false,
                content: String = "") {
        self.name = name
        self.fileDescriptor = fileDescriptor
        self.expand = expand
        self.chomp = chomp
        self.content = content
    }

    /// The content as the build sees it: with leading tabs removed from each line for `<<-`.
    public var effectiveContent: String {
        chomp ? Heredoc.removingLeadingTabs(content) : content
    }

    static func removingLeadingTabs(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var atLineStart = true
        for scalar in text.unicodeScalars {
            if atLineStart && scalar == "\t" { continue }
            atLineStart = scalar == "\n"
            out.append(scalar)
        }
        return String(out)
    }
}
