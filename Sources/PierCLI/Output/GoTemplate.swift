import Foundation

/// Why a `--format` template could not be parsed or executed. `message` is worded as
/// Go's `text/template` words it (`template: :1:2: executing "" at <.Nope>: map has
/// no entry for key "Nope"`), because users paste these errors into searches; the
/// command prefixes it with `template parsing error: ` as docker does.
struct TemplateError: Error, Equatable, CustomStringConvertible {
    enum Phase: Equatable, Sendable {
        case parse
        case execute
    }

    let phase: Phase
    let message: String

    var description: String { message }
}

/// The subset of Go's `text/template` that docker's `--format` flag offers, evaluated
/// over Engine API JSON.
///
/// Supported: text, `{{.Field}}` chains, `{{.}}`, `$` and `$var` (`:=`, `=`),
/// pipelines with `|`, parenthesised pipelines, string/number/bool literals,
/// `if`/`else if`/`else`, `range` (with `$i, $v :=`, `else`, `break`, `continue`),
/// `with`, comments, `{{-`/`-}}` trimming, docker's functions (`json`, `join`, `split`,
/// `upper`, `lower`, `title`, `pad`, `truncate`) and Go's built-ins (`len`, `index`,
/// `slice`, `print`, `printf`, `println`, `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `and`,
/// `or`, `not`). `define`, `template` and `block` are refused with a clear error.
///
/// Values print as Go's `fmt` prints the `map[string]any` that docker decodes:
/// objects as `map[k:v]` with sorted keys, arrays as `[a b]`, null as `<no value>`.
struct GoTemplate: Sendable {
    /// A method docker's Go context types offer that plain JSON cannot express, such
    /// as `{{.Label "com.example.key"}}` on `docker ps` rows. It receives the object
    /// the method is called on and the evaluated arguments.
    typealias Method = @Sendable (_ receiver: JSONValue, _ arguments: [JSONValue]) throws -> JSONValue

    let source: String
    let nodes: [TemplateNode]

    init(_ text: String) throws(TemplateError) {
        source = text
        let tokens = try TemplateLexer.tokens(of: Array(text.utf8))
        var parser = TemplateParser(tokens: tokens)
        nodes = try parser.parseTemplate()
    }

    /// Executes the template with `value` as `.` and `$`. A field followed by
    /// arguments whose name is in `methods` calls that method instead of failing.
    func render(_ value: JSONValue, methods: [String: Method] = [:]) throws(TemplateError) -> String {
        var execution = TemplateExecution(source: Array(source.utf8), root: value, methods: methods)
        _ = try execution.run(nodes, dot: value)
        return execution.output
    }

    /// Renders the header row of a `table` format as docker does: the same template
    /// over the column titles (`["ID": "CONTAINER ID", ...]`), with `json`, `split`,
    /// `join`, `title`, `lower`, `upper` and `truncate` returning their first argument
    /// unchanged, so `{{upper .Names}}` is headed `NAMES` and not transformed.
    ///
    /// docker ignores an error while rendering the header and prints what was written
    /// before it (a `{{.Label "x"}}` column has no title); so does this.
    func renderHeader(_ titles: JSONValue) -> String {
        var execution = TemplateExecution(source: Array(source.utf8), root: titles, isHeader: true)
        _ = try? execution.run(nodes, dot: titles)
        return execution.output
    }

    /// docker turns the two-character sequences `\t` and `\n` of a `--format` argument
    /// into a tab and a newline before parsing (shells pass them through literally).
    static func expandEscapes(_ format: String) -> String {
        format.replacingOccurrences(of: "\\t", with: "\t").replacingOccurrences(of: "\\n", with: "\n")
    }
}
