import Foundation
import PierDockerfile
import Testing

/// BuildKit's shell-lexer tables: `envVarTest` (expansion, one string) and `wordsTest`
/// (expansion then word splitting).
@Suite struct ShellConformanceTests {
    /// The environment every `envVarTest` row is expanded in.
    static let environment = ["PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""]

    struct EnvVarRow: Sendable, CustomTestStringConvertible {
        let line: Int
        let input: String
        /// nil: the expansion must fail.
        let expected: String?
        var testDescription: String { "line \(line): \(input)" }
    }

    /// Rows for all platforms (`A`) and Unix (`U`); Windows rows (`W`) do not apply.
    static let envVarRows: [EnvVarRow] = {
        guard let text = try? Conformance.text("dockerfile-shell/envVarTest") else { return [] }
        var rows: [EnvVarRow] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !rawLine.hasPrefix("#") else { continue }
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { continue }
            let fields = line.split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 3, fields[0] == "A" || fields[0] == "U" else { continue }
            rows.append(EnvVarRow(line: index + 1, input: fields[1],
                                  expected: fields[2] == "error" ? nil : fields[2]))
        }
        return rows
    }()

    struct WordsRow: Sendable, CustomTestStringConvertible {
        let line: Int
        let input: String
        let environment: [String: String]
        /// ["error"]: the expansion must fail.
        let expected: [String]
        var testDescription: String { "line \(line): \(input)" }
    }

    static let wordsRows: [WordsRow] = {
        guard let text = try? Conformance.text("dockerfile-shell/wordsTest") else { return [] }
        var rows: [WordsRow] = []
        var environment: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(rawLine)
            guard !line.hasPrefix("#"), !line.isEmpty else { continue }
            if line.hasPrefix("ENV ") {
                let assignment = line.dropFirst(3).drop(while: { $0 == " " })
                let parts = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                environment[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
                continue
            }
            let fields = line.split(separator: "|", omittingEmptySubsequences: false)
            guard fields.count == 2 else { continue }
            let expected = fields[1].drop(while: { $0 == " " })
                .split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            rows.append(WordsRow(line: index + 1, input: fields[0].trimmingCharacters(in: .whitespaces),
                                 environment: environment, expected: expected))
        }
        return rows
    }()

    @Test func tablesAreComplete() {
        #expect(Self.envVarRows.count == 228)
        #expect(Self.wordsRows.count == 24)
    }

    @Test(arguments: envVarRows)
    func envVar(_ row: EnvVarRow) throws {
        let lexer = ShellLexer(escape: "\\")
        if let expected = row.expected {
            #expect(try lexer.expand(row.input, environment: Self.environment) == expected)
        } else {
            #expect(throws: DockerfileError.self) {
                try lexer.expand(row.input, environment: Self.environment)
            }
        }
    }

    @Test(arguments: wordsRows)
    func words(_ row: WordsRow) throws {
        let lexer = ShellLexer(escape: "\\")
        if row.expected == ["error"] {
            #expect(throws: DockerfileError.self) {
                try lexer.words(row.input, environment: row.environment)
            }
        } else {
            #expect(try lexer.words(row.input, environment: row.environment) == row.expected)
        }
    }
}
