import PierDockerfile
import Testing

/// Expansion features the conformance table does not cover.
@Suite struct ShellLexerTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let input: String
        let expected: String
        var testDescription: String { input }
    }

    static let environment = [
        "PATHY": "/usr/local/bin/tool.tar.gz",
        "EMPTY": "",
        "WORDS": "one two one",
    ]

    static let patternCases = [
        Case(input: "${PATHY#*/}", expected: "usr/local/bin/tool.tar.gz"),
        Case(input: "${PATHY##*/}", expected: "tool.tar.gz"),
        Case(input: "${PATHY%.*}", expected: "/usr/local/bin/tool.tar"),
        Case(input: "${PATHY%%.*}", expected: "/usr/local/bin/tool"),
        Case(input: "${PATHY#nomatch}", expected: "/usr/local/bin/tool.tar.gz"),
        Case(input: "${PATHY%?z}", expected: "/usr/local/bin/tool.tar."),
        Case(input: "${WORDS/one/1}", expected: "1 two one"),
        Case(input: "${WORDS//one/1}", expected: "1 two 1"),
        Case(input: "${WORDS//o*e/x}", expected: "x"),
        Case(input: "${WORDS/t?o/2}", expected: "one 2 one"),
        Case(input: "${WORDS//\\//-}", expected: "one two one"),
        Case(input: "${UNSET//a/b}", expected: ""),
        Case(input: "${EMPTY-default}", expected: ""),
        Case(input: "${EMPTY:-default}", expected: "default"),
        Case(input: "${EMPTY+set}", expected: "set"),
        Case(input: "${EMPTY:+set}", expected: ""),
    ]

    @Test(arguments: patternCases)
    func patterns(_ testCase: Case) throws {
        #expect(try ShellLexer().expand(testCase.input, environment: Self.environment) == testCase.expected)
    }

    @Test func requiredVariableMessages() {
        #expect {
            try ShellLexer().expand("${TOKEN:?set TOKEN with --build-arg}", environment: ["TOKEN": ""])
        } throws: { error in
            (error as? DockerfileError)?.message
                == "failed to process \"${TOKEN:?set TOKEN with --build-arg}\": TOKEN: set TOKEN with --build-arg"
        }
        #expect {
            try ShellLexer().expand("${TOKEN?}", environment: [:])
        } throws: { error in
            (error as? DockerfileError)?.message.hasSuffix("TOKEN: is not allowed to be unset") == true
        }
    }

    @Test func reportsWhichVariablesWereRead() throws {
        let expansion = try ShellLexer().process("$A ${B:-x} '$C' \"$D\" ${E+y}",
                                                 environment: ["A": "1", "D": "4", "E": ""])
        #expect(expansion.result == "1 x $C 4 y")
        #expect(expansion.usedVariables == ["A", "D", "E"])
        #expect(expansion.unsetVariables == ["B"])
    }

    @Test func backtickEscape() throws {
        let lexer = ShellLexer(escape: "`")
        #expect(try lexer.expand("C:\\dir `$HOME `\"x`\"", environment: ["HOME": "h"]) == "C:\\dir $HOME \"x\"")
        #expect(try lexer.words("a` b c", environment: [:]) == ["a b", "c"])
    }

    @Test func keepsUnsetVariablesWhenAsked() throws {
        var lexer = ShellLexer()
        lexer.keepsUnsetVariables = true
        #expect(try lexer.expand("$SET $UNSET ${UNSET} ${UNSET:-d}", environment: ["SET": "s"])
                == "s $UNSET ${UNSET} ${UNSET:-d}")
    }

    @Test func commandSubstitutionIsNotRun() throws {
        #expect(try ShellLexer().expand("$(id -u) `id`", environment: [:]) == "$(id -u) `id`")
    }
}
