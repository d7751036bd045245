import Foundation
import PierDockerfile
import Testing

/// moby/patternmatcher's TestMatches table (MatchesOrParentMatches).
@Suite struct DockerIgnoreConformanceTests {
    struct Case: Sendable, Decodable, CustomTestStringConvertible {
        let patterns: [String]
        let path: String
        let excluded: Bool
        var testDescription: String {
            "\(patterns.joined(separator: " ")) \(excluded ? "excludes" : "keeps") \(path)"
        }
    }

    private struct Table: Decodable {
        let cases: [Case]
    }

    static let cases: [Case] = {
        guard let data = try? Data(contentsOf: Conformance.url("dockerignore/cases.json")),
              let table = try? JSONDecoder().decode(Table.self, from: data) else { return [] }
        return table.cases
    }()

    @Test func tableIsComplete() {
        #expect(Self.cases.count == 71)
    }

    @Test(arguments: cases)
    func matchesFromPatternList(_ testCase: Case) throws {
        let ignore = try DockerIgnore(patterns: testCase.patterns)
        #expect(ignore.isExcluded(testCase.path) == testCase.excluded)
    }

    /// The same patterns written as a `.dockerignore` file give the same answer.
    @Test(arguments: cases)
    func matchesFromFileText(_ testCase: Case) throws {
        let ignore = try DockerIgnore(testCase.patterns.joined(separator: "\n") + "\n")
        #expect(ignore.isExcluded(testCase.path) == testCase.excluded)
    }
}
