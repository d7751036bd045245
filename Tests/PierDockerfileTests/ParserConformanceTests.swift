import Foundation
import PierDockerfile
import Testing

/// BuildKit's parser corpus: every positive case must print exactly its `result`, every
/// negative case must fail with a clear error, and `line/Dockerfile` must carry BuildKit's
/// start and end lines.
@Suite struct ParserConformanceTests {
    static let positiveCases = Conformance.caseNames("dockerfile-parser/positive")
    static let negativeCases = Conformance.caseNames("dockerfile-parser/negative")

    @Test func corpusIsComplete() {
        #expect(Self.positiveCases.count == 33)
        #expect(Self.negativeCases.count == 4)
    }

    @Test(arguments: positiveCases)
    func positive(_ name: String) throws {
        let source = try Conformance.text("dockerfile-parser/positive/\(name)/Dockerfile")
        let expected = try Conformance.text("dockerfile-parser/positive/\(name)/result")
        let dockerfile = try Dockerfile(parsing: source)
        #expect(dockerfile.sExpression == expected)
    }

    /// What each negative case must say.
    static let negativeMessages: [String: String] = [
        "empty_dockerfile": "Dockerfile: file with no instructions",
        "env_no_value": "Dockerfile:3: ENV must have two arguments",
        "only_comments": "Dockerfile: file with no instructions",
        "shykes-nested-json": "Dockerfile:1: when using JSON array syntax, arrays must be comprised of strings only",
    ]

    @Test(arguments: negativeCases)
    func negative(_ name: String) throws {
        let source = try Conformance.text("dockerfile-parser/negative/\(name)/Dockerfile")
        #expect {
            try Dockerfile(parsing: source)
        } throws: { error in
            (error as? DockerfileError)?.description == Self.negativeMessages[name]
        }
    }

    /// BuildKit's TestParseIncludesLineNumbers: FROM on line 5, ENV on 11-12 (a continuation),
    /// RUN on 17-31 (a continuation with blank lines and comments inside).
    struct LineCase: Sendable, CustomTestStringConvertible {
        let index: Int
        let keyword: String
        let startLine: Int
        let endLine: Int
        var testDescription: String { "\(keyword) \(startLine)-\(endLine)" }
    }

    static let lineCases = [
        LineCase(index: 0, keyword: "from", startLine: 5, endLine: 5),
        LineCase(index: 1, keyword: "env", startLine: 11, endLine: 12),
        LineCase(index: 2, keyword: "run", startLine: 17, endLine: 31),
    ]

    @Test(arguments: lineCases)
    func lineNumbers(_ expected: LineCase) throws {
        let dockerfile = try Dockerfile(parsing: Conformance.text("dockerfile-parser/line/Dockerfile"))
        try #require(dockerfile.instructions.count == Self.lineCases.count)
        let instruction = dockerfile.instructions[expected.index]
        #expect(instruction.keyword == expected.keyword)
        #expect(instruction.startLine == expected.startLine)
        #expect(instruction.endLine == expected.endLine)
    }
}
