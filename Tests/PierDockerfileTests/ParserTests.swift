import PierDockerfile
import Testing

/// Parser behaviour beyond BuildKit's corpus: heredocs, directives, errors, line numbers.
@Suite struct ParserTests {
    struct HeredocCase: Sendable, CustomTestStringConvertible {
        let dockerfile: String
        let expected: [Heredoc]
        var testDescription: String { dockerfile.split(separator: "\n").first.map(String.init) ?? "" }
    }

    static let heredocCases: [HeredocCase] = [
        HeredocCase(dockerfile: "RUN <<EOF\necho hi\nEOF\n",
                    expected: [Heredoc(name: "EOF", content: "echo hi\n")]),
        HeredocCase(dockerfile: "RUN <<EOF\nEOF\n", expected: [Heredoc(name: "EOF")]),
        HeredocCase(dockerfile: "RUN 5<<DATA\nx\nDATA\n",
                    expected: [Heredoc(name: "DATA", fileDescriptor: 5, content: "x\n")]),
        HeredocCase(dockerfile: "RUN <<-END\n\tone\n\t\ttwo\n\tEND\n",
                    expected: [Heredoc(name: "END", chomp: true, content: "\tone\n\t\ttwo\n")]),
        HeredocCase(dockerfile: "RUN <<'RAW'\necho $HOME\nRAW\n",
                    expected: [Heredoc(name: "RAW", expand: false, content: "echo $HOME\n")]),
        HeredocCase(dockerfile: "RUN <<\"RAW\"\nx\nRAW\n",
                    expected: [Heredoc(name: "RAW", expand: false, content: "x\n")]),
        HeredocCase(dockerfile: "RUN <<EN'D'\nx\nEND\n",
                    expected: [Heredoc(name: "END", expand: false, content: "x\n")]),
        HeredocCase(dockerfile: "RUN <<A\\'B\nx\nA'B\n",
                    expected: [Heredoc(name: "A'B", content: "x\n")]),
        HeredocCase(dockerfile: "RUN <<'two words'\nx\ntwo words\n",
                    expected: [Heredoc(name: "two words", expand: false, content: "x\n")]),
        HeredocCase(dockerfile: "RUN <<  SPACED  > out\nx\nSPACED\n",
                    expected: [Heredoc(name: "SPACED", content: "x\n")]),
        HeredocCase(dockerfile: "RUN <<PY python3\nprint(1)\nPY\n",
                    expected: [Heredoc(name: "PY", content: "print(1)\n")]),
        HeredocCase(dockerfile: "RUN --mount=type=cache,target=/c <<EOF\nls\nEOF\n",
                    expected: [Heredoc(name: "EOF", content: "ls\n")]),
        HeredocCase(dockerfile: "COPY <<ONE <<TWO /dest/\nfirst\nONE\nsecond\nTWO\n",
                    expected: [Heredoc(name: "ONE", content: "first\n"), Heredoc(name: "TWO", content: "second\n")]),
        HeredocCase(dockerfile: "COPY <<A <<B /d\nB\nA\nA\nB\n",
                    expected: [Heredoc(name: "A", content: "B\n"), Heredoc(name: "B", content: "A\n")]),
        HeredocCase(dockerfile: "COPY <<EOF /quotes\n\"a\"\n'b'\nEOF\n",
                    expected: [Heredoc(name: "EOF", content: "\"a\"\n'b'\n")]),
        HeredocCase(dockerfile: "RUN <<EOF\n# not a comment here\nEOF\n",
                    expected: [Heredoc(name: "EOF", content: "# not a comment here\n")]),
        HeredocCase(dockerfile: "RUN \"<<NOT\"\n", expected: []),
        HeredocCase(dockerfile: "RUN [\"<<NOT\"]\n", expected: []),
        HeredocCase(dockerfile: "USER <<NOT\n", expected: []),
        HeredocCase(dockerfile: "RUN <<$VAR\n$VAR\n", expected: [Heredoc(name: "$VAR")]),
    ]

    @Test(arguments: heredocCases)
    func heredocs(_ testCase: HeredocCase) throws {
        let dockerfile = try Dockerfile(parsing: "FROM alpine\n" + testCase.dockerfile + "RUN after\n")
        #expect(dockerfile.instructions.count == 3)
        #expect(dockerfile.instructions[1].heredocs == testCase.expected)
        #expect(dockerfile.instructions[2].arguments == ["after"])
    }

    @Test func heredocLinesCountTowardsTheInstruction() throws {
        let dockerfile = try Dockerfile(parsing: "FROM a\nRUN <<EOF\none\ntwo\nEOF\nRUN b\n")
        #expect(dockerfile.instructions.map(\.startLine) == [1, 2, 6])
        #expect(dockerfile.instructions.map(\.endLine) == [1, 5, 6])
    }

    @Test func heredocOnOnbuildTrigger() throws {
        let dockerfile = try Dockerfile(parsing: "FROM a\nONBUILD RUN <<EOF\nmake\nEOF\n")
        let onbuild = dockerfile.instructions[1]
        #expect(onbuild.trigger?.keyword == "run")
        #expect(onbuild.heredocs == [Heredoc(name: "EOF", content: "make\n")])
        #expect(onbuild.sExpression == "onbuild (run \"<<EOF\")")
    }

    @Test func unterminatedHeredocIsAnError() {
        #expect {
            try Dockerfile(parsing: "FROM a\nRUN <<EOF\necho\n")
        } throws: { error in
            let error = error as? DockerfileError
            return error?.code == .unterminatedHeredoc && error?.line == 2
        }
    }

    @Test func directives() throws {
        let dockerfile = try Dockerfile(parsing: """
            # syntax=docker/dockerfile:1.7
            #  Escape = `
            # check=skip=JSONArgsRecommended;error=true
            FROM alpine
            RUN echo a `
                b
            """)
        #expect(dockerfile.directive("syntax") == "docker/dockerfile:1.7")
        #expect(dockerfile.directive("escape") == "`")
        #expect(dockerfile.directive("check") == "skip=JSONArgsRecommended;error=true")
        #expect(dockerfile.directives.map(\.line) == [1, 2, 3])
        #expect(dockerfile.escape == "`")
        #expect(dockerfile.instructions[1].arguments == ["echo a     b"])
    }

    @Test func directivesStopAtTheFirstOtherLine() throws {
        let dockerfile = try Dockerfile(parsing: "# a comment\n# escape=`\nFROM alpine\n")
        #expect(dockerfile.directives.isEmpty)
        #expect(dockerfile.escape == "\\")
    }

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        let dockerfile: String
        let code: DockerfileError.Code
        let description: String
        var testDescription: String { description }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(dockerfile: "FROM a\nRUN x\n\n\n\n\nFOOBAR baz\n", code: .unknownInstruction,
                  description: "Dockerfile:7: unknown instruction: FOOBAR"),
        ErrorCase(dockerfile: "FROM a\nRUNN make\n", code: .unknownInstruction,
                  description: "Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)"),
        ErrorCase(dockerfile: "FROM a\nONBUILD FOO x\n", code: .unknownInstruction,
                  description: "Dockerfile:2: unknown instruction: FOO"),
        ErrorCase(dockerfile: "FROM a\nENV PATH\n", code: .invalidArguments,
                  description: "Dockerfile:2: ENV must have two arguments"),
        ErrorCase(dockerfile: "FROM a\nLABEL a=b c\n", code: .invalidArguments,
                  description: "Dockerfile:2: Syntax error - can't find = in \"c\". Must be of the form: name=value"),
        ErrorCase(dockerfile: "FROM a\nCMD [1, 2]\n", code: .invalidArguments,
                  description: "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only"),
        ErrorCase(dockerfile: "# escape=x\nFROM a\n", code: .invalidDirective,
                  description: "Dockerfile:1: invalid escape token 'x' does not match ` or \\"),
        ErrorCase(dockerfile: "# syntax=a\n# syntax=b\nFROM a\n", code: .invalidDirective,
                  description: "Dockerfile:2: only one syntax parser directive can be used"),
        ErrorCase(dockerfile: "\n\n# only a comment\n", code: .noInstructions,
                  description: "Dockerfile: file with no instructions"),
    ]

    @Test(arguments: errorCases)
    func errors(_ testCase: ErrorCase) {
        #expect {
            try Dockerfile(parsing: testCase.dockerfile)
        } throws: { error in
            guard let error = error as? DockerfileError else { return false }
            return error.code == testCase.code && error.description == testCase.description
        }
    }

    @Test func keywordsAreCaseInsensitiveAndOriginalTextIsKept() throws {
        let dockerfile = try Dockerfile(parsing: "from alpine AS Base\n  Run echo \\\n  hi # not a comment\n")
        #expect(dockerfile.instructions.map(\.keyword) == ["from", "run"])
        #expect(dockerfile.instructions[1].original == "Run echo   hi # not a comment")
        #expect(dockerfile.instructions[1].arguments == ["echo   hi # not a comment"])
        #expect(dockerfile.instructions[1].startLine == 2)
        #expect(dockerfile.instructions[1].endLine == 3)
    }

    @Test func flagsAreSplitFromArguments() throws {
        let dockerfile = try Dockerfile(parsing: """
            FROM --platform=linux/arm64 alpine
            COPY --from=build --chown="app user" /out /app
            RUN --mount=type=cache,target=/root/.cache --network=none ["make"]
            """)
        #expect(dockerfile.instructions[0].flags == ["--platform=linux/arm64"])
        #expect(dockerfile.instructions[1].flags == ["--from=build", "--chown=app user"])
        #expect(dockerfile.instructions[1].arguments == ["/out", "/app"])
        #expect(dockerfile.instructions[2].flags == ["--mount=type=cache,target=/root/.cache", "--network=none"])
        #expect(dockerfile.instructions[2].arguments == ["make"])
        #expect(dockerfile.instructions[2].isJSONForm)
    }

    @Test func windowsLineEndingsAndByteOrderMark() throws {
        let dockerfile = try Dockerfile(parsing: "\u{FEFF}FROM alpine\r\nRUN a \\\r\n  b\r\n")
        #expect(dockerfile.sExpression == "(from \"alpine\")\n(run \"a   b\")\n")
    }

    @Test func emptyContinuationLinesWarn() throws {
        let dockerfile = try Dockerfile(parsing: "FROM a\nRUN one \\\n\n  two\n")
        #expect(dockerfile.instructions[1].arguments == ["one   two"])
        #expect(dockerfile.warnings.count == 1)
        #expect(dockerfile.warnings.first?.line == 4)
    }
}
